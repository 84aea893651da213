// Dynamic HMC, ChEES and MEADS on Gaussians: the tuned values, exactness
// of the tuned kernels, thread-count invariance, and bad input.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/adaptation/chees_adaptation.hpp"
#include "nutshell/adaptation/meads_adaptation.hpp"
#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/run/cross_chain_warmup.hpp"
#include "nutshell/run/sample.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

std::vector<Key> chain_keys(std::size_t n, std::uint64_t seed) {
  std::vector<Key> k;
  for (std::size_t c = 0; c < n; ++c) k.push_back(split_one(make_key(seed), c));
  return k;
}

template <class State, class Init>
std::vector<State> starts(std::size_t n, std::size_t dim, Gaussian& g, Init init) {
  std::vector<State> s;
  Stream stream(make_key(99));
  for (std::size_t c = 0; c < n; ++c) {
    Vec x = Vec::from_shape({dim});
    for (auto& v : x) v = 4.0 * stream.uniform() - 2.0;
    s.push_back(*init(x, g, c));
  }
  return s;
}

std::vector<dynamic_hmc::State> dhmc_starts(std::size_t n, Gaussian& g) {
  return starts<dynamic_hmc::State>(n, g.mean().size(), g,
                                    [](const Vec& x, Gaussian& f, std::size_t) { return dynamic_hmc::init(x, f); });
}

std::vector<ghmc::State> ghmc_starts(std::size_t n, Gaussian& g) {
  return starts<ghmc::State>(n, g.mean().size(), g, [](const Vec& x, Gaussian& f, std::size_t c) {
    return ghmc::init(x, f, split_one(make_key(7), c));
  });
}

TEST(DynamicHmc, HaltonAndStepCounts) {
  EXPECT_DOUBLE_EQ(dynamic_hmc::halton(1), 0.5);
  EXPECT_DOUBLE_EQ(dynamic_hmc::halton(2), 0.25);
  EXPECT_DOUBLE_EQ(dynamic_hmc::halton(3), 0.75);
  dynamic_hmc::Params p;
  p.num_integration_steps = 10.0;
  EXPECT_EQ(dynamic_hmc::num_steps(p, 0, 1000), 5);   // u = 1/2
  EXPECT_EQ(dynamic_hmc::num_steps(p, 1, 1000), 3);   // u = 1/4
  EXPECT_EQ(dynamic_hmc::num_steps(p, 2, 1000), 8);   // u = 3/4
  EXPECT_EQ(dynamic_hmc::num_steps(p, 2, 4), 4);      // capped
  p.jitter_amount = 0.0;
  EXPECT_EQ(dynamic_hmc::num_steps(p, 1, 1000), 10);  // no jitter
}

TEST(DynamicHmc, ExactOnScaledGaussian) {
  Gaussian target = Gaussian::independent(Vec{1.0, 3.0});
  dynamic_hmc::Params p;
  p.step_size = 0.5;
  p.inverse_mass_matrix = *Metric::diagonal(Vec{1.0, 9.0});
  p.num_integration_steps = 4.0;
  p.jitter = dynamic_hmc::Jitter::kUniform;
  p.jitter_key = make_key(5);
  auto alg = dynamic_hmc::sampler(target, p);
  auto init = alg.init(Vec{1.0, 1.0});
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(3), alg, *init, 20000);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->final_state.random_generator_arg, 20000u);
  testing::expect_moments(run->positions, target.mean(), Vec{1.0, 9.0}, 4.0, "dynamic_hmc");
  p.num_integration_steps = -1.0;
  auto bad = dynamic_hmc::sampler(target, p);
  EXPECT_FALSE(bad.step(make_key(1), *init).ok());
}

TEST(Chees, BlackjaxCaseWithoutMetric) {
  // Blackjax's test: N(0, diag(1, 10^2)), 16 chains, identity metric.
  Gaussian target = Gaussian::independent(Vec{1.0, 10.0});
  std::vector<Gaussian> fs(16, target);
  adaptation::CheesOptions o;
  o.adapt_mass_matrix = false;
  o.initial_step_size = 0.1;
  o.learning_rate = 0.05;
  auto r = chees_warmup(dynamic_hmc::Kernel{}, fs, dhmc_starts(16, target), chain_keys(16, 1),
                        make_key(2), o, 1000, 1);
  ASSERT_TRUE(r.ok()) << r.status();
  // The stiff direction (sd 1) bounds the step (about 1.5), the wide one
  // (sd 10) sets the trajectory: a quarter period ~ 10 / eps steps.
  EXPECT_NEAR(r->parameters.step_size, 1.5, 0.3);
  EXPECT_GT(r->parameters.num_integration_steps, 4.0);
  EXPECT_LT(r->parameters.num_integration_steps, 20.0);
}

