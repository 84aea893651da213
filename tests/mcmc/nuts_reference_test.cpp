// The fast iterative NUTS against a slow, plain transcription of Stan's
// recursive base_nuts (>= 2.21), run with the same key schedule: both must
// return the same point, depth, step count, flags and statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "nutshell/mcmc/nuts.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using nuts::KeySchedule;

// Stan's base_nuts::transition and build_tree, transcribed line by line:
// recursion, fresh vectors at every node, Stan's variable names. Only the
// random numbers differ from Stan: they come from the KeySchedule, addressed
// by (expansion, leaf where the right half starts), instead of a stream; and
// the leapfrog is nutshell's leaf_step, which for dense and low-rank metrics
// carries v = M^-1 p along the trajectory instead of recomputing it (equal
// in exact arithmetic; the fast kernel does the same, so both round alike).
template <class F>
class ReferenceNuts {
 public:
  struct Result {
    Vec position;
    double logdensity = 0.0;
    Vec grad;
    double energy = 0.0;
    int depth = 0;
    int n_leapfrog = 0;
    bool divergent = false;
    bool turning = false;
    double accept_prob = 0.0;
    double symmetric_accept_prob = 0.0;  ///< mean of 2 / (1 + exp(|H0 - h|)) (nuts-rs)
  };

  ReferenceNuts(F& f, Metric metric, double epsilon, Integrator integrator, int max_depth)
      : f_(f),
        metric_(std::move(metric)),
        epsilon_(epsilon),
        integrator_(integrator),
        max_depth_(max_depth) {}

  /// The step size of the following transitions (a jittered kernel's draw).
  void set_epsilon(double epsilon) { epsilon_ = epsilon; }

  Result transition(const Key& key, const GradientState& init) {
    KeySchedule rng(key);
    sum_symmetric_prob_ = 0.0;
    const std::size_t n = init.position.size();
    Vec p = xt::zeros<double>({n});
    // As the kernel: non-diagonal metrics take M^-1 p from the draw.
    Vec v = xt::zeros<double>({n});
    const bool diagonal = metric_.is_diagonal();
    if (diagonal)
      metric_.sample_momentum(rng.momentum_key(), p);
    else
      metric_.sample_momentum(rng.momentum_key(), p, v);
    z_ = IntegratorState{init.position, p, init.logdensity, init.logdensity_grad};
    nuts::detail::start_carrying(metric_, z_, carried_, diagonal ? nullptr : &v);

    Point z_fwd = point(z_), z_bck = point(z_), z_sample = point(z_), z_propose = point(z_);
    Vec p_fwd_fwd = z_.momentum;
    Vec p_sharp_fwd_fwd = dtau_dp(z_);
    Vec p_fwd_bck = z_.momentum;
    Vec p_sharp_fwd_bck = p_sharp_fwd_fwd;
    Vec p_bck_fwd = z_.momentum;
    Vec p_sharp_bck_fwd = p_sharp_fwd_fwd;
    Vec p_bck_bck = z_.momentum;
    Vec p_sharp_bck_bck = p_sharp_fwd_fwd;
    Vec rho = z_.momentum;
    double log_sum_weight = 0;
    const double H0 = hamiltonian(z_);
    z_sample.h = H0;
    int n_leapfrog = 0;
    double sum_metro_prob = 0;
    depth_ = 0;
    divergent_ = false;
    bool turning = false;

    while (depth_ < max_depth_) {
      expansion_ = depth_;
      Vec rho_fwd = xt::zeros<double>({n});
      Vec rho_bck = xt::zeros<double>({n});
      bool valid_subtree = false;
      double log_sum_weight_subtree = -std::numeric_limits<double>::infinity();
      if (rng.direction(expansion_) > 0) {
        restore(z_fwd);
        rho_bck = rho;
        p_bck_fwd = p_fwd_fwd;
        p_sharp_bck_fwd = p_sharp_fwd_fwd;
        valid_subtree = build_tree(rng, depth_, 0, z_propose, p_sharp_fwd_bck, p_sharp_fwd_fwd,
                                   rho_fwd, p_fwd_bck, p_fwd_fwd, H0, 1, n_leapfrog,
                                   log_sum_weight_subtree, sum_metro_prob);
        z_fwd = point(z_);
      } else {
        restore(z_bck);
        rho_fwd = rho;
        p_fwd_bck = p_bck_bck;
        p_sharp_fwd_bck = p_sharp_bck_bck;
        valid_subtree = build_tree(rng, depth_, 0, z_propose, p_sharp_bck_fwd, p_sharp_bck_bck,
                                   rho_bck, p_bck_fwd, p_bck_bck, H0, -1, n_leapfrog,
                                   log_sum_weight_subtree, sum_metro_prob);
        z_bck = point(z_);
      }
      if (!valid_subtree) {
        turning = !divergent_;
        break;
      }
      ++depth_;
      if (log_sum_weight_subtree > log_sum_weight) {
        z_sample = z_propose;
      } else {
        const double accept_prob = std::exp(log_sum_weight_subtree - log_sum_weight);
        if (rng.merge_uniform(expansion_) < accept_prob) z_sample = z_propose;
      }
      log_sum_weight = log_sum_exp(log_sum_weight, log_sum_weight_subtree);
      rho = rho_bck + rho_fwd;
      bool persist_criterion = compute_criterion(p_sharp_bck_bck, p_sharp_fwd_fwd, rho);
      Vec rho_extended = rho_bck + p_fwd_bck;
      persist_criterion &= compute_criterion(p_sharp_bck_bck, p_sharp_fwd_bck, rho_extended);
      rho_extended = rho_fwd + p_bck_fwd;
      persist_criterion &= compute_criterion(p_sharp_bck_fwd, p_sharp_fwd_fwd, rho_extended);
      if (!persist_criterion) {
        turning = true;
        break;
      }
    }
    Result r;
    r.position = z_sample.q;
    r.logdensity = z_sample.logp;
    r.grad = z_sample.g;
    r.energy = z_sample.h;
    r.depth = depth_;
    r.n_leapfrog = n_leapfrog;
    r.divergent = divergent_;
    r.turning = turning;
    r.accept_prob = sum_metro_prob / static_cast<double>(n_leapfrog);
    r.symmetric_accept_prob = sum_symmetric_prob_ / static_cast<double>(n_leapfrog);
    return r;
  }

