// Every transform: round trip, log-Jacobian against the log-determinant of a
// finite-difference Jacobian (Stan's square-map conventions for the
// non-square ones), and rejection of values outside the constraint.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "nutshell/constraints/constraints.hpp"
#include "nutshell/core/key.hpp"

namespace nutshell::constraints {
namespace {

using Doubles = std::vector<double>;

/// log|det A| by Gaussian elimination with partial pivoting.
double log_abs_det(std::vector<double> a, std::size_t n) {
  double out = 0.0;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[p * n + c])) p = r;
    if (a[p * n + c] == 0.0) return -INFINITY;
    if (p != c)
      for (std::size_t k = 0; k < n; ++k) std::swap(a[p * n + k], a[c * n + k]);
    out += std::log(std::abs(a[c * n + c]));
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / a[c * n + c];
      for (std::size_t k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
    }
  }
  return out;
}

template <class Tr>
Doubles constrain(const Tr& t, const Doubles& u, double& lp) {
  Doubles y(t.constrained_size());
  lp = 0.0;
  t.constrain(std::span<const double>(u), std::span<double>(y), lp);
  return y;
}

/// The coordinates of y that the square map of Stan's convention keeps.
using Free = std::function<Doubles(const Doubles&)>;

Free all() {
  return [](const Doubles& y) { return y; };
}

template <class Tr>
void check_log_jacobian(const Tr& t, const Doubles& u, const Free& free) {
  double lp = 0.0;
  const Doubles y0 = free(constrain(t, u, lp));
  const std::size_t n = u.size();
  ASSERT_EQ(y0.size(), n);
  std::vector<double> jac(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    // Five-point stencil: the Jacobian is then accurate to ~1e-10.
    const double h = 1e-3 * std::max(1.0, std::abs(u[i]));
    auto at = [&](double step) {
      Doubles v = u;
      v[i] += step;
      double unused;
      return free(constrain(t, v, unused));
    };
    const Doubles p1 = at(h), m1 = at(-h), p2 = at(2 * h), m2 = at(-2 * h);
    for (std::size_t r = 0; r < n; ++r)
      jac[r * n + i] = (8 * (p1[r] - m1[r]) - (p2[r] - m2[r])) / (12 * h);
  }
  EXPECT_NEAR(lp, log_abs_det(jac, n), 1e-7 * std::max(1.0, std::abs(lp)));
}

template <class Tr>
void check_round_trip(const Tr& t, const Doubles& u) {
  double lp = 0.0;
  const Doubles y = constrain(t, u, lp);
  EXPECT_TRUE(std::isfinite(lp));
  auto back = t.unconstrain(y);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), u.size());
  for (std::size_t i = 0; i < u.size(); ++i) EXPECT_NEAR((*back)[i], u[i], 1e-9) << i;
}

/// Unconstrained points: zero, moderate random ones, and large ones.
std::vector<Doubles> points(std::size_t n) {
  std::vector<Doubles> out{Doubles(n, 0.0)};
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    Stream s(make_key(seed));
    Doubles u(n);
    const double scale = seed < 3 ? 1.0 : 3.0;
    for (double& v : u) v = scale * s.normal();
    out.push_back(u);
  }
  return out;
}

TEST(Elementwise, RoundTripAndJacobian) {
  for (std::size_t n : {1u, 4u}) {
    for (const Doubles& u : points(n)) {
      check_round_trip(Identity{n}, u);
      check_round_trip(Lower{-2.0, n}, u);
      check_round_trip(Upper{3.0, n}, u);
      check_round_trip(Interval{-1.0, 2.5, n}, u);
      check_log_jacobian(Identity{n}, u, all());
      check_log_jacobian(Lower{-2.0, n}, u, all());
      check_log_jacobian(Upper{3.0, n}, u, all());
      check_log_jacobian(Interval{-1.0, 2.5, n}, u, all());
    }
  }
}

TEST(Elementwise, ValuesAreInside) {
  for (const Doubles& u : points(5)) {
    double lp;
    for (double y : constrain(Lower{1.5, 5}, u, lp)) EXPECT_GT(y, 1.5);
    for (double y : constrain(Upper{-1.0, 5}, u, lp)) EXPECT_LT(y, -1.0);
    for (double y : constrain(Interval{0.0, 1.0, 5}, u, lp)) {
      EXPECT_GT(y, 0.0);
      EXPECT_LT(y, 1.0);
    }
  }
}

