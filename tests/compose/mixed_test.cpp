#include "nutshell/compose/mixed.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/core/algorithm.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/mcmc/rmh.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::batch_means;

// ---------------------------------------------------------------------------
// A 2-block Gaussian: (x, y) ~ N(0, [[sx^2, r sx], [r sx, 1]]), x the
// continuous block, y the Gibbs block with exact conditional
// y | x ~ N(r x / sx, 1 - r^2) and x | y ~ N(r sx y, sx^2 (1 - r^2)).
struct TwoBlock {
  double r = 0.8;
  double sx = 1.0;
  double cond_var_x() const { return sx * sx * (1 - r * r); }
  double operator()(const Vec& x, Vec& g, const double& y) const {
    const double d = x(0) - r * sx * y;
    g(0) = -d / cond_var_x();
    return -0.5 * d * d / cond_var_x();
  }
  double draw_y(const Key& k, const Vec& x) const {
    return r * x(0) / sx + std::sqrt(1 - r * r) * normal(k);
  }
};

struct Series {
  std::vector<double> x, y, xy, xx, yy;
  void push(double a, double b) {
    x.push_back(a);
    y.push_back(b);
    xy.push_back(a * b);
    xx.push_back(a * a);
    yy.push_back(b * b);
  }
  // Largest |estimate - truth| / MCSE over E x, E y, E x^2, E y^2, E xy.
  double worst_z(const TwoBlock& m) const {
    const std::array<std::pair<const std::vector<double>*, double>, 5> checks = {{
        {&x, 0.0}, {&y, 0.0}, {&xx, m.sx * m.sx}, {&yy, 1.0}, {&xy, m.r * m.sx}}};
    double worst = 0.0;
    for (const auto& [s, truth] : checks) {
      const auto e = batch_means(*s);
      worst = std::max(worst, std::abs(e.mean - truth) / e.mcse);
    }
    return worst;
  }
};

auto two_block_kernel(const TwoBlock& m) {
  return mixed::build_kernel<double>(
      hmc::build_kernel(),
      mixed::gibbs([m](const Key& k, const Vec& x, const double&) { return m.draw_y(k, x); }));
}

TEST(Mixed, JointOfHmcPlusExactGibbsIsRightWithin4Mcse) {
  const TwoBlock m;
  auto alg = mixed::sampler(two_block_kernel(m), m, hmc::Params{0.8, Metric::identity(1), 2});
  static_assert(InPlaceSamplingAlgorithm<decltype(alg)>);
  auto s0 = alg.init(Vec{0.0}, 0.0);
  ASSERT_TRUE(s0.ok()) << s0.status();
  Series s;
  auto run = run_inference_algorithm(
      make_key(1), alg, *s0, 20000,
      [&](const auto& st, const auto&) {
        s.push(st.position(0), st.others);
        return 0;
      });
  ASSERT_TRUE(run.ok()) << run.status();
  std::printf("recomputing combinator: worst |estimate - truth| / MCSE = %.2f\n", s.worst_z(m));
  EXPECT_LT(s.worst_z(m), 4.0);
}

// What a hand-made composition that forgets the recompute does: the HMC step
// starts from the log density and gradient cached under the previous y.
TEST(Mixed, ReusingTheStaleCacheWouldGiveTheWrongDistribution) {
  const TwoBlock m;
  const hmc::Params params{0.8, Metric::identity(1), 2};
  double y = 0.0;
  auto bound = [&](const Vec& x, Vec& g) { return m(x, g, y); };
  auto state = hmc::init(Vec{0.0}, bound);
  ASSERT_TRUE(state.ok());
  GradientState out = *state;
  hmc::Info info;
  hmc::Workspace ws;
  Series s;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const Key k = fold_in(make_key(1), i);
    y = m.draw_y(split_one(k, 0), state->position);
    // BUG on purpose: *state still caches log p(x | old y) and its gradient.
    ASSERT_TRUE(hmc::build_kernel().step_into(split_one(k, 1), *state, bound, params, out, info, ws).ok());
    std::swap(*state, out);
    s.push(state->position(0), y);
  }
  // The same moments the combinator gets right are off by many MCSE.
  std::printf("stale cache: worst |estimate - truth| / MCSE = %.2f\n", s.worst_z(m));
  EXPECT_GT(s.worst_z(m), 8.0);
}