 private:
  struct Point {
    Vec q, p, g;
    double logp = 0.0;
    double h = 0.0;
    nuts::detail::CarriedVelocity carried;
  };

  Point point(const IntegratorState& z) const {
    return Point{z.position, z.momentum, z.logdensity_grad, z.logdensity, 0.0, carried_};
  }
  void restore(const Point& a) {
    z_ = IntegratorState{a.q, a.p, a.logp, a.g};
    carried_ = a.carried;
  }

  static double dot(const Vec& a, const Vec& b) {
    return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
  }
  // M^-1 p at the initial point: for non-diagonal metrics the one carried
  // from the draw, as in the kernel.
  Vec dtau_dp(const IntegratorState& z) const {
    if (!metric_.is_diagonal()) return carried_.velocity;
    Vec v = xt::zeros<double>({z.momentum.size()});
    metric_.velocity(z.momentum, v);
    return v;
  }
  double hamiltonian(const IntegratorState& z) const {
    return -z.logdensity + 0.5 * dot(z.momentum, dtau_dp(z));
  }
  static bool compute_criterion(const Vec& p_sharp_minus, const Vec& p_sharp_plus, const Vec& rho) {
    return dot(p_sharp_plus, rho) > 0 && dot(p_sharp_minus, rho) > 0;
  }
  static double log_sum_exp(double a, double b) {
    const double inf = std::numeric_limits<double>::infinity();
    if (a == -inf) return b;
    if (a == inf && b == inf) return inf;
    if (a > b) return a + std::log1p(std::exp(b - a));
    return b + std::log1p(std::exp(a - b));
  }

