// The README's code samples, compiled and run, so a user who copies them gets
// code that works. Keep in step with README.md.
#include <iostream>

#include <gtest/gtest.h>

#include "nutshell/ad/ad.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/converge.hpp"
#include "nutshell/run/sample.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/model/make_model.hpp"
#include "nutshell/smc/adaptive_tempered.hpp"

namespace {

using nutshell::Vec;

auto logdensity = [](const Vec& x, Vec& grad) {
  grad = -x;
  return -0.5 * xt::sum(x * x)();
};

// "A first sampler", exactly as in the README (in its own namespace: the
// other sections' `logdensity` is the hand-written one).
namespace first_sampler {
namespace ad = nutshell::ad;

// Write log p(x) once, for any scalar T (double for values, ad::var for
// gradients); reverse-mode autodiff supplies the gradient.
auto logdensity = ad::make_logdensity([](auto x) {  // x: std::span<const T>
  return -0.5 * ad::squared_norm(x);
});

// The zero-overhead option shown after it: the same model, gradient by hand.
auto logdensity_by_hand = [](const Vec& x, Vec& grad) {
  grad = -x;
  return -0.5 * xt::sum(x * x)();
};
}  // namespace first_sampler

TEST(Readme, AFirstSampler) {
  auto& logdensity = first_sampler::logdensity;
  auto& logdensity_by_hand = first_sampler::logdensity_by_hand;
  auto state = nutshell::hmc::init(Vec{1.0, -1.0}, logdensity);
  ASSERT_TRUE(state.ok());
  auto kernel = nutshell::hmc::build_kernel();
  nutshell::hmc::Params params{0.3, nutshell::Metric::identity(2), 10};
  auto key = nutshell::make_key(42);
  auto next = kernel(key, *state, logdensity, params);
  ASSERT_TRUE(next.ok());
  auto [new_state, info] = *next;
  EXPECT_EQ(new_state.position.size(), 2u);
  EXPECT_EQ(info.num_integration_steps, 10);

  auto sampler = nutshell::hmc::sampler(logdensity, params);
  auto run = nutshell::run_inference_algorithm(key, sampler, *state, 1000);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->positions.shape(0), 1000u);
  EXPECT_EQ(run->infos.size(), 1000u);

  // The written-once model and the hand-written one agree: same value and
  // gradient, hence the same chain from the same key.
  Vec g_ad = xt::zeros<double>({2}), g_hand = xt::zeros<double>({2});
  const Vec x{0.3, -1.7};
  EXPECT_NEAR(logdensity(x, g_ad), logdensity_by_hand(x, g_hand), 1e-14);
  EXPECT_NEAR(g_ad(0), g_hand(0), 1e-14);
  EXPECT_NEAR(g_ad(1), g_hand(1), 1e-14);
  auto hand_state = nutshell::hmc::init(Vec{1.0, -1.0}, logdensity_by_hand);
  ASSERT_TRUE(hand_state.ok());
  auto hand_sampler = nutshell::hmc::sampler(logdensity_by_hand, params);
  auto hand_run = nutshell::run_inference_algorithm(key, hand_sampler, *hand_state, 1000);
  ASSERT_TRUE(hand_run.ok());
  EXPECT_NEAR(xt::amax(xt::abs(hand_run->positions - run->positions))(), 0.0, 1e-9);
}

TEST(Readme, TheCommonCase) {
  nutshell::SampleOptions options;
  options.names = {"mu", "log_tau"};
  options.progress_bar = false;
  auto draws = nutshell::sample(nutshell::make_key(0), logdensity, Vec{0.0, 0.0}, options);
  ASSERT_TRUE(draws.ok()) << draws.status();
  EXPECT_TRUE(draws->status.ok());
  ASSERT_TRUE(draws->summary.ok());
  if (draws->summary.ok()) std::cout << *draws->summary;
  EXPECT_EQ(draws->positions.shape(0), 4u);
  EXPECT_EQ(draws->positions.shape(1), 1000u);
  EXPECT_EQ(draws->summary->rows[0].name, "mu");
  EXPECT_LT(draws->summary->rows[0].rhat, 1.01);
}