TEST(Elementwise, IntervalLogJacobianIsFiniteFarOut) {
  double lp;
  Doubles y = constrain(Interval{0.0, 1.0, 2}, Doubles{-800.0, 800.0}, lp);
  EXPECT_TRUE(std::isfinite(lp));
  EXPECT_NEAR(lp, -1600.0, 1e-9);
  EXPECT_EQ(y[1], 1.0);
}

TEST(Elementwise, OutsideIsAnError) {
  EXPECT_FALSE((Lower{0.0, 1}.unconstrain(Doubles{-1.0}).ok()));
  EXPECT_FALSE((Lower{0.0, 1}.unconstrain(Doubles{0.0}).ok()));
  EXPECT_FALSE((Upper{0.0, 1}.unconstrain(Doubles{0.5}).ok()));
  EXPECT_FALSE((Interval{0.0, 1.0, 1}.unconstrain(Doubles{1.0}).ok()));
  EXPECT_FALSE((Interval{0.0, 1.0, 1}.unconstrain(Doubles{NAN}).ok()));
  EXPECT_FALSE((Identity{1}.unconstrain(Doubles{INFINITY}).ok()));
  EXPECT_FALSE((Interval{1.0, 1.0, 1}.validate().ok()));
  EXPECT_FALSE((Lower{INFINITY, 1}.validate().ok()));
}

TEST(Ordered, RoundTripJacobianAndOrder) {
  for (std::size_t n : {1u, 2u, 5u}) {
    for (const Doubles& u : points(n)) {
      check_round_trip(Ordered{n}, u);
      check_round_trip(PositiveOrdered{n}, u);
      check_log_jacobian(Ordered{n}, u, all());
      check_log_jacobian(PositiveOrdered{n}, u, all());
      double lp;
      const Doubles y = constrain(PositiveOrdered{n}, u, lp);
      EXPECT_GT(y[0], 0.0);
      for (std::size_t k = 1; k < n; ++k) EXPECT_GT(y[k], y[k - 1]);
    }
  }
}

TEST(Ordered, UnorderedIsAnError) {
  auto bad = Ordered{3}.unconstrain(Doubles{0.0, 2.0, 1.0});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("increasing"), std::string::npos) << bad.status();
  EXPECT_FALSE((Ordered{2}.unconstrain(Doubles{1.0, 1.0}).ok()));
  EXPECT_FALSE((PositiveOrdered{2}.unconstrain(Doubles{-1.0, 1.0}).ok()));
  EXPECT_TRUE((PositiveOrdered{2}.unconstrain(Doubles{0.5, 1.0}).ok()));
}

// Stan's convention: the Jacobian of x -> (y_1, ..., y_{K-1}).
TEST(Simplex, RoundTripAndJacobianOfTheFirstKMinusOne) {
  for (std::size_t K : {2u, 3u, 6u}) {
    const Simplex t{K};
    for (const Doubles& u : points(K - 1)) {
      check_round_trip(t, u);
      check_log_jacobian(t, u, [](const Doubles& y) { return Doubles(y.begin(), y.end() - 1); });
      double lp;
      const Doubles y = constrain(t, u, lp);
      double sum = 0.0;
      for (double v : y) {
        EXPECT_GT(v, 0.0);
        sum += v;
      }
      EXPECT_NEAR(sum, 1.0, 1e-14);
    }
  }
}

TEST(Simplex, ZeroIsTheUniformSimplex) {
  double lp;
  for (double v : constrain(Simplex{4}, Doubles(3, 0.0), lp)) EXPECT_NEAR(v, 0.25, 1e-15);
}

TEST(Simplex, NotSummingToOneIsAnError) {
  auto bad = Simplex{3}.unconstrain(Doubles{0.2, 0.3, 0.4});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sum to 1"), std::string::npos) << bad.status();
  EXPECT_FALSE((Simplex{3}.unconstrain(Doubles{0.0, 0.5, 0.5}).ok()));
  EXPECT_FALSE((Simplex{1}.validate().ok()));
}

// Stan's convention: y = x / |x| plus the standard normal -|x|^2 / 2 on x.
TEST(UnitVector, NormOneAndStanLogJacobianTerm) {
  for (std::size_t K : {2u, 5u}) {
    for (const Doubles& u : points(K)) {
      if (u[0] == 0.0) continue;  // the origin has no direction
      double lp;
      const Doubles y = constrain(UnitVector{K}, u, lp);
      double ss = 0.0, norm = 0.0;
      for (double v : u) ss += v * v;
      for (double v : y) norm += v * v;
      EXPECT_NEAR(norm, 1.0, 1e-14);
      EXPECT_NEAR(lp, -0.5 * ss, 1e-12);
      for (std::size_t k = 0; k < K; ++k) EXPECT_NEAR(y[k], u[k] / std::sqrt(ss), 1e-14);
      // Round trip up to the radius: unconstrain(y) has norm 1 and constrains back to y.
      auto back = UnitVector{K}.unconstrain(y);
      ASSERT_TRUE(back.ok()) << back.status();
      const Doubles again = constrain(UnitVector{K}, *back, lp);
      for (std::size_t k = 0; k < K; ++k) EXPECT_NEAR(again[k], y[k], 1e-14);
    }
  }
  EXPECT_FALSE((UnitVector{2}.unconstrain(Doubles{1.0, 1.0}).ok()));
}