  bool build_tree(KeySchedule& rng, int depth, std::uint64_t first_leaf, Point& z_propose,
                  Vec& p_sharp_beg, Vec& p_sharp_end, Vec& rho, Vec& p_beg, Vec& p_end, double H0,
                  double sign, int& n_leapfrog, double& log_sum_weight, double& sum_metro_prob) {
    if (depth == 0) {
      Vec p_sharp = xt::zeros<double>({z_.position.size()});
      double unused = 0.0;
      auto s = nuts::detail::leaf_step(integrator_, metric_, f_, z_, carried_, sign * epsilon_,
                                       p_sharp.data(), unused);
      EXPECT_TRUE(s.ok()) << s;
      ++n_leapfrog;
      double h = -z_.logdensity + 0.5 * dot(z_.momentum, p_sharp);
      if (std::isnan(h)) h = std::numeric_limits<double>::infinity();
      if ((h - H0) > 1000.0) divergent_ = true;
      log_sum_weight = log_sum_exp(log_sum_weight, H0 - h);
      if (H0 - h > 0)
        sum_metro_prob += 1;
      else
        sum_metro_prob += std::exp(H0 - h);
      sum_symmetric_prob_ += 2.0 / (1.0 + std::exp(std::abs(H0 - h)));
      z_propose = point(z_);
      z_propose.h = h;
      p_sharp_beg = p_sharp;
      p_sharp_end = p_sharp_beg;
      rho += z_.momentum;
      p_beg = z_.momentum;
      p_end = p_beg;
      return !divergent_;
    }
    const std::size_t n = z_.position.size();
    const std::uint64_t half = std::uint64_t{1} << (depth - 1);

    double log_sum_weight_init = -std::numeric_limits<double>::infinity();
    Vec p_init_end = xt::zeros<double>({n});
    Vec p_sharp_init_end = xt::zeros<double>({n});
    Vec rho_init = xt::zeros<double>({n});
    const bool valid_init =
        build_tree(rng, depth - 1, first_leaf, z_propose, p_sharp_beg, p_sharp_init_end, rho_init,
                   p_beg, p_init_end, H0, sign, n_leapfrog, log_sum_weight_init, sum_metro_prob);
    if (!valid_init) return false;

    Point z_propose_final = point(z_);
    double log_sum_weight_final = -std::numeric_limits<double>::infinity();
    Vec p_final_beg = xt::zeros<double>({n});
    Vec p_sharp_final_beg = xt::zeros<double>({n});
    Vec rho_final = xt::zeros<double>({n});
    const bool valid_final = build_tree(
        rng, depth - 1, first_leaf + half, z_propose_final, p_sharp_final_beg, p_sharp_end,
        rho_final, p_final_beg, p_end, H0, sign, n_leapfrog, log_sum_weight_final, sum_metro_prob);
    if (!valid_final) return false;

    const double log_sum_weight_subtree = log_sum_exp(log_sum_weight_init, log_sum_weight_final);
    log_sum_weight = log_sum_exp(log_sum_weight, log_sum_weight_subtree);
    if (log_sum_weight_final > log_sum_weight_subtree) {
      z_propose = z_propose_final;
    } else {
      const double accept_prob = std::exp(log_sum_weight_final - log_sum_weight_subtree);
      if (rng.subtree_uniform(expansion_, first_leaf + half) < accept_prob)
        z_propose = z_propose_final;
    }
    Vec rho_subtree = rho_init + rho_final;
    rho += rho_subtree;
    bool persist_criterion = compute_criterion(p_sharp_beg, p_sharp_end, rho_subtree);
    rho_subtree = rho_init + p_final_beg;
    persist_criterion &= compute_criterion(p_sharp_beg, p_sharp_final_beg, rho_subtree);
    rho_subtree = rho_final + p_init_end;
    persist_criterion &= compute_criterion(p_sharp_init_end, p_sharp_end, rho_subtree);
    return persist_criterion;
  }

  F& f_;
  Metric metric_;
  double epsilon_;
  Integrator integrator_;
  int max_depth_;
  double sum_symmetric_prob_ = 0.0;
  IntegratorState z_;
  nuts::detail::CarriedVelocity carried_;
  int depth_ = 0;
  int expansion_ = 0;
  bool divergent_ = false;
};

struct Case {
  std::string name;
  testing::Gaussian target;
  Metric metric;
  double step_size;
  Integrator integrator = velocity_verlet;
  int max_doublings = 10;
  double start_offset = 0.0;  ///< added to every coordinate of the start
  double jitter = 0.0;        ///< Params::step_size_jitter
};

struct Coverage {
  int turning = 0, divergent = 0, max_depth = 0, deep = 0, moved = 0;
  int big_climbs = 0;  ///< transitions whose log density rose by more than 600
  int jittered = 0;    ///< transitions with a step size other than Params::step_size
};

