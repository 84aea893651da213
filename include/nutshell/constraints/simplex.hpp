// The unit simplex by stick-breaking, Stan's parameterisation: K - 1
// unconstrained reals; break z_k = inv_logit(x_k - log(K - 1 - k)) of the
// stick that is left, so that x = 0 maps to the uniform simplex.
//
// log|J| is that of the square map x -> (y_0, ..., y_{K-2}) (the last entry
// is 1 minus the rest), as in Stan.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/constraints/scalar_math.hpp"

namespace nutshell::constraints {

/// K non-negative reals summing to 1.
struct Simplex {
  std::size_t K = 2;
  /// How far from 1 the sum of an initial value may be.
  static constexpr double kTolerance = 1e-8;

  std::size_t unconstrained_size() const { return K - 1; }
  std::size_t constrained_size() const { return K; }
  /// K must be >= 2.
  absl::Status validate() const {
    if (K < 2) return absl::InvalidArgumentError("simplex needs at least 2 entries");
    return absl::OkStatus();
  }
  /// Stick-breaking; lp += sum_k [log(stick_k) + log inv_logit'(x_k - log(K-1-k))].
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    T stick = T(1.0);
    for (std::size_t k = 0; k + 1 < K; ++k) {
      const T adj = u[k] - std::log(static_cast<double>(K - 1 - k));
      out[k] = stick * detail::inv_logit(adj);
      lp += detail::log_(stick) + detail::log_inv_logit_derivative(adj);
      stick = stick - out[k];
    }
    out[K - 1] = stick;
  }
  /// The inverse; y must be positive and sum to 1 (to kTolerance).
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    double sum = 0.0;
    for (std::size_t k = 0; k < y.size(); ++k) {
      if (!(y[k] > 0.0) || !std::isfinite(y[k]))
        return absl::InvalidArgumentError(
            absl::StrCat("entry ", k + 1, " (", y[k], ") of a simplex must be > 0"));
      sum += y[k];
    }
    if (!(std::abs(sum - 1.0) <= kTolerance))
      return absl::InvalidArgumentError(
          absl::StrCat("a simplex must sum to 1, this one sums to ", sum));
    std::vector<double> x(K - 1);
    double stick = 1.0;
    for (std::size_t k = 0; k + 1 < K; ++k) {
      // The last break may see z slightly above 1 from rounding: clamp inside.
      const double z = std::min(y[k] / stick, 1.0 - 1e-16);
      x[k] = detail::logit(z) + std::log(static_cast<double>(K - 1 - k));
      stick -= y[k];
    }
    return x;
  }
};

}  // namespace nutshell::constraints
