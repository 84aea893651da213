#include "nutshell/diagnostics/special_functions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nutshell::diagnostics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = std::numeric_limits<double>::epsilon();

double log_beta(double a, double b) {
  return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
}

// Continued fraction for I_x(a, b) (modified Lentz), converging fast for
// x < (a + 1) / (a + b + 2); it needs O(sqrt(max(a, b))) terms.
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr int kMaxTerms = 100000;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxTerms; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1.0) < kEps) break;
  }
  return h;
}

// log of the Beta(a, b) density at x in (0, 1).
double log_beta_density(double a, double b, double x, double lbeta) {
  return (a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) - lbeta;
}

}  // namespace

double normal_quantile(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  const double q = p - 0.5;
  double r, val;
  if (std::abs(q) <= 0.425) {
    r = 0.180625 - q * q;
    val = q *
          (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r +
                67265.770927008700853) * r + 45921.953931549871457) * r +
              13731.693765509461125) * r + 1971.5909503065514427) * r +
            133.14166789178437745) * r + 3.387132872796366608) /
          (((((((r * 5226.495278852545925 + 28729.085735721942674) * r +
                39307.89580009271061) * r + 21213.794301586595867) * r +
              5394.1960214247511077) * r + 687.1870074920579083) * r +
            42.313330701600911252) * r + 1.0);
    return val;
  }
  // R forms 1 - p as 0.5 - p + 0.5; kept for bit-identical tails.
  r = q > 0 ? 0.5 - p + 0.5 : p;
  r = std::sqrt(-std::log(r));
  if (r <= 5.0) {
    r += -1.6;
    val = (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r +
                0.24178072517745061177) * r + 1.27045825245236838258) * r +
              3.64784832476320460504) * r + 5.7694972214606914055) * r +
            4.6303378461565452959) * r + 1.42343711074968357734) /
          (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r +
                0.0151986665636164571966) * r + 0.14810397642748007459) * r +
              0.68976733498510000455) * r + 1.6763848301838038494) * r +
            2.05319162663775882187) * r + 1.0);
  } else {
    r += -5.0;
    val = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r +
                0.0012426609473880784386) * r + 0.026532189526576123093) * r +
              0.29656057182850489123) * r + 1.7848265399172913358) * r +
            5.4637849111641143699) * r + 6.6579046435011037772) /
          (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r +
                1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
              0.0148753612908506148525) * r + 0.13692988092273580531) * r +
            0.59983220655588793769) * r + 1.0);
  }
  return q < 0.0 ? -val : val;
}

double beta_inc(double a, double b, double x) {
  if (!(a > 0.0) || !(b > 0.0) || std::isnan(x)) return kNaN;
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front =
      a * std::log(x) + b * std::log1p(-x) - log_beta(a, b);
  // Use the continued fraction on whichever side it converges fast.
  if (x < (a + 1.0) / (a + b + 2.0)) {
    return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
  }
  return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, 1.0 - x) / b;
}

double beta_inc_inv(double a, double b, double p) {
  if (!(a > 0.0) || !(b > 0.0) || std::isnan(p) || p < 0.0 || p > 1.0) {
    return kNaN;
  }
  if (p == 0.0) return 0.0;
  if (p == 1.0) return 1.0;
  const double lbeta = log_beta(a, b);
  // Start from the normal approximation; Newton steps that leave the
  // bracket fall back to bisection, so convergence is guaranteed.
  const double ab = a + b;
  const double mu = a / ab;
  const double sigma = std::sqrt(a * b / (ab * ab * (ab + 1.0)));
  double x = std::clamp(mu + sigma * normal_quantile(p), 1e-3 * mu,
                        1.0 - 1e-3 * (1.0 - mu));
  double lo = 0.0, hi = 1.0;
  for (int iter = 0; iter < 300; ++iter) {
    const double f = beta_inc(a, b, x) - p;
    if (f == 0.0) return x;
    (f < 0.0 ? lo : hi) = x;
    const double density = std::exp(log_beta_density(a, b, x, lbeta));
    double next = x - f / density;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 2.0 * kEps * x || hi - lo <= 2.0 * kEps * x) {
      return next;
    }
    x = next;
  }
  return x;
}

}  // namespace nutshell::diagnostics