// Runs a chain with the fast kernel and, at every step, the reference from
// the same state and key; everything must agree.
void compare_chain(Case& c, std::uint64_t seed, int num_steps, Coverage& cov) {
  SCOPED_TRACE(c.name);
  const std::size_t dim = c.target.dim();
  Vec x0 = c.target.mean() + 0.5 * normal(make_key(seed ^ 0xabcdef), dim) + c.start_offset;
  auto state = nuts::init(x0, c.target);
  ASSERT_TRUE(state.ok()) << state.status();
  const nuts::Kernel kernel{c.integrator, c.max_doublings, 1000.0, /*symmetric_acceptance=*/true};
  const nuts::Params params{c.step_size, c.metric, c.jitter};
  ReferenceNuts<testing::Gaussian> ref(c.target, c.metric, c.step_size, c.integrator,
                                       c.max_doublings);
  nuts::Workspace ws;
  nuts::State next = *state;
  nuts::Info info;
  const Key chain_key = make_key(seed);
  // 1e-12, relative beyond magnitude 1: far in the tails energies reach 1e5,
  // where the two programs' sums differ in the last bit.
  const auto tol = [](double x) { return 1e-12 * std::max(1.0, std::abs(x)); };
  for (int t = 0; t < num_steps; ++t) {
    const Key key = fold_in(chain_key, static_cast<std::uint64_t>(t));
    auto s = kernel.step_into(key, *state, c.target, params, next, info, ws);
    ASSERT_TRUE(s.ok()) << s;
    // The jitter's uniform, from its definition: the first word of
    // split_one(key, 2), on (0, 1) as every uniform.
    const double u = nutshell::detail::to_unit_open(split_one(key, 2).words[0]);
    ref.set_epsilon(c.step_size * (1.0 + c.jitter * (2.0 * u - 1.0)));
    const auto r = ref.transition(key, *state);
    ASSERT_EQ(info.num_trajectory_expansions, r.depth) << "step " << t;
    ASSERT_EQ(info.num_integration_steps, r.n_leapfrog) << "step " << t;
    ASSERT_EQ(info.is_divergent, r.divergent) << "step " << t;
    ASSERT_EQ(info.is_turning, r.turning) << "step " << t;
    for (std::size_t i = 0; i < dim; ++i) {
      ASSERT_NEAR(next.position(i), r.position(i), tol(r.position(i))) << "step " << t << " coordinate " << i;
      ASSERT_NEAR(next.logdensity_grad(i), r.grad(i), tol(r.grad(i))) << "step " << t;
    }
    ASSERT_NEAR(next.logdensity, r.logdensity, tol(r.logdensity)) << "step " << t;
    ASSERT_NEAR(info.energy, r.energy, tol(r.energy)) << "step " << t;
    ASSERT_NEAR(info.acceptance_rate, r.accept_prob, 1e-12) << "step " << t;
    ASSERT_NEAR(info.symmetric_acceptance_rate, r.symmetric_accept_prob, 1e-12) << "step " << t;
    ASSERT_DOUBLE_EQ(info.step_size, c.step_size * (1.0 + c.jitter * (2.0 * u - 1.0)));
    cov.jittered += c.jitter > 0.0 && info.step_size != c.step_size;
    cov.turning += info.is_turning;
    cov.divergent += info.is_divergent;
    cov.max_depth += info.num_trajectory_expansions == c.max_doublings;
    cov.deep += info.num_trajectory_expansions >= 3;
    cov.moved += next.position(0) != state->position(0);
    cov.big_climbs += next.logdensity - state->logdensity > 600.0;
    std::swap(*state, next);
  }
}

Mat random_spd(std::size_t n, std::uint64_t seed) {
  Mat a = xt::zeros<double>({n, n});
  const Vec z = normal(make_key(seed), n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) a(i, j) = z(i * n + j) / std::sqrt(double(n));
  Mat s = xt::zeros<double>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double acc = i == j ? 0.5 : 0.0;
      for (std::size_t k = 0; k < n; ++k) acc += a(i, k) * a(j, k);
      s(i, j) = acc;
    }
  return s;
}

Vec variances(const testing::Gaussian& g) { return xt::diagonal(g.covariance()); }