// Counts evaluations and remembers what `others` each one saw.
struct CountingDensity {
  TwoBlock m;
  std::vector<double>* seen_y;
  std::vector<double>* seen_x;
  double operator()(const Vec& x, Vec& g, const double& y) const {
    seen_y->push_back(y);
    seen_x->push_back(x(0));
    return m(x, g, y);
  }
};

TEST(Mixed, RecomputesTheContinuousCacheAfterEveryGibbsUpdate) {
  const TwoBlock m;
  std::vector<double> seen_y, seen_x;
  CountingDensity f{m, &seen_y, &seen_x};
  const int L = 3;
  auto kernel = two_block_kernel(m);
  auto s = kernel.init(Vec{0.3}, 0.0, f);
  ASSERT_TRUE(s.ok());
  decltype(kernel)::Workspace ws;
  decltype(kernel)::Info info;
  auto out = *s;
  for (std::uint64_t i = 0; i < 50; ++i) {
    seen_y.clear();
    seen_x.clear();
    ASSERT_TRUE(kernel
                    .step_into(fold_in(make_key(2), i), *s, f,
                               hmc::Params{0.3, Metric::identity(1), L}, out, info, ws)
                    .ok());
    // One recompute + one gradient per leapfrog step.
    ASSERT_EQ(seen_y.size(), 1u + L);
    // The recompute comes first, at the old position, under the NEW y, and
    // every evaluation of the transition uses the new y.
    EXPECT_EQ(seen_x[0], s->position(0));
    for (double y : seen_y) EXPECT_EQ(y, out.others);
    EXPECT_NE(out.others, s->others);
    // The returned cache is consistent with the returned blocks.
    Vec g = Vec::from_shape({1});
    EXPECT_EQ(out.logdensity, m(out.position, g, out.others));
    EXPECT_EQ(out.logdensity_grad(0), g(0));
    std::swap(*s, out);
  }
}

// ---------------------------------------------------------------------------
// A discrete block: k ~ uniform{0, 1, 2}, x | k ~ N(2k, 1); NUTS on x, an
// exact Gibbs draw of k | x.
struct Switch {
  int k = 0;
};

TEST(Mixed, DiscreteBlockWithNutsRecoversTheMarginals) {
  auto f = [](const Vec& x, Vec& g, const Switch& o) {
    const double d = x(0) - 2.0 * o.k;
    g(0) = -d;
    return -0.5 * d * d;
  };
  auto draw_k = [](const Key& key, const Vec& x, const Switch&) -> int {
    std::array<double, 3> logits;
    for (int j = 0; j < 3; ++j) logits[j] = -0.5 * (x(0) - 2.0 * j) * (x(0) - 2.0 * j);
    return static_cast<int>(categorical_logits(key, logits));
  };
  auto kernel = mixed::build_kernel<Switch>(nuts::build_kernel(), mixed::gibbs(&Switch::k, draw_k));
  auto alg = mixed::sampler(kernel, f, nuts::Params{0.9, Metric::identity(1)});
  auto s0 = alg.init(Vec{0.0}, Switch{0});
  ASSERT_TRUE(s0.ok());
  std::array<std::vector<double>, 3> is_k;
  std::vector<double> xs;
  auto run = run_inference_algorithm(make_key(3), alg, *s0, 8000, [&](const auto& st, const auto&) {
    for (int j = 0; j < 3; ++j) is_k[j].push_back(st.others.k == j ? 1.0 : 0.0);
    xs.push_back(st.position(0));
    return 0;
  });
  ASSERT_TRUE(run.ok()) << run.status();
  for (int j = 0; j < 3; ++j) {
    auto e = batch_means(is_k[j]);
    EXPECT_LT(std::abs(e.mean - 1.0 / 3.0), 4 * e.mcse) << "P(k = " << j << ") = " << e.mean;
  }
  auto e = batch_means(xs);
  EXPECT_LT(std::abs(e.mean - 2.0), 4 * e.mcse) << e.mean;
}

