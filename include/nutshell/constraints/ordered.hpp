// Ordered and positive-ordered vectors (Stan's parameterisation): the first
// entry free (or exp of it), each next one the previous plus exp(x_k).
// log|J| = sum of the exponentiated x_k.
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

/// A strictly increasing vector of n reals.
struct Ordered {
  std::size_t n = 1;

  std::size_t unconstrained_size() const { return n; }
  std::size_t constrained_size() const { return n; }
  /// n must be >= 1.
  absl::Status validate() const {
    if (n == 0) return absl::InvalidArgumentError("ordered vector needs at least 1 entry");
    return absl::OkStatus();
  }
  /// y_0 = x_0, y_k = y_{k-1} + exp(x_k); lp += sum_{k>0} x_k.
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    out[0] = u[0];
    for (std::size_t k = 1; k < n; ++k) {
      out[k] = out[k - 1] + detail::exp_(u[k]);
      lp += u[k];
    }
  }
  /// x_0 = y_0, x_k = log(y_k - y_{k-1}); y must be finite and strictly increasing.
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    std::vector<double> x(y.size());
    for (std::size_t k = 0; k < y.size(); ++k) {
      if (!std::isfinite(y[k]))
        return absl::InvalidArgumentError(absl::StrCat("entry ", k + 1, " is not finite"));
      if (k == 0) {
        x[0] = y[0];
        continue;
      }
      if (!(y[k] > y[k - 1]))
        return absl::InvalidArgumentError(absl::StrCat(
            "is not strictly increasing: entry ", k + 1, " (", y[k], ") <= entry ", k, " (",
            y[k - 1], ")"));
      x[k] = std::log(y[k] - y[k - 1]);
    }
    return x;
  }
};

/// A strictly increasing vector of n positive reals.
struct PositiveOrdered {
  std::size_t n = 1;

  std::size_t unconstrained_size() const { return n; }
  std::size_t constrained_size() const { return n; }
  /// n must be >= 1.
  absl::Status validate() const {
    if (n == 0) return absl::InvalidArgumentError("positive_ordered vector needs at least 1 entry");
    return absl::OkStatus();
  }
  /// y_0 = exp(x_0), y_k = y_{k-1} + exp(x_k); lp += sum_k x_k.
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    out[0] = detail::exp_(u[0]);
    lp += u[0];
    for (std::size_t k = 1; k < n; ++k) {
      out[k] = out[k - 1] + detail::exp_(u[k]);
      lp += u[k];
    }
  }
  /// x_0 = log y_0, x_k = log(y_k - y_{k-1}); y must be positive and strictly increasing.
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    if (!y.empty() && !(y[0] > 0.0))
      return absl::InvalidArgumentError(absl::StrCat("entry 1 (", y[0], ") must be > 0"));
    auto x = Ordered{n}.unconstrain(y);
    if (x.ok()) (*x)[0] = std::log(y[0]);
    return x;
  }
};

}  // namespace nutshell::constraints
