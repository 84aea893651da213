// SGLD and SGHMC on eight_schools_nc against the reference posterior (rstan,
// 4 x 10 000 draws), on the unconstrained scale (mu, log_tau, theta_raw[1..8]).
//
// The eight schools are the data set: datum j's log likelihood is
//   -0.5 ((y_j - mu - tau theta_raw_j) / sigma_j)^2,
// and the "prior" is every other term of log p (mu's normal, tau's
// half-Cauchy, the log_tau Jacobian, theta_raw's standard normals). Minibatches
// are 4 distinct schools of 8, so the estimator scales the batch by N/n = 2.
//
// Both kernels are biased by design (no Metropolis test), so "recovers the
// reference" needs a stated bias. The bound used here comes from a Richardson
// argument, which every check below relies on:
//
//   * SGLD is the Euler-Maruyama step of overdamped Langevin, weak order 1.
//     For a constant step h its invariant law satisfies
//       E_h[x] = E[x] + c h + O(h^2)
//     (Talay and Tubaro 1990; Mattingly, Stuart and Tretyakov 2010). The
//     minibatch noise adds h^2 C(x) to each step's covariance, i.e. an O(h)
//     perturbation of the diffusion coefficient, whose effect on the invariant
//     law is again linear in h to leading order (Vollmer, Zygalakis and Teh
//     2016). Halving h and doubling the number of steps simulates the same
//     diffusion time.
//   * SGHMC is run with a fixed trajectory time K h = 1 (K steps per fresh
//     momentum), so halving h (doubling K) refines the discretisation of one
//     fixed underdamped Langevin flow with momentum refreshment. Its
//     integrator is symplectic Euler (first order) and the gradient noise adds
//     h^2 V per step, O(h) per unit time: the bias is c h + O(h^2) as well
//     (Chen, Ding and Carin 2015).
//
// So for each coordinate, with m(h) the chain mean at step h,
//   D = m(h) - m(h/2) = c h / 2 + O(h^2)  estimates the bias at h/2, and twice
//                                         it the bias at h;
//   E = 2 m(h/2) - m(h) = E[x] + O(h^2)   is the Richardson extrapolant.
// The stated bias bound is B(h/2) = |D| + 4 se(D) and B(h) = 2 B(h/2), capped
// a priori by kBiasCap reference sds (see there: a larger bound would mean
// the runs are not in the small-bias regime the expansion describes). The
// test then checks, per coordinate, with se combining our MCSE and the
// reference's:
//   1. |m(h) - ref| < 4 se + B(h) and |m(h/2) - ref| < 4 se + B(h/2);
//   2. |E - ref| < 4 se(E): the bias really is first order, i.e. it halves
//      with the step. A bias that did not shrink linearly (or a chain whose
//      h -> 0 limit is not the posterior, e.g. from a wrong gradient) leaves
//      a residual of the size of D in E;
//   3. B(h) < kBiasCap sd;
//   4. some coordinate's D is resolved (|D| > 4 se(D)), so the halving of the
//      bias is observed rather than hidden in the noise.
// The O(h^2) remainder is negligible at these steps: at h, h/2, h/4 the
// log_tau bias measured -0.076, -0.037, -0.020 sd for SGLD (h = 0.04) and
// -0.136, -0.067, -0.037 sd for SGHMC (h = 0.1), ratios close to 2, which
// puts the remainder in E at a few thousandths of an sd, a tenth of its
// tolerance. (At twice these steps SGLD is no longer first order: its log_tau
// bias went from -0.11 sd at h = 0.05 to -0.49 at 0.1 and to divergence into
// the funnel's neck at 0.2.)
//
// MCSEs are posterior's mcse_mean over 4 chains (diagnostics.hpp). Chains
// start at Stan-style dispersed points and discard a burn-in.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/sgmcmc/sghmc.hpp"
#include "nutshell/sgmcmc/sgld.hpp"
#include "tests/posteriors/json_fields.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell {
namespace {

using posteriors::EightSchoolsNc;

constexpr std::size_t kChains = 4;
constexpr std::size_t kBatch = 4;
/// A priori cap on the stated bias bound at the larger step h, in reference
/// sds. The bias itself is expected below 0.15 sd at the steps used (measured
/// for log_tau, the worst coordinate, with 4 x 100 000 draws: SGLD 0.08 sd at
/// h = 0.04; SGHMC 0.136, 0.067, 0.037 sd at h = 0.1, 0.05, 0.025); the bound
/// adds 8 se(D) to the estimate.
constexpr double kBiasCap = 0.25;

/// The eight schools as rows: y_j and 1 / sigma_j^2.
struct Schools {
  std::vector<double> y, inv_var;
};

absl::StatusOr<Schools> load_schools() {
  auto f = posteriors::detail::read_posterior_json(EightSchoolsNc::kName, "data.json", {});
  if (!f.ok()) return f.status();
  auto y = posteriors::detail::get_reals(*f, f->value, "y", 8);
  if (!y.ok()) return y.status();
  auto sigma = posteriors::detail::get_reals(*f, f->value, "sigma", 8);
  if (!sigma.ok()) return sigma.status();
  Schools s{*std::move(y), {}};
  for (double v : *sigma) s.inv_var.push_back(1.0 / (v * v));
  return s;
}

/// d/du of school j's log likelihood, added into grad. With tau = exp(log_tau)
/// and r = (y_j - mu - tau theta_raw_j) / sigma_j^2: (r, tau r theta_raw_j,
/// and tau r in theta_raw_j's slot).
struct SchoolGradient {
  Schools schools;
  void operator()(const Vec& u, std::size_t j, Vec& grad) const {
    const double tau = std::exp(u(1));
    const double r = (schools.y[j] - u(0) - tau * u(2 + j)) * schools.inv_var[j];
    grad(0) += r;
    grad(1) += tau * r * u(2 + j);
    grad(2 + j) += tau * r;
  }
};

/// The gradient of everything else: mu ~ N(0, 5), tau ~ half-Cauchy(0, 5)
/// with the log_tau Jacobian (+1), theta_raw ~ N(0, 1).
struct PriorGradient {
  void operator()(const Vec& u, Vec& grad) const {
    const double tau2 = std::exp(2.0 * u(1));
    grad(0) = -u(0) / 25.0;
    grad(1) = -2.0 * tau2 / (25.0 + tau2) + 1.0;
    for (std::size_t j = 2; j < u.size(); ++j) grad(j) = -u(j);
  }
};

using Estimator = sgmcmc::GradientEstimator<SchoolGradient, PriorGradient>;

/// Pooled means and posterior's mcse_mean of one step size's chains.
struct Summary {
  Vec mean, mcse;
  double seconds = 0.0;
  std::size_t divergent = 0;
};

/// Runs kChains chains of `make_sampler()` (one per pmap task, 2 threads):
/// `burn` transitions from a dispersed start, then `steps` kept every `thin`.
template <class MakeSampler>
Summary run_chains(const EightSchoolsNc& model, const Key& key, MakeSampler make_sampler,
                   std::size_t burn, std::size_t steps, std::size_t thin) {
  struct ChainOut {
    Mat draws;
    std::size_t divergent = 0;
  };
  const auto start = std::chrono::steady_clock::now();
  auto task = [&](std::size_t, const Key& k) -> absl::StatusOr<ChainOut> {
    auto alg = make_sampler();  // this chain's own scratch
    const auto keys = split<3>(k);
    auto s0 = alg.init(model.initial_point(keys[0]));
    if (!s0.ok()) return s0.status();
    auto warm = run_inference_algorithm(keys[1], alg, *s0, burn, RunOptions{.thinning = burn});
    if (!warm.ok()) return warm.status();
    auto run = run_inference_algorithm(keys[2], alg, warm->final_state, steps,
                                       RunOptions{.thinning = thin});
    if (!run.ok()) return run.status();
    return ChainOut{std::move(run->positions), warm->num_divergent + run->num_divergent};
  };
  auto chains = pmap(key, kChains, task, PmapOptions{.num_threads = 2});
  Summary out;
  EXPECT_TRUE(chains.ok()) << chains.status;
  if (!chains.ok()) return out;
  const std::size_t n = chains.chains[0]->draws.shape(0), dim = model.dim();
  diagnostics::Draws draws = diagnostics::Draws::from_shape({kChains, n, dim});
  for (std::size_t c = 0; c < kChains; ++c) {
    xt::view(draws, c, xt::all(), xt::all()) = chains.chains[c]->draws;
    out.divergent += chains.chains[c]->divergent;
  }
  out.mean = xt::mean(draws, {0, 1});
  auto mcse = diagnostics::mcse_mean(draws);
  EXPECT_TRUE(mcse.ok()) << mcse.status();
  if (mcse.ok()) out.mcse = *mcse;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

/// The checks 1-3 of the file comment for runs at h (`coarse`) and h/2
/// (`fine`).
void expect_first_order_bias(const Summary& coarse, const Summary& fine,
                             const posteriors::Reference& ref, const char* label) {
  ASSERT_EQ(coarse.mcse.size(), ref.mean.size());
  ASSERT_EQ(fine.mcse.size(), ref.mean.size());
  double worst_e = 0.0, worst_bias = 0.0, worst_resolved = 0.0;
  for (std::size_t j = 0; j < ref.mean.size(); ++j) {
    const double r = ref.mean(j), r_se = ref.mcse_mean(j), sd = ref.sd(j);
    const double m1 = coarse.mean(j), se1 = coarse.mcse(j);
    const double m2 = fine.mean(j), se2 = fine.mcse(j);
    // The stated bias: first order in h, estimated from the pair.
    const double d = m1 - m2, se_d = std::hypot(se1, se2);
    const double bound2 = std::abs(d) + 4.0 * se_d, bound1 = 2.0 * bound2;
    // Richardson extrapolant and its standard error.
    const double e = 2.0 * m2 - m1;
    const double se_e = std::sqrt(4.0 * se2 * se2 + se1 * se1 + r_se * r_se);
    const double tol1 = 4.0 * std::hypot(se1, r_se) + bound1;
    const double tol2 = 4.0 * std::hypot(se2, r_se) + bound2;
    std::printf(
        "%s %-12s ref %+.4f | h: %+.4f (err %+.3f sd, tol %.3f) | h/2: %+.4f (err %+.3f sd, tol "
        "%.3f) | bias(h) ~ %+.3f sd, bound %.3f | extrapolated %+.4f, z %+.2f\n",
        label, ref.names[j].c_str(), r, m1, (m1 - r) / sd, tol1 / sd, m2, (m2 - r) / sd, tol2 / sd,
        2.0 * d / sd, bound1 / sd, e, (e - r) / se_e);
    EXPECT_LT(std::abs(m1 - r), tol1) << label << " " << ref.names[j] << " at h";
    EXPECT_LT(std::abs(m2 - r), tol2) << label << " " << ref.names[j] << " at h/2";
    EXPECT_LT(std::abs(e - r), 4.0 * se_e)
        << label << " " << ref.names[j] << ": the bias is not first order in h "
        << "(extrapolated " << e << " vs reference " << r << ")";
    EXPECT_LT(bound1, kBiasCap * sd) << label << " " << ref.names[j] << ": bias bound too large";
    worst_e = std::max(worst_e, std::abs(e - r) / se_e);
    worst_bias = std::max(worst_bias, std::abs(2.0 * d) / sd);
    worst_resolved = std::max(worst_resolved, std::abs(d) / se_d);
  }
  std::printf(
      "%s: largest bias estimate at h %.3f sd (resolved to %.1f se), worst extrapolation |z| %.2f; "
      "%.1f s + %.1f s\n",
      label, worst_bias, worst_resolved, worst_e, coarse.seconds, fine.seconds);
  // 4. The halving is observed, not assumed: some coordinate's bias
  // difference D is resolved, so check 2 had something to test.
  EXPECT_GT(worst_resolved, 4.0) << label << ": no bias resolved; the Richardson check is vacuous";
}

class SgmcmcEightSchools : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = EightSchoolsNc::load();
    ASSERT_TRUE(model.ok()) << model.status();
    model_.emplace(*std::move(model));
    auto ref = model_->reference();
    ASSERT_TRUE(ref.ok()) << ref.status();
    ref_ = *std::move(ref);
    auto schools = load_schools();
    ASSERT_TRUE(schools.ok()) << schools.status();
    auto est = sgmcmc::make_gradient_estimator(8, kBatch, SchoolGradient{*schools}, PriorGradient{});
    ASSERT_TRUE(est.ok()) << est.status();
    estimator_.emplace(*std::move(est));
    // Preconditioner: the reference variances (what warmup would estimate),
    // so every coordinate relaxes at a similar rate.
    auto metric = Metric::diagonal(ref_.sd * ref_.sd);
    ASSERT_TRUE(metric.ok());
    metric_.emplace(*std::move(metric));
  }
  std::optional<EightSchoolsNc> model_;
  posteriors::Reference ref_;
  std::optional<Estimator> estimator_;
  std::optional<Metric> metric_;
};

