// Stan's initial step-size search: the doubling/halving rule on synthetic
// probes, its two failure modes, and the real probes on Gaussians.
#include "nutshell/adaptation/step_size.hpp"

#include <cmath>
#include <limits>
#include <set>

#include <gtest/gtest.h>

#include "nutshell/mcmc/mala.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell::adaptation {
namespace {

// A deterministic probe: log acceptance -eps, so acceptance crosses 0.8 at
// eps = -log 0.8 = 0.223. Records the keys it was given.
struct LinearProbe {
  std::vector<Key>* keys;
  std::vector<double>* tried;
  absl::StatusOr<double> operator()(const Key& k, double eps) {
    keys->push_back(k);
    tried->push_back(eps);
    return -eps;
  }
};

TEST(StepSizeSearch, HalvesUntilAcceptanceRisesAbove08) {
  std::vector<Key> keys;
  std::vector<double> tried;
  auto eps = find_reasonable_step_size(make_key(1), 1.0, LinearProbe{&keys, &tried});
  ASSERT_TRUE(eps.ok()) << eps.status();
  // 1 sets the direction and is retried with a fresh momentum (Stan), then
  // 0.5, 0.25, 0.125: the first with acceptance >= 0.8.
  EXPECT_EQ(*eps, 0.125);
  EXPECT_EQ(tried, (std::vector<double>{1.0, 1.0, 0.5, 0.25, 0.125}));
  std::set<std::pair<std::uint64_t, std::uint64_t>> distinct;
  for (const Key& k : keys) distinct.insert({k.words[0], k.words[1]});
  EXPECT_EQ(distinct.size(), keys.size()) << "every trial draws a new momentum";
}

TEST(StepSizeSearch, DoublesUntilAcceptanceFallsBelow08) {
  std::vector<Key> keys;
  std::vector<double> tried;
  auto eps = find_reasonable_step_size(make_key(1), 0.01, LinearProbe{&keys, &tried});
  ASSERT_TRUE(eps.ok());
  // Stan keeps the first step size on the other side of 0.8.
  EXPECT_DOUBLE_EQ(*eps, 0.32);
}

TEST(StepSizeSearch, FlatDensityIsReportedAsImproper) {
  auto flat = [](const Key&, double) -> absl::StatusOr<double> { return 0.0; };
  auto eps = find_reasonable_step_size(make_key(1), 1.0, flat);
  EXPECT_EQ(eps.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(eps.status().message().find("improper"), std::string::npos) << eps.status();

  // The same through the leapfrog probe: a constant log density.
  auto constant = [](const Vec&, Vec& g) {
    g.fill(0.0);
    return 0.0;
  };
  auto state = init_gradient_state(Vec{0.0, 0.0}, constant);
  ASSERT_TRUE(state.ok());
  const Metric metric = Metric::identity(2);
  LeapfrogProbe<decltype(constant)> probe(*state, constant, metric);
  EXPECT_NE(find_reasonable_step_size(make_key(1), 1.0, probe).status().message().find("improper"),
            std::string::npos);
}

TEST(StepSizeSearch, NoAcceptableStepIsReported) {
  auto never = [](const Key&, double) -> absl::StatusOr<double> {
    return -std::numeric_limits<double>::infinity();
  };
  auto eps = find_reasonable_step_size(make_key(1), 1.0, never);
  EXPECT_EQ(eps.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(eps.status().message().find("no acceptably small step size"), std::string::npos);

  // Through the leapfrog probe: a density that is finite at the start only.
  int calls = 0;
  auto spike = [&calls](const Vec&, Vec& g) {
    g.fill(0.0);
    return calls++ == 0 ? 0.0 : std::nan("");
  };
  auto state = init_gradient_state(Vec{1.0}, spike);
  ASSERT_TRUE(state.ok());
  const Metric metric = Metric::identity(1);
  LeapfrogProbe<decltype(spike)> probe(*state, spike, metric);
  EXPECT_NE(find_reasonable_step_size(make_key(1), 1.0, probe).status().message().find("no acceptably"),
            std::string::npos);
}

TEST(StepSizeSearch, RejectsBadStartAndPropagatesProbeErrors) {
  auto ok = [](const Key&, double) -> absl::StatusOr<double> { return -1.0; };
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()})
    EXPECT_EQ(find_reasonable_step_size(make_key(1), bad, ok).status().code(),
              absl::StatusCode::kInvalidArgument);
  auto failing = [](const Key&, double) -> absl::StatusOr<double> {
    return absl::InternalError("log density threw: boom");
  };
  EXPECT_EQ(find_reasonable_step_size(make_key(1), 1.0, failing).status().message(),
            "log density threw: boom");
}

// With the identity metric one leapfrog step on N(0, s^2) has an energy
// error that scales with (eps / s)^2, so the step size found scales with s.
// It lands within a factor 2 of the crossing eps*, by construction of the
// doubling search, and eps* is of order s. But every trial draws a fresh
// momentum, so the crossing is random, and the search moves in factors of 2
// from 1, so eps / s takes discrete values (exact powers of two for s = 1 and
// in whitened units): one leapfrog step is stable for eps < 2 s, but a lucky
// momentum can still accept past that (in 1-D from x = s / 2 the acceptance
// at eps = 4 s is >= 0.8 for 8% of momenta), and then the search returns the
// next doubling. Simulating the search (2e5 runs per case, these start
// points) gives, for the largest eps / s: 4 with probability 4.5% and 8 with
// 4e-4 (s = 1); 5.12 with 1.8% and 10.24 with 2e-5 (s = 100); 6.25 with 7e-4
// and nothing higher (s = 0.01); and in the whitened case 4 with 20%, 8 with
// 1.8% and 16 with 1.4e-4. The smallest is never below 0.25. So eps / s is
// checked in [0.1, 8] (failure probability ~2e-4 per key), which still fails
// when the found step does not follow the scale (the scales span 1e4).
TEST(StepSizeSearch, LeapfrogProbeScalesWithThePosterior) {
  std::vector<double> found;
  for (double sd : {0.01, 1.0, 100.0}) {
    testing::Gaussian target(Vec{0.0, 0.0}, Mat{{sd * sd, 0.0}, {0.0, sd * sd}});
    auto state = init_gradient_state(Vec{0.5 * sd, -0.5 * sd}, target);
    ASSERT_TRUE(state.ok());
    const Metric metric = Metric::identity(2);
    LeapfrogProbe<testing::Gaussian> probe(*state, target, metric);
    auto eps = find_reasonable_step_size(make_key(3), 1.0, probe);
    ASSERT_TRUE(eps.ok()) << eps.status();
    EXPECT_GT(*eps / sd, 0.1) << sd;
    EXPECT_LE(*eps / sd, 8.0) << sd;
    found.push_back(*eps);
  }
  // A metric equal to the covariance makes every scale look like sd 1.
  testing::Gaussian wide(Vec{0.0}, Mat{{1e4}});
  auto state = init_gradient_state(Vec{50.0}, wide);
  const Metric whitened = *Metric::diagonal(Vec{1e4});
  LeapfrogProbe<testing::Gaussian> probe(*state, wide, whitened);
  auto eps = find_reasonable_step_size(make_key(3), 1.0, probe);
  ASSERT_TRUE(eps.ok());
  EXPECT_GT(*eps, 0.1);
  EXPECT_LE(*eps, 8.0);
}

// mala has no metric: the probe is one transition of the kernel itself.
TEST(StepSizeSearch, TransitionProbeDrivesMala) {
  testing::Gaussian target(Vec{0.0}, Mat{{1e-4}});  // sd 0.01: needs eps ~ 1e-4
  auto state = mala::init(Vec{0.005}, target);
  ASSERT_TRUE(state.ok());
  mala::Kernel kernel;
  TransitionProbe<mala::Kernel, mala::State, testing::Gaussian, mala::Params, mala::Info,
                  mala::Workspace>
      probe(kernel, *state, target, mala::Params{1.0});
  auto eps = find_reasonable_step_size(make_key(4), 1.0, probe);
  ASSERT_TRUE(eps.ok()) << eps.status();
  EXPECT_GT(*eps, 1e-6);
  EXPECT_LT(*eps, 1e-3);
}

}  // namespace
}  // namespace nutshell::adaptation