TEST(NutsReference, Correlated2dAgreesWithStanRecursion) {
  auto g = testing::Gaussian::correlated_2d();
  auto dense = Metric::dense(g.covariance());
  auto diag = Metric::diagonal(variances(g));
  ASSERT_TRUE(dense.ok() && diag.ok());
  Coverage cov;
  std::vector<Case> cases = {
      {"2d dense eps 0.85", g, *dense, 0.85},
      {"2d dense eps 0.2", g, *dense, 0.2},
      {"2d diag eps 0.5", g, *diag, 0.5},
      {"2d diag eps 1.6 (divergent)", g, *diag, 1.6},
      {"2d identity eps 0.05 max 5", g, Metric::identity(2), 0.05, velocity_verlet, 5},
      {"2d dense mclachlan", g, *dense, 1.2, mclachlan},
      {"2d diag yoshida", g, *diag, 0.6, yoshida},
      {"2d dense eps 0.85 jitter 0.1", g, *dense, 0.85, velocity_verlet, 10, 0.0, 0.1},
      {"2d diag eps 1.4 jitter 0.3", g, *diag, 1.4, velocity_verlet, 10, 0.0, 0.3},
  };
  std::uint64_t seed = 1;
  for (auto& c : cases) compare_chain(c, seed++, 400, cov);
  EXPECT_EQ(cov.jittered, 800);
  EXPECT_GT(cov.turning, 1000);
  EXPECT_GT(cov.divergent, 20);
  EXPECT_GT(cov.max_depth, 20);
  EXPECT_GT(cov.deep, 200);
  EXPECT_GT(cov.moved, 1500);
}

TEST(NutsReference, Scales10dAgreesWithStanRecursion) {
  auto g = testing::Gaussian::scales_10d();
  auto diag = Metric::diagonal(variances(g));
  auto dense = Metric::dense(random_spd(10, 77));
  // Low rank (nutpie's metric): the variances corrected along two
  // orthonormal directions; non-diagonal, so the velocity is carried.
  Mat basis = xt::zeros<double>({2, 10});
  basis(0, 0) = basis(0, 1) = 1.0 / std::sqrt(2.0);
  basis(1, 2) = 0.6;
  basis(1, 3) = -0.8;
  auto low_rank = Metric::low_rank(variances(g), basis, Vec{2.0, 0.5});
  ASSERT_TRUE(diag.ok() && dense.ok() && low_rank.ok());
  Coverage cov;
  std::vector<Case> cases = {
      {"10d diag eps 0.8", g, *diag, 0.8},
      {"10d diag eps 0.3", g, *diag, 0.3},
      {"10d diag eps 3.5 (divergent)", g, *diag, 3.5},
      {"10d dense (wrong) metric eps 0.05", g, *dense, 0.05, velocity_verlet, 7},
      {"10d identity eps 0.12 max 6", g, Metric::identity(10), 0.12, velocity_verlet, 6},
      {"10d diag yoshida", g, *diag, 1.0, yoshida},
      {"10d low rank eps 0.7", g, *low_rank, 0.7},
      {"10d low rank eps 0.7 jitter 0.1", g, *low_rank, 0.7, velocity_verlet, 10, 0.0, 0.1},
  };
  std::uint64_t seed = 100;
  for (auto& c : cases) compare_chain(c, seed++, 250, cov);
  EXPECT_GT(cov.turning, 500);
  EXPECT_GT(cov.divergent, 20);
  EXPECT_GT(cov.max_depth, 20);
  EXPECT_GT(cov.deep, 200);
}

// Far in the tails a trajectory's energy falls by more than exp() can
// hold (H0 - H > 709): the fast builder keeps its weights on a linear scale
// and must move that scale (nuts_tree.hpp, kRescaleAbove); the reference
// sums logs. Without the rescale the weights overflow to inf and the
// samples part ways.
TEST(NutsReference, FarTailsAgreeWithStanRecursion) {
  auto g = testing::Gaussian::scales_10d();
  auto diag = Metric::diagonal(variances(g));
  ASSERT_TRUE(diag.ok());
  Coverage cov;
  std::vector<Case> cases = {
      {"10d diag eps 0.3 from +60", g, *diag, 0.3, velocity_verlet, 10, 60.0},
      {"10d identity eps 0.2 from -80", g, Metric::identity(10), 0.2, velocity_verlet, 10, -80.0},
      {"10d diag yoshida from +150", g, *diag, 0.5, yoshida, 10, 150.0},
  };
  std::uint64_t seed = 300;
  for (auto& c : cases) compare_chain(c, seed++, 40, cov);
  EXPECT_GT(cov.big_climbs, 3);
}

}  // namespace
}  // namespace nutshell
