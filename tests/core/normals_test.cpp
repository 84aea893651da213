// The vectorised normal generator (core/normals.hpp): its Threefry is
// Random123's bit for bit, and its draws are standard normal (KS, moments,
// tail mass, serial correlation) over several keys.
#include "nutshell/core/normals.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace nutshell {
namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double ks_statistic(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = normal_cdf(x[i]);
    d = std::max({d, f - i / n, (i + 1) / n - f});
  }
  return d;
}

std::vector<double> draws(const Key& key, std::size_t n) {
  std::vector<double> x(n);
  standard_normals(key, std::span<double>(x));
  return x;
}

TEST(Normals, ThreefryLanesIsRandom123) {
  for (std::uint64_t seed : {0, 1, 99, 123456789}) {
    const Key k = make_key(seed);
    for (std::uint64_t c0 : {std::uint64_t{0}, std::uint64_t{8}, ~std::uint64_t{0} - 3}) {
      std::array<std::uint64_t, 16> out;
      detail::threefry_lanes(k, c0, detail::kNormalsTag, out);
      for (std::size_t j = 0; j < 8; ++j) {
        const auto ref = detail::threefry(k, c0 + j, detail::kNormalsTag);
        EXPECT_EQ(out[2 * j], ref[0]);
        EXPECT_EQ(out[2 * j + 1], ref[1]);
      }
    }
  }
}

TEST(Normals, PureFunctionOfKeyAndIndex) {
  const Key k = make_key(5);
  const auto a = draws(k, 1000), b = draws(k, 37), c = draws(k, 1000);
  EXPECT_EQ(a, c);
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(a[i], b[i]);
  EXPECT_NE(draws(make_key(6), 10), draws(k, 10));
}

// KS at alpha = 0.001 and moments within 4.5 standard errors, on 6 keys of
// 50000 draws each (calibrated by hand on 20 more keys: no failure).
TEST(Normals, StandardNormalOverSeveralKeys) {
  constexpr std::size_t n = 50000;
  const double nd = static_cast<double>(n);
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    const auto x = draws(make_key(seed), n);
    EXPECT_LT(ks_statistic(x), 1.95 / std::sqrt(nd));
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, lag = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = x[i];
      m1 += v;
      m2 += v * v;
      m3 += v * v * v;
      m4 += v * v * v * v;
      if (i > 0) lag += v * x[i - 1];
    }
    m1 /= nd, m2 /= nd, m3 /= nd, m4 /= nd, lag /= nd - 1;
    // Standard errors of the raw moments of N(0, 1): sqrt(var(X^k) / n).
    EXPECT_LT(std::abs(m1), 4.5 * std::sqrt(1.0 / nd));
    EXPECT_LT(std::abs(m2 - 1.0), 4.5 * std::sqrt(2.0 / nd));
    EXPECT_LT(std::abs(m3), 4.5 * std::sqrt(15.0 / nd));
    EXPECT_LT(std::abs(m4 - 3.0), 4.5 * std::sqrt(96.0 / nd));
    EXPECT_LT(std::abs(lag), 4.5 * std::sqrt(1.0 / nd));
  }
}

// The ziggurat's rare branches: the tail beyond r = 3.654 and the wedges.
// P(|X| > 3.654) = 2.58e-4 and P(|X| > 2.5) = 0.01242, counted on 400000
// draws (4 keys), within 4.5 Poisson standard deviations.
TEST(Normals, TailMass) {
  std::size_t beyond_r = 0, beyond_25 = 0, total = 0;
  for (std::uint64_t seed = 11; seed <= 14; ++seed) {
    for (double v : draws(make_key(seed), 100000)) {
      beyond_r += std::abs(v) > 3.6541528853610088;
      beyond_25 += std::abs(v) > 2.5;
      ++total;
    }
  }
  const double e_r = total * 2.0 * (1.0 - normal_cdf(3.6541528853610088));
  const double e_25 = total * 2.0 * (1.0 - normal_cdf(2.5));
  EXPECT_LT(std::abs(beyond_r - e_r), 4.5 * std::sqrt(e_r)) << beyond_r << " vs " << e_r;
  EXPECT_LT(std::abs(beyond_25 - e_25), 4.5 * std::sqrt(e_25)) << beyond_25 << " vs " << e_25;
}

}  // namespace
}  // namespace nutshell