TEST(Chees, MetricTunedKernelIsExact) {
  Gaussian target = Gaussian::scales_10d();
  const Vec var = xt::diagonal(target.covariance());
  std::vector<Gaussian> fs(32, target);
  auto r = chees_warmup(dynamic_hmc::Kernel{}, fs, dhmc_starts(32, target), chain_keys(32, 3),
                        make_key(4), adaptation::CheesOptions{}, 500, 2);
  ASSERT_TRUE(r.ok()) << r.status();
  const Vec& d = r->parameters.inverse_mass_matrix.inverse_mass_diagonal();
  for (std::size_t i = 0; i < d.size(); ++i) EXPECT_NEAR(d(i) / var(i), 1.0, 0.5) << i;
  EXPECT_GT(r->parameters.num_integration_steps, 1.5);
  auto alg = dynamic_hmc::sampler(target, r->parameters);
  auto run = run_inference_algorithm(make_key(5), alg, r->states[0], 20000);
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, target.mean(), var, 4.0, "chees");
}

TEST(Meads, TunedGhmcIsExact) {
  Gaussian target = Gaussian::scales_10d();
  const Vec var = xt::diagonal(target.covariance());
  std::vector<Gaussian> fs(32, target);
  auto r = meads_warmup(ghmc::build_kernel(), fs, ghmc_starts(32, target), chain_keys(32, 6),
                        make_key(7), adaptation::MeadsOptions{}, 1000, 2);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& p = r->parameters;
  EXPECT_GT(p.alpha, 0.0);
  EXPECT_LT(p.alpha, 0.8);  // 1 - exp(-2 eps gamma), gamma ~ 1 / sd_max(whitened) ~ 1
  EXPECT_NEAR(p.delta, p.alpha / 2.0, 1e-12);
  EXPECT_GT(p.step_size, 0.1);
  EXPECT_LE(p.step_size, 1.0);
  const Vec& d = p.inverse_mass_matrix.inverse_mass_diagonal();
  // Each fold's sd comes from 8 chains only (chi-square with 7 degrees of
  // freedom), so the folds' mean scale is right within a factor, not 10%.
  for (std::size_t i = 0; i < d.size(); ++i) {
    EXPECT_GT(d(i) / var(i), 0.3) << i;
    EXPECT_LT(d(i) / var(i), 3.0) << i;
  }
  std::size_t moved = 0;
  for (auto s : r->num_steps) moved += s;
  EXPECT_EQ(moved, 32u * 1000u * 3u / 4u);  // one fold of four rests each iteration
  auto alg = ghmc::sampler(target, p);
  auto run = run_inference_algorithm(make_key(8), alg, r->states[0], 60000);
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, target.mean(), var, 4.0, "meads");
}

TEST(ManyChain, BitwiseIdenticalForAnyThreadCount) {
  Gaussian target = Gaussian::correlated_2d();
  std::vector<double> chees_out, meads_out;
  for (std::size_t threads : {1, 2, 3}) {
    std::vector<Gaussian> fs(12, target);
    auto c = chees_warmup(dynamic_hmc::Kernel{}, fs, dhmc_starts(12, target), chain_keys(12, 11),
                          make_key(12), adaptation::CheesOptions{}, 60, threads);
    ASSERT_TRUE(c.ok()) << c.status();
    auto m = meads_warmup(ghmc::build_kernel(), fs, ghmc_starts(12, target), chain_keys(12, 13),
                          make_key(14), adaptation::MeadsOptions{.num_folds = 3}, 60, threads);
    ASSERT_TRUE(m.ok()) << m.status();
    std::vector<double> cv{c->parameters.step_size, c->parameters.num_integration_steps};
    std::vector<double> mv{m->parameters.step_size, m->parameters.alpha};
    for (std::size_t k = 0; k < 12; ++k) {
      cv.insert(cv.end(), c->states[k].position.begin(), c->states[k].position.end());
      mv.insert(mv.end(), m->states[k].position.begin(), m->states[k].position.end());
    }
    if (threads == 1) {
      chees_out = cv;
      meads_out = mv;
    } else {
      EXPECT_EQ(cv, chees_out) << threads << " threads";
      EXPECT_EQ(mv, meads_out) << threads << " threads";
    }
  }
}

