#include "nutshell/core/key.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace nutshell {
namespace {

constexpr std::size_t kN = 20000;

// Kolmogorov-Smirnov statistic of sorted draws against a CDF.
template <class Cdf>
double ks_statistic(std::vector<double> x, Cdf cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, f - i / n, (i + 1) / n - f});
  }
  return d;
}
// Critical value at alpha = 0.001 (asymptotic): a correct generator fails
// this for a given fixed key with probability 1e-3.
double ks_critical(std::size_t n) { return 1.95 / std::sqrt(static_cast<double>(n)); }

double mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / x.size();
}
double variance(const std::vector<double>& x) {
  const double m = mean(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return s / (x.size() - 1);
}

TEST(Key, SameKeySameDrawDifferentKeysDiffer) {
  const Key k = make_key(42);
  EXPECT_EQ(uniform(k), uniform(k));
  EXPECT_EQ(normal(k), normal(k));
  EXPECT_NE(uniform(split_one(k, 0)), uniform(split_one(k, 1)));
  EXPECT_NE(make_key(1), make_key(2));
  EXPECT_NE(fold_in(k, 0), split_one(k, 0));  // domains never collide
  EXPECT_EQ(split(k, 5)[3], split_one(k, 3));
  EXPECT_EQ((split<3>(k)[2]), split_one(k, 2));
}

TEST(Key, ManySplitsAreDistinct) {
  std::set<std::array<std::uint64_t, 2>> seen;
  const Key k = make_key(7);
  for (const Key& c : split(k, 10000)) seen.insert(c.words);
  for (std::uint64_t i = 0; i < 10000; ++i) seen.insert(fold_in(k, i).words);
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(Key, UniformPassesKolmogorovSmirnov) {
  std::vector<double> u(kN);
  const Key k = make_key(1);
  for (std::size_t i = 0; i < kN; ++i) u[i] = uniform(fold_in(k, i));
  EXPECT_LT(ks_statistic(u, [](double x) { return x; }), ks_critical(kN));
  EXPECT_GT(*std::min_element(u.begin(), u.end()), 0.0);
  EXPECT_LT(*std::max_element(u.begin(), u.end()), 1.0);
}

TEST(Key, NormalVectorPassesKolmogorovSmirnovAndMoments) {
  const Vec z = normal(make_key(2), kN);
  std::vector<double> x(z.begin(), z.end());
  auto phi = [](double v) { return 0.5 * std::erfc(-v / std::sqrt(2.0)); };
  EXPECT_LT(ks_statistic(x, phi), ks_critical(kN));
  EXPECT_LT(std::abs(mean(x)), 4.0 / std::sqrt(kN));
  // Var of the sample variance of N(0,1) is 2/(n-1).
  EXPECT_LT(std::abs(variance(x) - 1.0), 4.0 * std::sqrt(2.0 / kN));
  // Consecutive draws of the vector are uncorrelated.
  double c = 0;
  for (std::size_t i = 0; i + 1 < kN; ++i) c += x[i] * x[i + 1];
  EXPECT_LT(std::abs(c / kN), 4.0 / std::sqrt(kN));
}

TEST(Key, ScalarNormalPassesKolmogorovSmirnov) {
  std::vector<double> x(kN);
  const Key k = make_key(3);
  for (std::size_t i = 0; i < kN; ++i) x[i] = normal(fold_in(k, i));
  auto phi = [](double v) { return 0.5 * std::erfc(-v / std::sqrt(2.0)); };
  EXPECT_LT(ks_statistic(x, phi), ks_critical(kN));
}

TEST(Key, SplitChildrenAreUncorrelated) {
  std::vector<double> a(kN), b(kN);
  const Key k = make_key(4);
  for (std::size_t i = 0; i < kN; ++i) {
    const auto kids = split<2>(fold_in(k, i));
    a[i] = normal(kids[0]);
    b[i] = normal(kids[1]);
  }
  double c = 0;
  for (std::size_t i = 0; i < kN; ++i) c += a[i] * b[i];
  EXPECT_LT(std::abs(c / kN), 4.0 / std::sqrt(kN));
}

TEST(Key, ExponentialAndGammaMoments) {
  const Key k = make_key(5);
  std::vector<double> e(kN);
  for (std::size_t i = 0; i < kN; ++i) e[i] = exponential(fold_in(k, i));
  EXPECT_LT(std::abs(mean(e) - 1.0), 4.0 / std::sqrt(kN));  // sd of Exp(1) is 1
  for (double shape : {0.3, 1.0, 2.5, 10.0}) {
    std::vector<double> g(kN);
    for (std::size_t i = 0; i < kN; ++i) g[i] = gamma(fold_in(split_one(k, 1), i), shape);
    // Gamma(a, 1): mean a, variance a.
    EXPECT_LT(std::abs(mean(g) - shape), 4.0 * std::sqrt(shape / kN)) << "shape " << shape;
    EXPECT_LT(std::abs(variance(g) - shape) / shape, 0.1) << "shape " << shape;
    EXPECT_GT(*std::min_element(g.begin(), g.end()), 0.0);
  }
  EXPECT_TRUE(std::isnan(gamma(k, -1.0)));
}

TEST(Key, CategoricalAndBernoulliFrequencies) {
  const Key k = make_key(6);
  const std::vector<double> w = {1.0, 0.0, 3.0, 6.0};
  std::vector<double> logits(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) logits[i] = std::log(w[i]) + 100.0;
  std::vector<int> counts(4, 0), counts_logits(4, 0);
  int heads = 0;
  for (std::size_t i = 0; i < kN; ++i) {
    ++counts[categorical(fold_in(k, i), w)];
    ++counts_logits[categorical_logits(fold_in(k, i), logits)];
    heads += bernoulli(fold_in(split_one(k, 2), i), 0.3);
  }
  EXPECT_EQ(counts[1], 0);
  for (std::size_t j = 0; j < w.size(); ++j) {
    const double p = w[j] / 10.0;
    const double sd = std::sqrt(kN * p * (1 - p)) + 1e-9;
    EXPECT_LT(std::abs(counts[j] - kN * p), 4 * sd + 1e-9) << j;
    EXPECT_LT(std::abs(counts_logits[j] - kN * p), 4 * sd + 1e-9) << j;
  }
  EXPECT_LT(std::abs(heads - 0.3 * kN), 4 * std::sqrt(kN * 0.21));
  EXPECT_EQ(categorical(k, std::vector<double>{0.0, 0.0}), -1);
}

}  // namespace
}  // namespace nutshell
