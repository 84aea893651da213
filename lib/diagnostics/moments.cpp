#include "nutshell/diagnostics/moments.hpp"

#include <cmath>
#include <limits>

namespace nutshell::diagnostics {

double mean(std::span<const double> x) {
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  const long double n = static_cast<long double>(x.size());
  long double s = 0.0L;
  for (double v : x) s += v;
  s /= n;
  if (std::isfinite(static_cast<double>(s))) {
    long double t = 0.0L;
    for (double v : x) t += v - s;
    s += t / n;
  }
  return static_cast<double>(s);
}

double variance(std::span<const double> x) {
  if (x.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double m = mean(x);
  long double s = 0.0L;
  for (double v : x) {
    const double d = v - m;
    s += static_cast<long double>(d) * d;
  }
  return static_cast<double>(s / static_cast<long double>(x.size() - 1));
}

double sd(std::span<const double> x) { return std::sqrt(variance(x)); }

}  // namespace nutshell::diagnostics
