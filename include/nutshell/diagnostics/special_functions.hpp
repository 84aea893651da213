// Special functions the diagnostics need and the C++ standard library lacks:
// the normal quantile (rank normalisation) and the regularized incomplete
// beta function and its inverse (quantile Monte Carlo standard errors).
#pragma once

namespace nutshell::diagnostics {

/// The standard normal quantile Phi^-1(p); the same algorithm (Wichura's
/// AS 241) as R's `qnorm`, so rank-normalised draws agree with R's bit for
/// bit in practice. Returns -inf at 0, +inf at 1 and NaN outside [0, 1].
double normal_quantile(double p);

/// The regularized incomplete beta function I_x(a, b), i.e. the Beta(a, b)
/// CDF (R's `pbeta`). NaN unless a > 0, b > 0 and x is not NaN.
double beta_inc(double a, double b, double x);

/// The inverse of I_x(a, b) in x, i.e. the Beta(a, b) quantile (R's
/// `qbeta`), accurate to a few ulps in x for a, b up to ~1e5.
/// NaN unless a > 0, b > 0 and p is in [0, 1].
double beta_inc_inv(double a, double b, double p);

}  // namespace nutshell::diagnostics
