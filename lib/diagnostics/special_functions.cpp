#include "nutshell/diagnostics/special_functions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nutshell::diagnostics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = std::numeric_limits<double>::epsilon();

constexpr double kHalfLog2Pi = 0.91893853320467274178;

// log(1 + u) - u without cancellation for small u, via
// log(1 + u) = 2 atanh(t), t = u / (2 + u).
double log1pmx(double u) {
  if (u < -0.5 || u > 1.0) return std::log1p(u) - u;
  const double t = u / (2.0 + u), t2 = t * t;
  double term = t * t2, sum = 0.0;
  for (int k = 3; k < 80; k += 2) {
    const double next = sum + term / k;
    if (next == sum) break;
    sum = next;
    term *= t2;
  }
  return -u * u / (2.0 + u) + 2.0 * sum;
}

// lgamma(z) minus its Stirling approximation (z - 1/2) log z - z + log(2 pi)/2.
double stirling_remainder(double z) {
  if (z < 10.0) return std::lgamma(z) - ((z - 0.5) * std::log(z) - z + kHalfLog2Pi);
  const double r = 1.0 / z, r2 = r * r;
  return r * (1.0 / 12 + r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + r2 * (-1.0 / 1680 +
         r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 + r2 * (1.0 / 156 +
         r2 * (-3617.0 / 122400))))))));
}

// log(x^a (1 - x)^b / B(a, b)). Near the mode x0 = a / (a + b) it is
// computed from the deviation x - x0 (the first-order terms cancel
// analytically) so that it keeps full precision for large a and b, where
// lgamma(a) + lgamma(b) - lgamma(a + b) would lose ~log10(lgamma(a + b))
// digits; far from the mode, where values are tiny, the direct form is used.
double log_beta_power_terms(double a, double b, double x) {
  const double c = a + b;
  const double x0 = a / c, y0 = b / c;
  const double d = x - x0;
  const double u = d / x0, v = -d / y0;
  const double remainder =
      stirling_remainder(a) + stirling_remainder(b) - stirling_remainder(c);
  if (std::abs(u) <= 0.5 && std::abs(v) <= 0.5) {
    return a * log1pmx(u) + b * log1pmx(v) + 0.5 * std::log(a / c * b) -
           kHalfLog2Pi - remainder;
  }
  return a * std::log(x) + b * std::log1p(-x) -
         (std::lgamma(a) + std::lgamma(b) - std::lgamma(c));
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
  const double log_front = log_beta_power_terms(a, b, x);
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
    const double density =
        std::exp(log_beta_power_terms(a, b, x) - std::log(x) - std::log1p(-x));
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
