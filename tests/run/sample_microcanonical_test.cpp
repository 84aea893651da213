// `sample` with the microcanonical kernels (run/sample_microcanonical.hpp):
// MAMS and the unadjusted MCLMC, each with its own warmup.
#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

#include "nutshell/mcmc/mams.hpp"
#include "nutshell/mcmc/mclmc.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

SampleOptions small_run(std::size_t threads) {
  SampleOptions o;
  o.num_chains = 3;
  o.num_warmup = 300;
  o.num_samples = 200;
  o.num_threads = threads;
  o.progress_bar = false;
  return o;
}

template <class K>
void expect_thread_count_invariant(const K& kernel) {
  Gaussian target = Gaussian::scales_10d();
  auto one = sample(make_key(5), kernel, target, Vec(xt::ones<double>({10})), small_run(1));
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(one->status.ok()) << one->status;
  for (std::size_t threads : {2u, 3u}) {
    auto other = sample(make_key(5), kernel, target, Vec(xt::ones<double>({10})), small_run(threads));
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_TRUE(other->positions == one->positions) << threads << " threads";
    for (std::size_t c = 0; c < 3; ++c) {
      EXPECT_EQ(other->params[c].step_size, one->params[c].step_size);
      EXPECT_EQ(other->params[c].L, one->params[c].L);
      EXPECT_EQ(other->accounting[c].gradient_evaluations_warmup,
                one->accounting[c].gradient_evaluations_warmup);
    }
  }
  for (const auto& a : one->accounting) {
    EXPECT_GT(a.gradient_evaluations_warmup, 300u);  // the warmup ran on the observed kernel
    EXPECT_GT(a.gradient_evaluations, 200u);
  }
}

TEST(SampleMicrocanonical, MamsIsBitwiseIdenticalForAnyThreadCount) {
  expect_thread_count_invariant(mams::Kernel{});
}

TEST(SampleMicrocanonical, MclmcIsBitwiseIdenticalForAnyThreadCount) {
  expect_thread_count_invariant(mclmc::build_kernel());
}

// The tuned MCLMC through sample: the preconditioner comes out near the
// variances and the draws near the moments (MCLMC is biased, at its default
// energy-error target by a few percent of a variance here, so 15%).
TEST(SampleMicrocanonical, MclmcTunesAndSamples) {
  Gaussian target = Gaussian::scales_10d();
  SampleOptions o = small_run(0);
  o.num_chains = 4;
  o.num_warmup = 2000;
  o.num_samples = 4000;
  auto draws = sample(make_key(11), mclmc::build_kernel(), target, Vec(xt::ones<double>({10})), o);
  ASSERT_TRUE(draws.ok()) << draws.status();
  ASSERT_TRUE(draws->status.ok()) << draws->status;
  for (const auto& p : draws->params) {
    ASSERT_TRUE(p.inverse_mass_matrix.has_value());
    EXPECT_GT(p.L, 0.0);
  }
  for (std::size_t j = 0; j < 10; ++j) {
    auto column = xt::view(draws->positions, xt::all(), xt::all(), j);
    const double sd = std::sqrt(target.covariance()(j, j));
    EXPECT_LT(std::abs(xt::mean(column)()) / sd, 0.15) << j;
    EXPECT_NEAR(std::sqrt(xt::variance(column)()) / sd, 1.0, 0.15) << j;
  }
  ASSERT_TRUE(draws->summary.ok());
}

TEST(SampleMicrocanonical, FisherWarmupIsRefusedAndNoWarmupRuns) {
  Gaussian target = Gaussian::independent(xt::ones<double>({3}));
  SampleOptions o = small_run(1);
  o.warmup = Warmup::kFisherDiagonal;
  auto bad = sample(make_key(0), mams::Kernel{}, target, Vec(xt::zeros<double>({3})), o);
  EXPECT_FALSE(bad.ok() && bad->status.ok());
  o.warmup = Warmup::kWindow;
  o.num_warmup = 0;
  auto none = sample(make_key(0), mams::Kernel{}, target, Vec(xt::zeros<double>({3})), o);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->status.ok()) << none->status;
}

}  // namespace
}  // namespace nutshell
