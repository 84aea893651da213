// Log-gamma and digamma for the Student-t density and its nu-derivative.
#pragma once

#include <cmath>

namespace nutshell::posteriors::detail {

/// log Gamma(x) for x > 0. glibc's lgamma writes the global `signgam`, a data
/// race when chains run on several threads; lgamma_r does not.
inline double log_gamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

/// digamma(x) for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x lifts x to
/// at least 10, where the asymptotic series truncated after x^-10 is accurate
/// to about 1e-14.
inline double digamma(double x) {
  double acc = 0.0;
  while (x < 10.0) {
    acc -= 1.0 / x;
    x += 1.0;
  }
  const double f = 1.0 / (x * x);
  const double series =
      f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
  return acc + std::log(x) - 0.5 / x - series;
}

}  // namespace nutshell::posteriors::detail
