// `sample` with every adaptable kernel of the table: window adaptation of
// its step size (and metric, when it has one), then draws whose mean is
// right within 5 MCSE.
#include <gtest/gtest.h>

#include <cmath>

#include "nutshell/mcmc/barker.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

template <class K>
void expect_recovers(const K& kernel, std::uint64_t seed, std::size_t samples = 1000) {
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = 500;
  o.num_samples = samples;
  o.progress_bar = false;
  auto d = sample(make_key(seed), kernel, Gaussian::correlated_2d(), Vec{0.0, 3.0}, o);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->status.ok()) << d->status;
  ASSERT_TRUE(d->summary.ok()) << d->summary.status();
  const double truth[2] = {0.0, 3.0};
  for (int j = 0; j < 2; ++j) {
    const auto& r = d->summary->rows[j];
    EXPECT_LT(std::abs(r.mean - truth[j]), 5.0 * r.sd / std::sqrt(r.ess_bulk)) << r.name;
  }
  EXPECT_EQ(d->accounting.size(), 4u);
  EXPECT_GT(d->accounting[0].gradient_evaluations, 0u);
  EXPECT_GE(d->sample_stats.index("acceptance_rate"), 0);
}

TEST(SampleKernels, Nuts) { expect_recovers(nuts::Kernel{}, 61); }
TEST(SampleKernels, Hmc) { expect_recovers(hmc::build_kernel(), 62); }
TEST(SampleKernels, Mala) { expect_recovers(mala::build_kernel(), 63, 3000); }
TEST(SampleKernels, Barker) { expect_recovers(barker::build_kernel(), 64, 3000); }
TEST(SampleKernels, Ghmc) { expect_recovers(ghmc::build_kernel(), 65, 3000); }

}  // namespace
}  // namespace nutshell