TEST(Readme, ThePiecesBlackjaxStyle) {
  using namespace nutshell;
  const Vec initial_position{1.0, 2.0};
  auto [warmup_key, sample_key] = split<2>(make_key(0));
  auto warmup = adaptation::window_adaptation(nuts::build_kernel(), logdensity);
  auto adapted = warmup.run(warmup_key, initial_position, 1000);
  ASSERT_TRUE(adapted.ok()) << adapted.status();
  auto sampler = nuts::sampler(logdensity, adapted->parameters);
  auto run = run_inference_algorithm(sample_key, sampler, adapted->state, 1000);
  ASSERT_TRUE(run.ok());

  // Diagnostics section.
  nutshell::diagnostics::Draws draws = nutshell::diagnostics::Draws::from_shape({1, 1000, 2});
  xt::view(draws, 0, xt::all(), xt::all()) = run->positions;
  auto rhat = nutshell::diagnostics::rhat(draws);
  auto bulk = nutshell::diagnostics::ess_bulk(draws);
  auto table = nutshell::diagnostics::summary(draws, run->num_divergent, {"a", "b"});
  ASSERT_TRUE(rhat.ok() && bulk.ok() && table.ok());
  std::cout << *table;
  EXPECT_GT((*bulk)(0), 200.0);
}

// "Writing a model once": eight schools with the layout, distributions and AD.
TEST(Readme, WritingAModelOnce) {
  using namespace nutshell;
  namespace dist = nutshell::distributions;

  const std::vector<double> y{28, 8, -3, 7, -1, 1, 18, 12};
  const std::vector<double> sigma{15, 10, 16, 11, 9, 11, 10, 18};

  auto layout = model::Layout::create(
      {model::real("mu"), model::positive("tau"), model::vector("theta_raw", 8)});
  ASSERT_TRUE(layout.ok()) << layout.status();

  auto eight_schools = model::make_model(*layout, [&](const auto& p) {
    using T = typename std::remove_cvref_t<decltype(p)>::scalar_type;
    const T& mu = p.scalar("mu");
    const T& tau = p.scalar("tau");
    std::span<const T> theta_raw = p.vector("theta_raw");
    std::span<const T> theta = ad::affine(mu, tau, theta_raw);  // mu + tau * theta_raw: one tape node
    return dist::normal_lpdf(mu, 0.0, 5.0) + dist::cauchy_lpdf(tau, 0.0, 5.0) +
           dist::normal_lpdf(theta_raw, 0.0, 1.0) + dist::normal_lpdf(y, theta, sigma);
  });

  auto init = eight_schools.layout().unconstrain(
      {{"mu", {0.0}}, {"tau", {1.0}}, {"theta_raw", std::vector<double>(8, 0.0)}});
  ASSERT_TRUE(init.ok()) << init.status();
  SampleOptions options;
  options.progress_bar = false;
  auto draws = sample(make_key(0), eight_schools, *init, options);
  ASSERT_TRUE(draws.ok()) << draws.status();
  EXPECT_TRUE(draws->status.ok());
  auto constrained = eight_schools.layout().constrain_draws(draws->positions);
  ASSERT_TRUE(constrained.ok()) << constrained.status();
  auto table = diagnostics::summary(*constrained, draws->num_divergent,
                                    eight_schools.layout().names());
  ASSERT_TRUE(table.ok()) << table.status();
  std::cout << *table;
  ASSERT_EQ(table->rows.size(), 10u);
  EXPECT_EQ(table->rows[1].name, "tau");
  EXPECT_EQ(table->rows[4].name, "theta_raw[3]");
  // The posterior (tests/posteriors/data/eight_schools_nc): mu ~ 4.4 (sd 3.3),
  // tau ~ 3.6 (sd 3.2), on the constrained scale.
  EXPECT_NEAR(table->rows[0].mean, 4.4, 0.6);
  EXPECT_NEAR(table->rows[1].mean, 3.6, 0.6);
  EXPECT_GT(xt::amin(xt::view(*constrained, xt::all(), xt::all(), 1))(), 0.0);
  for (const auto& row : table->rows) EXPECT_LT(row.rhat, 1.01) << row.name;
}

}  // namespace

