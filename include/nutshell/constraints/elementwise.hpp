// Element-wise transforms from the unconstrained reals: identity, lower
// bound, upper bound and interval (Stan's parameterisations), over n
// entries. Each adds log|dy/dx| to lp in `constrain` and inverts in
// `unconstrain`, which rejects values outside the constraint.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/constraints/scalar_math.hpp"

namespace nutshell::constraints {

/// y = lb + exp(x); log|J| = x.
template <class T>
T lower_constrain(const T& x, double lb, T& lp) {
  lp += x;
  // lb = 0 (positive): the same value without recording a node for "+ 0".
  return lb == 0.0 ? detail::exp_(x) : lb + detail::exp_(x);
}

/// y = ub - exp(x); log|J| = x.
template <class T>
T upper_constrain(const T& x, double ub, T& lp) {
  lp += x;
  return ub - detail::exp_(x);
}

/// y = lb + (ub - lb) inv_logit(x); log|J| = log(ub - lb) + log inv_logit'(x).
template <class T>
T interval_constrain(const T& x, double lb, double ub, T& lp) {
  lp += std::log(ub - lb) + detail::log_inv_logit_derivative(x);
  return lb + (ub - lb) * detail::inv_logit(x);
}

/// No constraint: n reals copied as they are (log|J| = 0).
struct Identity {
  std::size_t n = 1;

  std::size_t unconstrained_size() const { return n; }
  std::size_t constrained_size() const { return n; }
  absl::Status validate() const { return absl::OkStatus(); }
  /// Copies u into out.
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& /*lp*/) const {
    for (std::size_t i = 0; i < n; ++i) out[i] = u[i];
  }
  /// Rejects non-finite values.
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    for (double v : y)
      if (!std::isfinite(v)) return absl::InvalidArgumentError("value is not finite");
    return std::vector<double>(y.begin(), y.end());
  }
};

/// n reals each > lb.
struct Lower {
  double lb = 0.0;
  std::size_t n = 1;

  std::size_t unconstrained_size() const { return n; }
  std::size_t constrained_size() const { return n; }
  /// lb must be finite.
  absl::Status validate() const {
    if (!std::isfinite(lb)) return absl::InvalidArgumentError("lower bound must be finite");
    return absl::OkStatus();
  }
  /// out[i] = lb + exp(u[i]).
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    for (std::size_t i = 0; i < n; ++i) out[i] = lower_constrain(u[i], lb, lp);
  }
  /// log(y - lb); every y must be finite and > lb.
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    std::vector<double> x(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      if (!(y[i] > lb) || !std::isfinite(y[i]))
        return absl::InvalidArgumentError(absl::StrCat("value ", y[i], " must be > ", lb));
      x[i] = std::log(y[i] - lb);
    }
    return x;
  }
};

/// n reals each < ub.
struct Upper {
  double ub = 0.0;
  std::size_t n = 1;

  std::size_t unconstrained_size() const { return n; }
  std::size_t constrained_size() const { return n; }
  /// ub must be finite.
  absl::Status validate() const {
    if (!std::isfinite(ub)) return absl::InvalidArgumentError("upper bound must be finite");
    return absl::OkStatus();
  }
  /// out[i] = ub - exp(u[i]).
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    for (std::size_t i = 0; i < n; ++i) out[i] = upper_constrain(u[i], ub, lp);
  }
  /// log(ub - y); every y must be finite and < ub.
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    std::vector<double> x(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      if (!(y[i] < ub) || !std::isfinite(y[i]))
        return absl::InvalidArgumentError(absl::StrCat("value ", y[i], " must be < ", ub));
      x[i] = std::log(ub - y[i]);
    }
    return x;
  }
};

/// n reals each in (lb, ub).
struct Interval {
  double lb = 0.0, ub = 1.0;
  std::size_t n = 1;

  std::size_t unconstrained_size() const { return n; }
  std::size_t constrained_size() const { return n; }
  /// Both bounds finite, lb < ub.
  absl::Status validate() const {
    if (!std::isfinite(lb) || !std::isfinite(ub) || !(lb < ub))
      return absl::InvalidArgumentError(
          absl::StrCat("interval bounds must be finite with lower < upper, got (", lb, ", ", ub,
                       ")"));
    return absl::OkStatus();
  }
  /// out[i] = lb + (ub - lb) inv_logit(u[i]).
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    for (std::size_t i = 0; i < n; ++i) out[i] = interval_constrain(u[i], lb, ub, lp);
  }
  /// logit((y - lb) / (ub - lb)); every y must be in (lb, ub).
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    std::vector<double> x(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      if (!(y[i] > lb && y[i] < ub))
        return absl::InvalidArgumentError(
            absl::StrCat("value ", y[i], " must be in (", lb, ", ", ub, ")"));
      x[i] = detail::logit((y[i] - lb) / (ub - lb));
      if (!std::isfinite(x[i]))
        return absl::InvalidArgumentError(
            absl::StrCat("value ", y[i], " is too close to a bound of (", lb, ", ", ub, ")"));
    }
    return x;
  }
};

}  // namespace nutshell::constraints