// ---------------------------------------------------------------------------
// A kernel block: y (a Vec) updated by rmh on its conditional, x by mala.
struct VecOthers {
  Vec y;
};

TEST(Mixed, AnyKernelCanUpdateABlock) {
  const TwoBlock m;
  auto f = [m](const Vec& x, Vec& g, const VecOthers& o) { return m(x, g, o.y(0)); };
  // log p(x, y) as a function of y (up to a constant).
  auto g = [m](const Vec& y, const Vec& x, const VecOthers&) {
    const double d = y(0) - m.r * x(0) / m.sx;
    return -0.5 * d * d / (1 - m.r * m.r);
  };
  auto walk = rmh::NormalRandomWalk::isotropic(0.9);
  ASSERT_TRUE(walk.ok());
  auto kernel = mixed::build_kernel<VecOthers>(
      mala::build_kernel(), mixed::kernel_block(&VecOthers::y, rmh::build_kernel(), *walk, g));
  // The per-block infos: rmh's for the block, mala's for the continuous one.
  using Info = decltype(kernel)::Info;
  static_assert(std::is_same_v<decltype(std::declval<Info>().continuous), mala::Info>);
  static_assert(std::is_same_v<std::tuple_element_t<0, decltype(std::declval<Info>().blocks)>,
                               rmh::Info>);
  auto alg = mixed::sampler(kernel, f, mala::Params{0.25});
  auto s0 = alg.init(Vec{0.0}, VecOthers{Vec{0.0}});
  ASSERT_TRUE(s0.ok());
  Series s;
  double accepted = 0;
  auto run = run_inference_algorithm(make_key(4), alg, *s0, 30000, [&](const auto& st, const Info& i) {
    s.push(st.position(0), st.others.y(0));
    accepted += std::get<0>(i.blocks).is_accepted;
    return 0;
  });
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_LT(s.worst_z(m), 4.0);
  EXPECT_GT(accepted / 30000, 0.3);
  EXPECT_LT(accepted / 30000, 0.95);
}

// ---------------------------------------------------------------------------
// Window adaptation on the continuous block, Gibbs running inside warmup.
TEST(Mixed, WindowAdaptationTunesTheContinuousBlock) {
  TwoBlock m;
  m.sx = 10.0;  // the continuous block is 10x wider than a unit metric expects
  auto kernel = mixed::build_kernel<double>(
      nuts::build_kernel(),
      mixed::gibbs([m](const Key& k, const Vec& x, const double&) { return m.draw_y(k, x); }));
  auto s0 = kernel.init(Vec{0.0}, 0.0, m);
  ASSERT_TRUE(s0.ok());
  auto warmup = adaptation::window_adaptation(kernel, m);
  auto adapted = warmup.run_from(make_key(5), *s0, 600);
  ASSERT_TRUE(adapted.ok()) << adapted.status();
  const double imm = adapted->parameters.inverse_mass_matrix.inverse_mass_diagonal()(0);
  // The estimate is of x's spread along the warmup: between its conditional
  // (36) and marginal (100) variance, give or take estimation noise.
  EXPECT_GT(imm, 15.0);
  EXPECT_LT(imm, 250.0);
  EXPECT_GT(adapted->parameters.step_size, 0.3);

  auto alg = mixed::sampler(kernel, m, adapted->parameters);
  Series s;
  auto run = run_inference_algorithm(make_key(6), alg, adapted->state, 6000,
                                     [&](const auto& st, const auto&) {
                                       s.push(st.position(0), st.others);
                                       return 0;
                                     });
  ASSERT_TRUE(run.ok());
  EXPECT_LT(s.worst_z(m), 4.0);
}