TEST_F(SgmcmcEightSchools, SplitIntoSchoolsTheFullGradientIsTheModels) {
  // The decomposition is exact: prior + every school = the model's gradient.
  sgmcmc::BatchWorkspace ws;
  for (int k = 0; k < 5; ++k) {
    const Vec u = model_->initial_point(make_key(100 + k));
    Vec full = Vec::from_shape({10}), expected = Vec::from_shape({10});
    ASSERT_TRUE(estimator_->full_gradient(u, full, ws).ok());
    (*model_)(u, expected);
    for (std::size_t j = 0; j < 10; ++j) EXPECT_NEAR(full(j), expected(j), 1e-10) << j;
  }
  EXPECT_DOUBLE_EQ(estimator_->scale(), 2.0);
}

TEST_F(SgmcmcEightSchools, SgldBiasIsFirstOrderAndExtrapolatesToTheReference) {
  // Preconditioned SGLD at h = 0.04 and 0.02 over the same diffusion time:
  // 4 chains x 60 000 time units after 2 000 of burn-in (6.2 and 12.4 million
  // transitions in all); one draw per 1 time unit is kept.
  const double h = 0.04;
  const double time = 60000.0, burn_time = 2000.0;
  auto run = [&](double step, std::uint64_t seed) {
    auto make = [&] { return sgld::sampler(*estimator_, sgld::Params<>{{step}, 1.0, *metric_}); };
    const auto per_unit = static_cast<std::size_t>(std::lround(1.0 / step));
    return run_chains(*model_, make_key(seed), make, static_cast<std::size_t>(burn_time) * per_unit,
                      static_cast<std::size_t>(time) * per_unit, per_unit);
  };
  const Summary coarse = run(h, 1), fine = run(h / 2.0, 2);
  EXPECT_EQ(coarse.divergent + fine.divergent, 0u);
  expect_first_order_bias(coarse, fine, ref_, "sgld");
}

TEST_F(SgmcmcEightSchools, SghmcBiasIsFirstOrderAndExtrapolatesToTheReference) {
  // Preconditioned SGHMC (Blackjax's default friction 0.01, no noise
  // estimate) with trajectory time K h = 1: (h, K) = (0.1, 10) and (0.05, 20),
  // 4 chains x 80 000 transitions after 2 000 of burn-in.
  const double h = 0.1;
  auto run = [&](double step, std::uint64_t seed) {
    const int k = static_cast<int>(std::lround(1.0 / step));
    auto make = [&] {
      return sghmc::sampler(*estimator_, sghmc::Params<>{{step}, k, 1.0, *metric_},
                            sghmc::build_kernel());
    };
    return run_chains(*model_, make_key(seed), make, 2000, 80000, 1);
  };
  const Summary coarse = run(h, 3), fine = run(h / 2.0, 4);
  EXPECT_EQ(coarse.divergent + fine.divergent, 0u);
  expect_first_order_bias(coarse, fine, ref_, "sghmc");
}

}  // namespace
}  // namespace nutshell
