// Window adaptation allocates only when a window closes, not once per
// warmup step: without kept Infos (what `sample` runs) and with the default
// options (Infos kept as scalars in storage reserved once).
#include <gtest/gtest.h>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

long warmup_allocations(std::size_t steps, bool keep_infos, bool keep_info_vectors = false) {
  adaptation::WindowAdaptationOptions o;
  o.keep_infos = keep_infos;
  o.keep_info_vectors = keep_info_vectors;
  auto warmup = adaptation::window_adaptation(nuts::Kernel{}, testing::Gaussian::scales_10d(), o);
  auto s0 = nuts::init(Vec(xt::zeros<double>({10})), testing::Gaussian::scales_10d());
  EXPECT_TRUE(s0.ok());
  testing::AllocationScope scope;
  auto r = warmup.run_from(make_key(3), *s0, steps);
  const long n = scope.count();
  EXPECT_TRUE(r.ok()) << r.status();
  return n;
}

TEST(WarmupAllocations, DoNotGrowWithTheNumberOfStepsWithoutKeptInfos) {
  const long a = warmup_allocations(1000, false), b = warmup_allocations(2000, false);
  // One more doubling window, a handful of allocations; never one per step.
  EXPECT_LT(b - a, 60) << a << " vs " << b;
  // The test can fail: keeping the momentum vectors costs one per step.
  const long c = warmup_allocations(1000, true, true), e = warmup_allocations(2000, true, true);
  EXPECT_GT(e - c, 1000) << "kept info vectors cost one allocation per step";
}

TEST(WarmupAllocations, DoNotGrowWithTheNumberOfStepsWithDefaultOptions) {
  const adaptation::WindowAdaptationOptions defaults;
  ASSERT_TRUE(defaults.keep_infos);
  const long a = warmup_allocations(1000, true), b = warmup_allocations(2000, true);
  // 1000 more steps, one more window: a handful of allocations at its end
  // (the metric estimate), i.e. < 0.06 per step; before, 1.08 per step.
  EXPECT_LT(b - a, 60) << a << " vs " << b;
  EXPECT_LT(a, 150) << "a whole 1000-step warmup";
}

TEST(WarmupAllocations, KeptInfosWithoutVectorsKeepTheScalars) {
  adaptation::WindowAdaptationOptions o;
  auto warmup = adaptation::window_adaptation(nuts::Kernel{}, testing::Gaussian::scales_10d(), o);
  auto r = warmup.run(make_key(4), Vec(xt::zeros<double>({10})), 200);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->infos.size(), 200u);
  int steps = 0;
  for (const auto& w : r->infos) {
    EXPECT_EQ(w.info.momentum.size(), 0u);
    EXPECT_GT(w.step_size, 0.0);
    steps += w.info.num_integration_steps;
  }
  EXPECT_GT(steps, 200);
  o.keep_info_vectors = true;
  auto with = adaptation::window_adaptation(nuts::Kernel{}, testing::Gaussian::scales_10d(), o)
                  .run(make_key(4), Vec(xt::zeros<double>({10})), 200);
  ASSERT_TRUE(with.ok());
  for (std::size_t i = 0; i < 200; ++i) {
    EXPECT_EQ(with->infos[i].info.momentum.size(), 10u);
    EXPECT_EQ(with->infos[i].info.num_integration_steps, r->infos[i].info.num_integration_steps);
    EXPECT_EQ(with->infos[i].step_size, r->infos[i].step_size);
  }
}

}  // namespace
}  // namespace nutshell