Doubles strictly_lower(const Doubles& L, std::size_t K) {
  Doubles out;
  for (std::size_t i = 0; i < K; ++i)
    for (std::size_t j = 0; j < i; ++j) out.push_back(L[i * K + j]);
  return out;
}

Doubles lower(const Doubles& S, std::size_t K) {
  Doubles out;
  for (std::size_t i = 0; i < K; ++i)
    for (std::size_t j = 0; j <= i; ++j) out.push_back(S[i * K + j]);
  return out;
}

// Stan's convention: the Jacobian of x -> strictly lower triangle of L.
TEST(CholeskyCorr, RoundTripJacobianAndUnitRows) {
  for (std::size_t K : {1u, 2u, 3u, 5u}) {
    const CholeskyCorr t{K};
    for (const Doubles& u : points(K * (K - 1) / 2)) {
      check_round_trip(t, u);
      if (K > 1)
        check_log_jacobian(t, u, [K](const Doubles& L) { return strictly_lower(L, K); });
      double lp;
      const Doubles L = constrain(t, u, lp);
      for (std::size_t i = 0; i < K; ++i) {
        double ss = 0.0;
        for (std::size_t j = 0; j < K; ++j) {
          if (j > i) {
            EXPECT_EQ(L[i * K + j], 0.0);
          }
          ss += L[i * K + j] * L[i * K + j];
        }
        EXPECT_NEAR(ss, 1.0, 1e-14);
        EXPECT_GT(L[i * K + i], 0.0);
      }
    }
  }
}

TEST(CholeskyCorr, FarOutStaysFinite) {
  double lp;
  const Doubles L = constrain(CholeskyCorr{3}, Doubles{30.0, -30.0, 25.0}, lp);
  EXPECT_TRUE(std::isfinite(lp));
  for (double v : L) EXPECT_TRUE(std::isfinite(v));
}

TEST(CholeskyCorr, NotACorrelationFactorIsAnError) {
  EXPECT_FALSE((CholeskyCorr{2}.unconstrain(Doubles{1.0, 0.0, 0.5, 0.5}).ok()));   // row norm
  EXPECT_FALSE((CholeskyCorr{2}.unconstrain(Doubles{1.0, 0.1, 0.0, 1.0}).ok()));   // upper
  EXPECT_FALSE((CholeskyCorr{2}.unconstrain(Doubles{1.0, 0.0, 0.6, -0.8}).ok()));  // diagonal
  EXPECT_TRUE((CholeskyCorr{2}.unconstrain(Doubles{1.0, 0.0, 0.6, 0.8}).ok()));
}

// Stan's convention: the Jacobian of x -> lower triangle of Sigma.
TEST(CovMatrix, RoundTripJacobianAndSymmetry) {
  for (std::size_t K : {1u, 2u, 4u}) {
    const CovMatrix t{K};
    for (const Doubles& u : points(K + K * (K - 1) / 2)) {
      check_round_trip(t, u);
      check_log_jacobian(t, u, [K](const Doubles& S) { return lower(S, K); });
      double lp;
      const Doubles S = constrain(t, u, lp);
      for (std::size_t i = 0; i < K; ++i) {
        EXPECT_GT(S[i * K + i], 0.0);
        for (std::size_t j = 0; j < K; ++j) EXPECT_EQ(S[i * K + j], S[j * K + i]);
      }
    }
  }
}

TEST(CovMatrix, NotPositiveDefiniteOrAsymmetricIsAnError) {
  auto bad = CovMatrix{2}.unconstrain(Doubles{1.0, 2.0, 2.0, 1.0});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("positive definite"), std::string::npos);
  EXPECT_FALSE((CovMatrix{2}.unconstrain(Doubles{1.0, 0.5, 0.4, 1.0}).ok()));
  EXPECT_TRUE((CovMatrix{2}.unconstrain(Doubles{2.0, 0.5, 0.5, 1.0}).ok()));
}

}  // namespace
}  // namespace nutshell::constraints