TEST(ManyChain, BadInputIsAClearError) {
  Gaussian target = Gaussian::correlated_2d();
  std::vector<Gaussian> one(1, target), ten(10, target);
  auto c = chees_warmup(dynamic_hmc::Kernel{}, one, dhmc_starts(1, target), chain_keys(1, 1),
                        make_key(1), adaptation::CheesOptions{}, 10);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  auto m = meads_warmup(ghmc::build_kernel(), ten, ghmc_starts(10, target), chain_keys(10, 1),
                        make_key(1), adaptation::MeadsOptions{}, 10);  // 10 chains, 4 folds
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("divisible"), std::string::npos);
  adaptation::CheesOptions bad;
  bad.decay_rate = 0.0;
  c = chees_warmup(dynamic_hmc::Kernel{}, ten, dhmc_starts(10, target), chain_keys(10, 1),
                   make_key(1), bad, 10);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
}

// The README's "Many-chain warmups" sample, on a Gaussian, and the same
// through `sample` on 1 and 3 threads: bitwise identical draws.
TEST(ManyChain, SampleWithCheesAndMeads) {
  auto logdensity = [](const Vec& x, Vec& grad) {
    grad = -x;
    return -0.5 * xt::sum(x * x)();
  };
  const Vec x0 = xt::zeros<double>({3});
  SampleOptions o{.num_chains = 32, .num_warmup = 500, .num_samples = 500};
  o.progress_bar = false;
  o.warmup = Warmup::kChees;
  auto chees = sample(make_key(1), dynamic_hmc::Kernel{}, logdensity, x0, o);
  ASSERT_TRUE(chees.ok()) << chees.status();
  o.warmup = Warmup::kMeads;
  o.num_warmup = 1000, o.num_samples = 4000, o.thinning = 4;
  auto meads = sample(make_key(1), ghmc::build_kernel(), logdensity, x0, o);
  ASSERT_TRUE(meads.ok()) << meads.status();
  ASSERT_EQ(chees->positions.shape(1), 500u);
  ASSERT_EQ(meads->positions.shape(1), 1000u);  // every 4th of 4000
  for (const auto* d : {&chees->positions, &meads->positions}) {
    ASSERT_EQ(d->shape(0), 32u);
    const double m = xt::mean(*d)(), v = xt::variance(*d)();
    EXPECT_NEAR(m, 0.0, 0.05);
    EXPECT_NEAR(v, 1.0, 0.05);
  }
  EXPECT_GT(chees->accounting[0].gradient_evaluations_warmup, 500u);
  std::uint64_t meads_warmup_grads = 0;  // one per move; one fold of 4 rests each iteration
  for (const auto& a : meads->accounting) meads_warmup_grads += a.gradient_evaluations_warmup;
  EXPECT_EQ(meads_warmup_grads, 32u * 1000u * 3u / 4u);
  // Thread count: the lockstep warmup and the sampling are chain-keyed.
  SampleOptions small{.num_chains = 8, .num_warmup = 50, .num_samples = 20};
  small.progress_bar = false;
  for (Warmup w : {Warmup::kChees, Warmup::kMeads}) {
    small.warmup = w;
    small.num_threads = 1;
    auto a = w == Warmup::kChees ? sample(make_key(3), dynamic_hmc::Kernel{}, logdensity, x0, small)->positions
                                 : sample(make_key(3), ghmc::build_kernel(), logdensity, x0, small)->positions;
    small.num_threads = 3;
    auto b = w == Warmup::kChees ? sample(make_key(3), dynamic_hmc::Kernel{}, logdensity, x0, small)->positions
                                 : sample(make_key(3), ghmc::build_kernel(), logdensity, x0, small)->positions;
    EXPECT_TRUE(a == b);
  }
  // The wrong kernel for a many-chain warmup is a clear error.
  small.warmup = Warmup::kChees;
  auto wrong = sample(make_key(1), ghmc::build_kernel(), logdensity, x0, small);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nutshell