// ---------------------------------------------------------------------------
TEST(Mixed, RunsInPmapBitwiseForAnyThreadCount) {
  const TwoBlock m;
  auto alg = mixed::sampler(two_block_kernel(m), m, hmc::Params{0.8, Metric::identity(1), 2});
  auto task = [alg](std::size_t, const Key& k) mutable -> absl::StatusOr<std::vector<double>> {
    auto s0 = alg.init(Vec{0.0}, 0.0);
    if (!s0.ok()) return s0.status();
    auto run = run_inference_algorithm(k, alg, *s0, 500, [](const auto& st, const auto&) {
      return st.position(0) + 1000.0 * st.others;
    });
    if (!run.ok()) return run.status();
    return run->values;
  };
  auto one = pmap(make_key(7), 5, task, PmapOptions{.num_threads = 1});
  auto two = pmap(make_key(7), 5, task, PmapOptions{.num_threads = 2});
  ASSERT_TRUE(one.ok() && two.ok());
  for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(*one.chains[c], *two.chains[c]);
}

TEST(Mixed, PureFormMatchesTheInPlaceForm) {
  const TwoBlock m;
  auto kernel = two_block_kernel(m);
  const hmc::Params p{0.5, Metric::identity(1), 3};
  auto s0 = kernel.init(Vec{0.2}, 0.1, m);
  ASSERT_TRUE(s0.ok());
  auto t = kernel(make_key(8), *s0, m, p);
  ASSERT_TRUE(t.ok());
  auto alg = mixed::sampler(kernel, m, p);
  auto u = alg.step(make_key(8), *s0);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(t->state.position(0), u->state.position(0));
  EXPECT_EQ(t->state.others, u->state.others);
  EXPECT_EQ(t->state.logdensity, u->state.logdensity);
  EXPECT_EQ(t->info.acceptance_rate, u->info.acceptance_rate);
  // The input state is untouched.
  EXPECT_EQ(s0->position(0), 0.2);
  EXPECT_EQ(s0->others, 0.1);
}

TEST(Mixed, ErrorsNameTheBlock) {
  const TwoBlock m;
  const hmc::Params p{0.5, Metric::identity(1), 3};
  struct Two {
    double a = 0, b = 0;
  };
  auto f = [m](const Vec& x, Vec& g, const Two& o) { return m(x, g, o.a); };
  auto fine = [](const Key&, const Vec&, const Two&) { return 0.5; };
  auto throws = [](const Key&, const Vec&, const Two&) -> double {
    throw std::runtime_error("boom");
  };
  auto fails = [](const Key&, const Vec&, const Two&) -> absl::StatusOr<double> {
    return absl::OutOfRangeError("no such value");
  };
  {
    auto k = mixed::build_kernel<Two>(hmc::build_kernel(), mixed::gibbs(&Two::a, fine),
                                      mixed::gibbs(&Two::b, throws));
    auto s0 = k.init(Vec{0.0}, Two{}, f);
    auto t = k(make_key(9), *s0, f, p);
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.status().message().find("Gibbs block 1"), std::string::npos) << t.status();
    EXPECT_NE(t.status().message().find("boom"), std::string::npos);
  }
  {
    auto k = mixed::build_kernel<Two>(hmc::build_kernel(), mixed::gibbs(&Two::a, fails));
    auto s0 = k.init(Vec{0.0}, Two{}, f);
    auto t = k(make_key(9), *s0, f, p);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_NE(t.status().message().find("Gibbs block 0: no such value"), std::string::npos);
  }
  {
    // A "Gibbs" update that moves to where x has zero density.
    auto g = [](const Vec& x, Vec& grad, const Two& o) {
      grad(0) = 0.0;
      return o.a > 1.0 ? -std::numeric_limits<double>::infinity() : -0.5 * x(0) * x(0);
    };
    auto bad = [](const Key&, const Vec&, const Two&) { return 2.0; };
    auto k = mixed::build_kernel<Two>(hmc::build_kernel(), mixed::gibbs(&Two::a, bad));
    auto s0 = k.init(Vec{0.0}, Two{}, g);
    ASSERT_TRUE(s0.ok());
    auto t = k(make_key(9), *s0, g, p);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(t.status().message().find("not finite"), std::string::npos) << t.status();
  }
  {
    // init validates like every kernel's init.
    auto k = mixed::build_kernel<Two>(hmc::build_kernel(), mixed::gibbs(&Two::a, fine));
    EXPECT_FALSE(k.init(Vec{std::numeric_limits<double>::quiet_NaN()}, Two{}, f).ok());
  }
}

}  // namespace
}  // namespace nutshell
