// Resampling schemes: unbiased expected counts, lower variance for
// systematic / stratified / residual than multinomial, purity, bad input.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/smc/resampling.hpp"

namespace nutshell::smc {
namespace {

constexpr Resampling kAll[] = {Resampling::kSystematic, Resampling::kStratified,
                               Resampling::kMultinomial, Resampling::kResidual};

struct CountStats {
  std::vector<double> mean, var;
};

// Mean and variance of the number of copies of each particle over `reps` keys.
CountStats count_stats(Resampling method, const std::vector<double>& w, std::size_t m, int reps) {
  const std::size_t n = w.size();
  std::vector<double> s1(n, 0.0), s2(n, 0.0);
  std::vector<std::size_t> out(m);
  std::vector<double> scratch;
  std::vector<double> counts(n);
  for (int r = 0; r < reps; ++r) {
    EXPECT_TRUE(resample_into(method, fold_in(make_key(7), r), w, out, scratch).ok());
    std::fill(counts.begin(), counts.end(), 0.0);
    for (std::size_t i : out) counts[i] += 1.0;
    for (std::size_t i = 0; i < n; ++i) {
      s1[i] += counts[i];
      s2[i] += counts[i] * counts[i];
    }
  }
  CountStats st{std::vector<double>(n), std::vector<double>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    st.mean[i] = s1[i] / reps;
    st.var[i] = s2[i] / reps - st.mean[i] * st.mean[i];
  }
  return st;
}

// Unnormalised weights (sum 6.9) with non-integer expected counts and a zero.
const std::vector<double> kWeights = {0.3, 1.7, 0.0, 0.45, 2.2, 0.05, 1.1, 1.1};

TEST(Resampling, ExpectedCountsAreMTimesTheWeights) {
  const std::size_t m = 20;
  const int reps = 4000;
  double total = 0.0;
  for (double w : kWeights) total += w;
  for (Resampling method : kAll) {
    const auto st = count_stats(method, kWeights, m, reps);
    for (std::size_t i = 0; i < kWeights.size(); ++i) {
      const double expected = m * kWeights[i] / total;
      const double se = std::sqrt(st.var[i] / reps);
      EXPECT_LE(std::abs(st.mean[i] - expected), 4.0 * se + 1e-12)
          << "method " << static_cast<int>(method) << " particle " << i << " mean " << st.mean[i]
          << " expected " << expected << " se " << se;
    }
    EXPECT_EQ(st.mean[2], 0.0) << "a zero weight is never resampled";
  }
}

TEST(Resampling, SystematicStratifiedResidualBeatMultinomialVariance) {
  const std::size_t m = 20;
  const int reps = 4000;
  auto total_var = [&](Resampling method) {
    const auto st = count_stats(method, kWeights, m, reps);
    double v = 0.0;
    for (double x : st.var) v += x;
    return v;
  };
  const double multinomial = total_var(Resampling::kMultinomial);
  const double systematic = total_var(Resampling::kSystematic);
  const double stratified = total_var(Resampling::kStratified);
  const double residual = total_var(Resampling::kResidual);
  // Multinomial: sum M w (1 - w) ~ 16.5 here; systematic ~ 1.3, stratified ~ 2.5, residual ~ 3.
  EXPECT_LT(systematic, 0.5 * multinomial) << systematic << " vs " << multinomial;
  EXPECT_LT(stratified, 0.5 * multinomial) << stratified << " vs " << multinomial;
  EXPECT_LT(residual, 0.5 * multinomial) << residual << " vs " << multinomial;
  std::printf("count variance summed over particles: multinomial %.3f systematic %.3f "
              "stratified %.3f residual %.3f\n",
              multinomial, systematic, stratified, residual);
}

TEST(Resampling, PureFunctionOfKeyAndWeights) {
  for (Resampling method : kAll) {
    auto a = resample(method, make_key(3), kWeights, 50);
    auto b = resample(method, make_key(3), kWeights, 50);
    auto c = resample(method, make_key(4), kWeights, 50);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(*a, *b);
    if (method != Resampling::kResidual) {
      EXPECT_NE(*a, *c);
    }
  }
}

TEST(Resampling, BadWeightsAreErrors) {
  const std::vector<double> negative = {0.5, -0.1, 0.6}, nan = {0.5, NAN, 0.5}, zero = {0.0, 0.0},
                            empty = {};
  for (Resampling method : kAll) {
    EXPECT_EQ(resample(method, make_key(1), negative, 3).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(resample(method, make_key(1), nan, 3).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(resample(method, make_key(1), zero, 3).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(resample(method, make_key(1), empty, 3).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(resample(method, make_key(1), kWeights, 0).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(Resampling, OneDominantWeightTakesEverySlot) {
  const std::vector<double> w = {0.0, 1e-300, 1.0, 0.0};
  for (Resampling method : kAll) {
    auto idx = resample(method, make_key(9), w, 10);
    ASSERT_TRUE(idx.ok());
    for (std::size_t i : *idx) EXPECT_EQ(i, 2u);
  }
}

}  // namespace
}  // namespace nutshell::smc
