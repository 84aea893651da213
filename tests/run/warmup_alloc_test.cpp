// Window adaptation without kept Infos (what `sample` runs) allocates only
// when a window closes, not once per warmup step.
#include <gtest/gtest.h>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

long warmup_allocations(std::size_t steps, bool keep_infos) {
  adaptation::WindowAdaptationOptions o;
  o.keep_infos = keep_infos;
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
  const long c = warmup_allocations(1000, true), e = warmup_allocations(2000, true);
  EXPECT_GT(e - c, 1000) << "kept infos cost one allocation per step";
}

}  // namespace
}  // namespace nutshell
