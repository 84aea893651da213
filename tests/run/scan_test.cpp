#include "nutshell/run/scan.hpp"

#include <gtest/gtest.h>

#include "nutshell/mcmc/hmc.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

auto make_sampler() {
  return hmc::sampler(Gaussian::correlated_2d(), hmc::Params{0.3, Metric::identity(2), 7});
}

TEST(Scan, ThinningKeepsEveryKthDrawOfTheSameChain) {
  auto alg = make_sampler();
  auto s0 = alg.init(Vec{0.0, 0.0});
  ASSERT_TRUE(s0.ok());
  auto all = run_inference_algorithm(make_key(1), alg, *s0, 100);
  auto thin = run_inference_algorithm(make_key(1), alg, *s0, 100, RunOptions{.thinning = 10});
  ASSERT_TRUE(all.ok() && thin.ok());
  ASSERT_EQ(thin->positions.shape(0), 10u);
  ASSERT_EQ(thin->infos.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      EXPECT_EQ(thin->positions(i, j), all->positions(10 * i + 9, j));
  EXPECT_TRUE(thin->final_state.position == all->final_state.position);
  EXPECT_FALSE(run_inference_algorithm(make_key(1), alg, *s0, 100, RunOptions{.thinning = 0}).ok());
}

TEST(Scan, ResumingIsBitwiseIdenticalToOneLongRun) {
  auto alg = make_sampler();
  auto s0 = alg.init(Vec{0.0, 0.0});
  ASSERT_TRUE(s0.ok());
  auto whole = run_inference_algorithm(make_key(2), alg, *s0, 60);
  auto first = run_inference_algorithm(make_key(2), alg, *s0, 25);
  ASSERT_TRUE(whole.ok() && first.ok());
  auto rest = run_inference_algorithm(make_key(2), alg, first->final_state, 35,
                                      RunOptions{.first_step = first->next_step});
  ASSERT_TRUE(rest.ok());
  for (std::size_t i = 0; i < 35; ++i)
    for (std::size_t j = 0; j < 2; ++j) EXPECT_EQ(rest->positions(i, j), whole->positions(25 + i, j));
}

TEST(Scan, ProjectionCollectsWhatTheUserAsks) {
  auto alg = make_sampler();
  auto s0 = alg.init(Vec{0.0, 0.0});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(
      make_key(3), alg, *s0, 50,
      [](const hmc::State& s, const hmc::Info& i) { return std::pair{s.logdensity, i.is_accepted}; });
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->values.size(), 50u);
  EXPECT_EQ(run->values.back().first, run->final_state.logdensity);
}

TEST(Scan, ErrorsNameTheStep) {
  int calls = 0;
  auto fails_later = [&calls](const Vec& x, Vec& g) -> double {
    if (++calls > 30) throw std::runtime_error("density failed");
    g = -x;
    return -0.5 * xt::sum(x * x)();
  };
  auto alg = hmc::sampler(fails_later, hmc::Params{0.1, Metric::identity(1), 3});
  auto s0 = alg.init(Vec{0.0});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(4), alg, *s0, 100);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("step 9"), std::string::npos) << run.status();
  EXPECT_NE(run.status().message().find("density failed"), std::string::npos);
}

}  // namespace
}  // namespace nutshell
