// What a log density is, how kernels call it safely, and a gradient checker.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/types.hpp"

namespace nutshell {

/// A differentiable log density: `double f(const Vec& x, Vec& grad)` returns
/// log p(x) (up to a constant) and writes d log p / dx into `grad`, which the
/// caller has already sized like `x`. Returning NaN or -inf is not an error:
/// the point is simply rejected. Throwing `std::domain_error` (or
/// RecoverableError) means the same, as in Stan: the point is outside what
/// the density can evaluate, the proposal is rejected (NUTS: the leaf is
/// divergent) and the chain goes on. Any other exception is an error status
/// carrying its message, which ends the chain.
template <class F>
concept LogDensity = requires(F& f, const Vec& x, Vec& g) {
  { f(x, g) } -> std::convertible_to<double>;
};

/// A log density without gradient, for gradient-free kernels (rmh, irmh,
/// slice, elliptical slice): `double f(const Vec& x)`.
template <class F>
concept LogDensityValue = requires(F& f, const Vec& x) {
  { f(x) } -> std::convertible_to<double>;
};

/// Adapts a differentiable log density to the value-only form (the gradient is
/// computed into a scratch buffer and discarded).
template <LogDensity F>
class ValueOnly {
 public:
  explicit ValueOnly(F f) : f_(std::move(f)) {}
  double operator()(const Vec& x) {
    ensure_size(grad_, x.size());
    return f_(x, grad_);
  }

 private:
  F f_;
  Vec grad_;
};

/// What a log density throws to say "reject this point" rather than "stop":
/// e.g. an ODE solver that fails to converge for these parameters, or a
/// Cholesky factorisation of a matrix that is not positive definite. Any
/// std::domain_error is treated the same (Stan's convention), so code that
/// already throws one needs no change.
class RecoverableError : public std::domain_error {
 public:
  using std::domain_error::domain_error;
};

namespace detail {
inline absl::Status thrown_status() {
  try {
    throw;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("log density threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("log density threw a non-standard exception");
  }
}
}  // namespace detail

/// Calls `f(x, grad)`. A std::domain_error (RecoverableError) becomes NaN,
/// which every kernel rejects like any non-finite value; any other exception
/// becomes an error status. Non-finite values are returned as they are:
/// whether they are fatal is the caller's call. The try block costs nothing
/// unless something is thrown, so hot paths stay allocation-free.
template <LogDensity F>
absl::StatusOr<double> evaluate(F& f, const Vec& x, Vec& grad) noexcept {
  try {
    return static_cast<double>(f(x, grad));
  } catch (const std::domain_error&) {
    return std::numeric_limits<double>::quiet_NaN();
  } catch (...) {
    return detail::thrown_status();
  }
}

/// Value-only counterpart of `evaluate`.
template <LogDensityValue F>
absl::StatusOr<double> evaluate(F& f, const Vec& x) noexcept {
  try {
    return static_cast<double>(f(x));
  } catch (const std::domain_error&) {
    return std::numeric_limits<double>::quiet_NaN();
  } catch (...) {
    return detail::thrown_status();
  }
}

/// True when every entry is finite.
inline bool all_finite(const Vec& v) {
  return std::all_of(v.begin(), v.end(), [](double a) { return std::isfinite(a); });
}

/// Result of `check_gradient`: analytic and finite-difference gradients and
/// their discrepancy. `max_relative_error` uses |a - n| / max(1, |a|, |n|) so
/// that near-zero components are judged absolutely.
struct GradientCheck {
  double logdensity = 0.0;
  Vec analytic;
  Vec numeric;
  double max_absolute_error = 0.0;
  double max_relative_error = 0.0;
  std::size_t worst_index = 0;
};

/// Compares the gradient written by `f` at `x` with central finite differences
/// of step `h * max(1, |x_i|)`. Fails on a throw or a non-finite value.
template <LogDensity F>
absl::StatusOr<GradientCheck> check_gradient(F&& f, const Vec& x, double h = 1e-6) {
  if (!all_finite(x)) return absl::InvalidArgumentError("check_gradient: x is not finite");
  if (!(h > 0.0)) return absl::InvalidArgumentError("check_gradient: h must be > 0");
  GradientCheck out;
  out.analytic = Vec::from_shape({x.size()});
  out.numeric = Vec::from_shape({x.size()});
  auto lp = evaluate(f, x, out.analytic);
  if (!lp.ok()) return lp.status();
  if (!std::isfinite(*lp) || !all_finite(out.analytic))
    return absl::InvalidArgumentError("check_gradient: log density or gradient not finite at x");
  out.logdensity = *lp;
  Vec xp = x, scratch = Vec::from_shape({x.size()});
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double hi = h * std::max(1.0, std::abs(x(i)));
    xp(i) = x(i) + hi;
    auto up = evaluate(f, xp, scratch);
    xp(i) = x(i) - hi;
    auto down = evaluate(f, xp, scratch);
    xp(i) = x(i);
    if (!up.ok()) return up.status();
    if (!down.ok()) return down.status();
    out.numeric(i) = (*up - *down) / (2.0 * hi);
    const double a = out.analytic(i), n = out.numeric(i);
    const double abs_err = std::abs(a - n);
    const double rel_err = abs_err / std::max({1.0, std::abs(a), std::abs(n)});
    out.max_absolute_error = std::max(out.max_absolute_error, abs_err);
    if (rel_err > out.max_relative_error) {
      out.max_relative_error = rel_err;
      out.worst_index = i;
    }
  }
  return out;
}

}  // namespace nutshell
