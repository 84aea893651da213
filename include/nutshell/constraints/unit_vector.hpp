// Unit vectors, Stan's parameterisation: y = x / |x| over K unconstrained
// reals. The map is not one-to-one (the radius is free), so Stan adds
// -|x|^2 / 2, a standard normal on x that makes the radius proper; that
// term is what `constrain` adds to lp.
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

/// K reals of Euclidean norm 1.
struct UnitVector {
  std::size_t K = 2;
  /// How far from 1 the norm of an initial value may be.
  static constexpr double kTolerance = 1e-8;

  std::size_t unconstrained_size() const { return K; }
  std::size_t constrained_size() const { return K; }
  /// K must be >= 2.
  absl::Status validate() const {
    if (K < 2) return absl::InvalidArgumentError("unit vector needs at least 2 entries");
    return absl::OkStatus();
  }
  /// y = x / |x|; lp += -|x|^2 / 2. At x = 0 the result is NaN (measure zero).
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    T ss = u[0] * u[0];
    for (std::size_t k = 1; k < K; ++k) ss = ss + u[k] * u[k];
    const T inv_norm = 1.0 / detail::sqrt_(ss);
    for (std::size_t k = 0; k < K; ++k) out[k] = u[k] * inv_norm;
    lp += -0.5 * ss;
  }
  /// x = y; y must have norm 1 (to kTolerance).
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> y) const {
    double ss = 0.0;
    for (double v : y) ss += v * v;
    if (!(std::abs(std::sqrt(ss) - 1.0) <= kTolerance))
      return absl::InvalidArgumentError(
          absl::StrCat("a unit vector must have norm 1, this one has norm ", std::sqrt(ss)));
    return std::vector<double>(y.begin(), y.end());
  }
};

}  // namespace nutshell::constraints
