#include "nutshell/mcmc/slice.hpp"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

static_assert(InPlaceSamplingAlgorithm<decltype(slice::sampler(Gaussian::correlated_2d(), slice::Params{}))>);

double mean_evaluations(const std::vector<slice::Info>& infos) {
  double s = 0.0;
  for (const auto& i : infos) s += i.num_evaluations;
  return s / static_cast<double>(infos.size());
}

TEST(Slice, TenDimensionalScalesCoordinatewiseWithOneWidth) {
  // Width 1 everywhere: the sd-10 coordinates need stepping out, the sd-0.1
  // ones shrinkage; both must still be exact.
  Gaussian target = Gaussian::scales_10d();
  auto alg = slice::sampler(target, slice::Params{.width = Vec{1.0}});
  auto s0 = alg.init(xt::ones<double>({10}) * 3.0);
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(21), alg, *s0, 30000);
  ASSERT_TRUE(run.ok()) << run.status();
  Mat kept = xt::view(run->positions, xt::range(200, 30000), xt::all());
  testing::expect_moments(kept, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "slice coordinatewise");
  long stepping = 0, shrinking = 0;
  for (const auto& i : run->infos) {
    stepping += i.num_stepping_out;
    shrinking += i.num_shrinkage_steps;
  }
  EXPECT_GT(stepping, 0);
  EXPECT_GT(shrinking, 0);
  EXPECT_EQ(run->num_divergent, 0u);
  std::printf("coordinatewise: %.1f evaluations per sweep\n", mean_evaluations(run->infos));
}

TEST(Slice, TenDimensionalScalesRandomDirectionPreconditioned) {
  // Per-coordinate widths of 2 sd make the random lines isotropic in the
  // whitened space (hit-and-run).
  Gaussian target = Gaussian::scales_10d();
  Vec width = 2.0 * xt::sqrt(xt::diagonal(target.covariance()));
  auto alg = slice::sampler(target,
                            slice::Params{.width = width, .direction = slice::Direction::kRandom});
  auto s0 = alg.init(xt::zeros<double>({10}));
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(22), alg, *s0, 100000, RunOptions{.thinning = 5});
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                          "slice random direction");
  std::printf("random direction: %.1f evaluations per step\n", mean_evaluations(run->infos));
}

TEST(Slice, CorrelatedGaussianBothModes) {
  Gaussian target = Gaussian::correlated_2d();
  for (auto mode : {slice::Direction::kCoordinatewise, slice::Direction::kRandom}) {
    auto alg = slice::sampler(target, slice::Params{.width = Vec{1.0, 2.0}, .direction = mode});
    auto s0 = alg.init(target.mean());
    ASSERT_TRUE(s0.ok());
    auto run = run_inference_algorithm(make_key(23), alg, *s0, 30000);
    ASSERT_TRUE(run.ok());
    testing::expect_moments(run->positions, target.mean(), xt::diagonal(target.covariance()), 4.0,
                            mode == slice::Direction::kRandom ? "slice 2d random" : "slice 2d sweep");
  }
}

TEST(Slice, BoundedSupportIsRespectedAndFlagged) {
  // Exponential(1) on x > 0, written as -inf below 0: stepping out and
  // shrinkage hit the wall, those points are rejected and flagged.
  auto exp_density = [](const Vec& x) { return x(0) > 0.0 ? -x(0) : -INFINITY; };
  auto alg = slice::sampler(exp_density, slice::Params{.width = Vec{2.0}});
  auto s0 = alg.init(Vec{0.5});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(24), alg, *s0, 20000);
  ASSERT_TRUE(run.ok());
  EXPECT_GT(run->num_divergent, 1000u);
  for (std::size_t i = 0; i < run->positions.shape(0); ++i) ASSERT_GT(run->positions(i, 0), 0.0);
  testing::expect_moments(run->positions, Vec{1.0}, Vec{1.0}, 4.0, "slice exponential");
}

TEST(Slice, NoSteppingOutWhenDisabled) {
  Gaussian target = Gaussian::independent(Vec{5.0});
  auto s0 = slice::init(Vec{0.0}, target);
  ASSERT_TRUE(s0.ok());
  for (int k = 0; k < 50; ++k) {
    auto r = slice::build_kernel()(make_key(k), *s0, target,
                                   slice::Params{.width = Vec{0.5}, .max_stepping_out = 0});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->info.num_stepping_out, 0);
    EXPECT_LT(std::abs(r->state.position(0)), 0.5);  // stays in the initial interval
    EXPECT_EQ(r->info.num_evaluations, r->info.num_shrinkage_steps + 1);
  }
}

TEST(Slice, PurityAndNoAllocations) {
  Gaussian target = Gaussian::scales_10d();
  auto s0 = slice::init(xt::ones<double>({10}), target);
  ASSERT_TRUE(s0.ok());
  const slice::State before = *s0;
  for (auto mode : {slice::Direction::kCoordinatewise, slice::Direction::kRandom}) {
    const slice::Params params{.width = Vec{1.0}, .direction = mode};
    auto a = slice::build_kernel()(make_key(4), *s0, target, params);
    auto b = slice::build_kernel()(make_key(4), *s0, target, params);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(a->state.position == b->state.position);
    EXPECT_EQ(a->state.logdensity, b->state.logdensity);
    EXPECT_EQ(a->info.num_evaluations, b->info.num_evaluations);
    EXPECT_TRUE(s0->position == before.position);
    EXPECT_EQ(s0->logdensity, before.logdensity);
    // The cached log density is the density at the stored point, exactly.
    Vec g = Vec::from_shape({10});
    EXPECT_EQ(a->state.logdensity, target(a->state.position, g));

    auto alg = slice::sampler(target, params);
    slice::State x = *s0, y = *s0;
    slice::Info info;
    ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
    testing::AllocationScope scope;
    for (int i = 1; i <= 100; ++i)
      ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    EXPECT_EQ(scope.count(), 0);
  }
}

TEST(Slice, BadInputAndErrors) {
  Gaussian target = Gaussian::correlated_2d();
  auto s0 = slice::init(Vec{0.0, 3.0}, target);
  ASSERT_TRUE(s0.ok());
  auto k = slice::build_kernel();
  auto code = [&](const slice::Params& p) { return k(make_key(0), *s0, target, p).status().code(); };
  EXPECT_EQ(code({.width = Vec{0.0}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.width = Vec{1.0, NAN}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.width = Vec{1.0, 1.0, 1.0}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.max_stepping_out = -1}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.direction = static_cast<slice::Direction>(7)}),
            absl::StatusCode::kInvalidArgument);
  slice::State stale = *s0;
  stale.logdensity = NAN;
  EXPECT_EQ(k(make_key(0), stale, target, slice::Params{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(slice::init(Vec{}, target).ok());
  EXPECT_FALSE(slice::init(Vec{NAN, 0.0}, target).ok());

  auto thrower = [](const Vec&) -> double { throw std::runtime_error("density exploded"); };
  EXPECT_NE(slice::init(Vec{0.0}, thrower).status().message().find("density exploded"),
            std::string::npos);
  slice::State any{Vec{0.0}, 0.0};
  EXPECT_NE(k(make_key(0), any, thrower, slice::Params{}).status().message().find("density exploded"),
            std::string::npos);
  // A stale cached value far above the density: nothing is in the slice.
  auto low = [](const Vec&) { return -1e300; };
  auto capped = slice::build_kernel(40)(make_key(1), any, low, slice::Params{});
  EXPECT_EQ(capped.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace nutshell
