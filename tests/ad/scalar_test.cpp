// Every elementary function of nutshell::ad: value equal to the double
// version, reverse-mode derivative against finite differences on a grid that
// includes the edges of its domain, forward mode (dual) equal to reverse mode,
// and the second derivative (fvar<var>) against finite differences of the
// first. A non-finite derivative where the value is finite fails.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "tests/ad/fd.hpp"

#include <cstdio>

namespace nutshell::ad {
namespace {

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

using testing::close;
using testing::fd_derivative;
constexpr double kInf = std::numeric_limits<double>::infinity();

template <class F>
double d1(F f, double x) {
  TapeScope scope;
  var v(x);
  var y = f(v);
  grad(y, scope.mark());
  return v.adj();
}

template <class F>
double d2(F f, double x) {
  TapeScope scope;
  fvar<var> v(var(x), var(1.0));
  fvar<var> y = f(v);
  grad(y.d_, scope.mark());
  return v.val_.adj();
}

// Step for finite differences at x: inside the domain [lo, hi], and small
// against the scale on which f' changes.
double step(double x, double lo, double hi, double fp, double fpp) {
  double h = 1e-3 * std::max(1.0, std::abs(x));
  if (std::isfinite(lo)) h = std::min(h, 0.01 * (x - lo));
  if (std::isfinite(hi)) h = std::min(h, 0.01 * (hi - x));
  if (fpp != 0.0 && std::isfinite(fpp) && fp != 0.0) h = std::min(h, 0.02 * std::abs(fp / fpp));
  return h;
}

// Checks a one-argument function on `xs` inside the domain (lo, hi).
template <class F>
void check_unary(const std::string& name, F f, const std::vector<double>& xs, double lo = -kInf,
                 double hi = kInf, bool check_second = true) {
  for (double x : xs) {
    SCOPED_TRACE(name + " at x = " + num(x));
    const double fx = f(x);
    double value_var;
    {
      TapeScope scope;
      value_var = f(var(x)).val();
    }
    EXPECT_EQ(value_var, fx);
    const double g = d1(f, x);
    if (std::isfinite(fx)) {
      EXPECT_TRUE(std::isfinite(g)) << "derivative " << g;
    }
    const double h2 = d2(f, x);
    const double h = step(x, lo, hi, g, h2);
    const double fd = fd_derivative([&](double t) { return static_cast<double>(f(t)); }, x, h);
    const double roundoff = 1e-12 * std::max(std::abs(fx), 1e-300) / h;
    EXPECT_TRUE(close(g, fd, 1e-6, roundoff)) << "ad " << g << " fd " << fd << " h " << h;
    // Forward mode equals reverse mode.
    const dual df = f(dual(x, 1.0));
    EXPECT_EQ(df.val_, fx);
    EXPECT_TRUE(close(df.d_, g, 1e-12, 1e-300)) << "dual " << df.d_ << " var " << g;
    if (check_second && std::isfinite(g)) {
      const double fd2 = fd_derivative([&](double t) { return d1(f, t); }, x, h);
      const double roundoff2 = 1e-12 * std::max(std::abs(g), 1e-300) / h;
      EXPECT_TRUE(close(h2, fd2, 1e-5, roundoff2)) << "second " << h2 << " fd " << fd2;
    }
  }
}

TEST(AdScalar, ExpLogFamily) {
  check_unary("exp", [](auto x) { return ad::exp(x); }, {-700, -30, -1, 0, 1e-9, 1, 30, 700});
  check_unary("log", [](auto x) { return ad::log(x); }, {1e-150, 1e-8, 0.5, 1, 1e8}, 0.0);
  check_unary("log1p", [](auto x) { return ad::log1p(x); },
              {-1 + 1e-10, -0.5, 0, 1e-8, 10, 1e10}, -1.0);
  check_unary("expm1", [](auto x) { return ad::expm1(x); }, {-50, -1, 0, 1e-10, 1, 50});
  check_unary("log1m", [](auto x) { return ad::log1m(x); }, {-1e8, -1, 0, 0.5, 1 - 1e-10},
              -kInf, 1.0);
  check_unary("log1p_exp", [](auto x) { return ad::log1p_exp(x); },
              {-800, -40, -1, 0, 1, 40, 800});
  check_unary("log1m_exp", [](auto x) { return ad::log1m_exp(x); },
              {-800, -40, -1, -0.7, -0.69, -1e-10}, -kInf, 0.0);
}

TEST(AdScalar, PowersAndRoots) {
  check_unary("sqrt", [](auto x) { return ad::sqrt(x); }, {1e-10, 1, 1e10}, 0.0);
  check_unary("cbrt", [](auto x) { return ad::cbrt(x); }, {-8, -1e-6, 1e-6, 27});
  check_unary("square", [](auto x) { return ad::square(x); }, {-3, 0, 2, 1e150});
  check_unary("inv", [](auto x) { return ad::inv(x); }, {-2, 1e-5, 3});
  // pow with a data exponent, including base 0 and negative bases with
  // integer exponents.
  for (double b : {0.0, 1.0, 2.0, 3.0, -2.0, 0.5}) {
    std::vector<double> xs = {0.5, 2.0, 10.0};
    if (b == 0.0 || b == 1.0 || b == 2.0 || b == 3.0) {
      xs.push_back(0.0);
      xs.push_back(-1.5);
    }
    if (b == -2.0) xs.push_back(-1.5);
    check_unary("pow(x, " + std::to_string(b) + ")", [b](auto x) { return ad::pow(x, b); }, xs,
                -kInf, kInf, /*check_second=*/b != 0.0 || true);
  }
  for (double a : {0.5, 2.0, 10.0})
    check_unary("pow(" + std::to_string(a) + ", x)", [a](auto x) { return ad::pow(a, x); },
                {-3, 0, 0.5, 4});
}

TEST(AdScalar, SpecialFunctions) {
  check_unary("lgamma", [](auto x) { return ad::lgamma(x); },
              {1e-10, 1e-3, 0.5, 1, 2, 9.99, 10, 10.01, 1e5, 1e10}, 0.0);
  check_unary("lgamma<0", [](auto x) { return ad::lgamma(x); }, {-0.5, -1.5}, -2.0, 0.0);
  check_unary("digamma", [](auto x) { return ad::digamma(x); },
              {1e-6, 0.5, 1, 9.9, 10, 10.1, 100, 1e8}, 0.0);
  check_unary("digamma<0", [](auto x) { return ad::digamma(x); }, {-0.5, -1.3}, -2.0, 0.0);
  check_unary("trigamma", [](auto x) { return ad::trigamma(x); }, {1e-3, 0.5, 5, 10, 50},
              0.0, kInf, /*check_second=*/false);
  check_unary("erf", [](auto x) { return ad::erf(x); }, {-6, -1, 0, 1, 6});
  check_unary("erfc", [](auto x) { return ad::erfc(x); }, {-6, -1, 0, 1, 6, 26});
  check_unary("Phi", [](auto x) { return ad::Phi(x); }, {-38, -30, -5, 0, 5, 30});
}

TEST(AdScalar, Logistic) {
  const std::vector<double> grid = {-800, -40, -5, 0, 5, 40, 800};
  check_unary("inv_logit", [](auto x) { return ad::inv_logit(x); }, grid);
  check_unary("log_inv_logit", [](auto x) { return ad::log_inv_logit(x); }, grid);
  check_unary("log1m_inv_logit", [](auto x) { return ad::log1m_inv_logit(x); }, grid);
  check_unary("logit", [](auto x) { return ad::logit(x); }, {1e-10, 0.3, 1 - 1e-10}, 0.0, 1.0);
}

TEST(AdScalar, Trigonometric) {
  const std::vector<double> grid = {-40, -3, -0.5, 0, 0.7, 2, 40};
  check_unary("sin", [](auto x) { return ad::sin(x); }, grid);
  check_unary("cos", [](auto x) { return ad::cos(x); }, grid);
  check_unary("tan", [](auto x) { return ad::tan(x); }, {-1.5, -0.5, 0, 0.7, 1.5});
  check_unary("tanh", [](auto x) { return ad::tanh(x); }, grid);
  check_unary("atan", [](auto x) { return ad::atan(x); }, {-1e8, -3, 0, 0.7, 1e8});
  check_unary("sinh", [](auto x) { return ad::sinh(x); }, {-700, -3, 0, 0.7, 700});
  check_unary("cosh", [](auto x) { return ad::cosh(x); }, {-700, -3, 0, 0.7, 700});
  check_unary("fabs<0", [](auto x) { return ad::fabs(x); }, {-2, -1e-10}, -kInf, 0.0);
  check_unary("fabs>0", [](auto x) { return ad::fabs(x); }, {1e-10, 3}, 0.0, kInf);
}

TEST(AdScalar, Arithmetic) {
  check_unary("x*x+3x", [](auto x) { return x * x + 3.0 * x; }, {-2, 0, 5});
  check_unary("(x-1)/(2+x)", [](auto x) { return (x - 1.0) / (2.0 + x); }, {-1.5, 0, 5});
  check_unary("1/x - x/4", [](auto x) { return 1.0 / x - x / 4.0; }, {-1.5, 0.3, 5});
  check_unary("-(3-x)", [](auto x) { return -(3.0 - x); }, {-1.5, 0.3});
  check_unary("compound", [](auto x) {
    auto y = x;
    y += 2.0;
    y *= x;
    y -= x;
    y /= 3.0;
    y += y;
    y *= 2.0;
    y -= 1.0;
    y /= x;
    return y;
  }, {-1.5, 0.3, 4});
}

// Two-argument functions: each partial against finite differences, for the
// (var, var), (var, double) and (double, var) overloads.
template <class F>
void check_binary(const std::string& name, F f, const std::vector<std::pair<double, double>>& pts) {
  for (auto [a, b] : pts) {
    SCOPED_TRACE(name + " at (" + num(a) + ", " + num(b) + ")");
    const double fab = f(a, b);
    double ga, gb, ga1, gb1;
    {
      TapeScope scope;
      var va(a), vb(b);
      var y = f(va, vb);
      EXPECT_EQ(y.val(), fab);
      grad(y, scope.mark());
      ga = va.adj();
      gb = vb.adj();
    }
    {
      TapeScope scope;
      var va(a);
      var y = f(va, b);
      EXPECT_EQ(y.val(), fab);
      grad(y, scope.mark());
      ga1 = va.adj();
    }
    {
      TapeScope scope;
      var vb(b);
      var y = f(a, vb);
      EXPECT_EQ(y.val(), fab);
      grad(y, scope.mark());
      gb1 = vb.adj();
    }
    if (std::isfinite(fab)) {
      EXPECT_TRUE(std::isfinite(ga) && std::isfinite(gb)) << ga << " " << gb;
    }
    EXPECT_TRUE(close(ga, ga1, 1e-14, 0.0)) << ga << " " << ga1;
    EXPECT_TRUE(close(gb, gb1, 1e-14, 0.0)) << gb << " " << gb1;
    const dual da = f(dual(a, 1.0), dual(b, 0.0)), db = f(dual(a, 0.0), dual(b, 1.0));
    EXPECT_TRUE(close(da.d_, ga, 1e-12, 1e-300)) << da.d_ << " " << ga;
    EXPECT_TRUE(close(db.d_, gb, 1e-12, 1e-300)) << db.d_ << " " << gb;
    // Steps small against each argument (positive domains) and their distance.
    auto pick = [&](double u) {
      double h = 1e-4 * std::max(1.0, std::abs(u));
      if (u != 0.0) h = std::min(h, 0.01 * std::abs(u));
      if (a != b) h = std::min(h, 0.01 * std::abs(a - b));
      return h;
    };
    const double ha = pick(a), hb = pick(b);
    const double fda = fd_derivative([&](double t) { return static_cast<double>(f(t, b)); }, a, ha);
    const double fdb = fd_derivative([&](double t) { return static_cast<double>(f(a, t)); }, b, hb);
    const double ra = 1e-12 * std::max(std::abs(fab), 1e-300) / ha;
    const double rb = 1e-12 * std::max(std::abs(fab), 1e-300) / hb;
    EXPECT_TRUE(close(ga, fda, 1e-6, ra)) << "d/da ad " << ga << " fd " << fda;
    EXPECT_TRUE(close(gb, fdb, 1e-6, rb)) << "d/db ad " << gb << " fd " << fdb;
  }
}

TEST(AdScalar, TwoArguments) {
  check_binary("pow", [](auto a, auto b) { return ad::pow(a, b); },
               {{2, 3}, {0.5, -1.5}, {10, 0.25}, {3, 0}, {1e-3, 2}});
  check_binary("lbeta", [](auto a, auto b) { return ad::lbeta(a, b); },
               {{1e-8, 0.5}, {0.5, 3}, {3, 1e6}, {1e6, 1e6}, {2, 2}});
  check_binary("log_sum_exp", [](auto a, auto b) { return ad::log_sum_exp(a, b); },
               {{0, 0}, {-800, -800}, {1000, -1000}, {3, 2.5}, {-2, 40}});
  check_binary("log_diff_exp", [](auto a, auto b) { return ad::log_diff_exp(a, b); },
               {{1, 0}, {1, 1 - 1e-6}, {0, -800}, {800, 799}, {3, -2}});
  check_binary("fmin", [](auto a, auto b) { return ad::fmin(a, b); }, {{1, 2}, {3, -2}});
  check_binary("fmax", [](auto a, auto b) { return ad::fmax(a, b); }, {{1, 2}, {3, -2}});
  check_binary("a*b/(a-b)", [](auto a, auto b) { return a * b / (a - b); }, {{1, 2}, {3, -2}});
}

TEST(AdScalar, BaseZeroExponentDerivatives) {
  // pow(var, var) at base 0: d/db = 0 (the limit), d/da = b 0^(b-1).
  for (double b : {1.0, 2.0, 3.0}) {
    TapeScope scope;
    var a(0.0), vb(b);
    var y = ad::pow(a, vb);
    grad(y, scope.mark());
    EXPECT_EQ(vb.adj(), 0.0);
    EXPECT_EQ(a.adj(), b == 1.0 ? 1.0 : 0.0);
  }
}

TEST(AdScalar, InfiniteArguments) {
  // log_sum_exp with -inf and log_diff_exp with b = -inf: finite value, finite
  // partials.
  TapeScope scope;
  var a(-kInf), b(0.5);
  var y = ad::log_sum_exp(a, b) + ad::log_diff_exp(b, a);
  grad(y, scope.mark());
  EXPECT_EQ(y.val(), 1.0);
  EXPECT_EQ(a.adj(), 0.0);
  EXPECT_EQ(b.adj(), 2.0);
}

TEST(AdScalar, Comparisons) {
  TapeScope scope;
  var a(1.0), b(2.0);
  EXPECT_TRUE(a < b && a <= b && b > a && b >= a && a != b && !(a == b));
  EXPECT_TRUE(a < 2.0 && 0.0 < a && a == 1.0 && 1.0 == a);
  dual c(1.0, 5.0);
  EXPECT_TRUE(c < 2.0 && c == dual(1.0, 0.0) && c >= 1.0);
}

}  // namespace
}  // namespace nutshell::ad