// The Sequential Monte Carlo section.

namespace {

TEST(Readme, SequentialMonteCarlo) {
  using namespace nutshell;
  // Prior N(0, I) and likelihood exp(-|x - 1|^2 / 2): each a log density with gradient.
  auto logprior = [](const Vec& x, Vec& grad) { grad = -x; return -0.5 * xt::sum(x * x)(); };
  auto loglik = [](const Vec& x, Vec& grad) {
    grad = 1.0 - x;
    return -0.5 * xt::sum((x - 1.0) * (x - 1.0))();
  };
  smc::Options options;           // systematic resampling, 10 mutation steps per stage
  options.num_threads = 2;        // bitwise the same result for any thread count
  hmc::Params params;             // step size and inverse mass matrix are tuned from the particles
  params.num_integration_steps = 5;
  smc::adaptive_tempered::Sampler sampler(logprior, loglik, hmc::Kernel{}, params, options,
                                          {.target_ess = 0.5});
  Mat prior_draws = Mat::from_shape({1000, 2});     // 1000 particles from N(0, I) in 2-D
  normal(make_key(1), std::span<double>(prior_draws.data(), prior_draws.size()));
  auto state = sampler.init(prior_draws);           // a status if any particle's density is not finite
  ASSERT_TRUE(state.ok()) << state.status();
  auto result = smc::adaptive_tempered::run(make_key(2), sampler, *state);
  ASSERT_TRUE(result.ok()) << result.status();
  double log_z = result->state.log_marginal_likelihood;     // exact: -0.25 - log(2)/2 per dimension
  Vec mean = smc::weighted_mean(result->state.particles);   // exact: 0.5
  EXPECT_NEAR(log_z, 2 * (-0.25 - 0.5 * std::log(2.0)), 0.1);
  EXPECT_NEAR(mean(0), 0.5, 0.1);
  EXPECT_NEAR(mean(1), 0.5, 0.1);
}

TEST(Readme, SampleWarmupChoice) {
  auto key = nutshell::make_key(3);
  auto f = logdensity;
  nutshell::SampleOptions options;
  options.warmup = nutshell::Warmup::kFisherLowRank;
  options.pathfinder_init = true;
  options.num_warmup = 300;
  options.num_samples = 200;
  options.progress_bar = false;
  auto draws = nutshell::sample(key, f, Vec{0.0, 0.0}, options);
  ASSERT_TRUE(draws.ok()) << draws.status();
  EXPECT_TRUE(draws->status.ok());
}

}  // namespace

// "Sampling until converged", as in the README (small settings).
TEST(Readme, SamplingUntilConverged) {
  using nutshell::Vec;
  auto run = nutshell::sample_until_converged(
      nutshell::make_key(0), nutshell::nuts::Kernel{}, logdensity, Vec{0.0, 0.0},
      nutshell::SampleOptions{.num_chains = 4, .num_warmup = 300, .progress_bar = false},
      nutshell::ConvergenceOptions{.max_rhat = 1.01, .min_ess_bulk = 400, .min_ess_tail = 400,
                                   .max_draws = 20000});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->verdict.converged);
  EXPECT_EQ(run->reason, nutshell::ConvergenceStop::kConverged);
  ASSERT_TRUE(run->draws.summary.ok());
  EXPECT_FALSE(run->history.empty());
}
