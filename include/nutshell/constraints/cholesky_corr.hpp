// Cholesky factors of correlation matrices, Stan's construction: the
// K(K-1)/2 unconstrained reals become canonical partial correlations
// z = tanh(x), which fill the strictly lower triangle row by row, each row
// scaled so that it has unit norm.
//
// log|J| is that of the square map x -> strictly lower triangle of L
// (row-major), as in Stan: sum log(1 - z^2) + sum 0.5 log(1 - |row so far|^2).
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

/// A K x K lower-triangular matrix with positive diagonal and rows of unit
/// norm (L L^T is a correlation matrix), stored row-major.
struct CholeskyCorr {
  std::size_t K = 2;
  /// How far from 1 a row norm of an initial value may be.
  static constexpr double kTolerance = 1e-8;

  std::size_t unconstrained_size() const { return K * (K - 1) / 2; }
  std::size_t constrained_size() const { return K * K; }
  /// K must be >= 1.
  absl::Status validate() const {
    if (K == 0) return absl::InvalidArgumentError("cholesky_corr needs K >= 1");
    return absl::OkStatus();
  }
  /// Fills out (row-major K x K) from u and adds log|J| to lp.
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    for (std::size_t i = 0; i < K * K; ++i) out[i] = T(0.0);
    out[0] = T(1.0);
    // The squared length left in a row after z_0..z_j is prod (1 - z_k^2):
    // kept as a log, sum log(1 - tanh(x_k)^2), which stays accurate where
    // 1 - (sum of squares) would cancel to 0.
    std::size_t k = 0;
    for (std::size_t i = 1; i < K; ++i) {
      T* row = out.data() + i * K;
      T log_rest = T(0.0);
      for (std::size_t j = 0; j < i; ++j) {
        if (j > 0) lp += 0.5 * log_rest;
        const T log1m_z2 = detail::log1m_tanh_sq(u[k]);
        lp += log1m_z2;
        row[j] = detail::tanh_(u[k++]) * detail::exp_(T(0.5 * log_rest));
        log_rest = log_rest + log1m_z2;
      }
      row[i] = detail::exp_(T(0.5 * log_rest));
    }
  }
  /// The inverse; L (row-major) must be lower triangular with a positive
  /// diagonal and unit-norm rows.
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> L) const {
    std::vector<double> x;
    x.reserve(unconstrained_size());
    for (std::size_t i = 0; i < K; ++i) {
      const double* row = L.data() + i * K;
      double norm_sq = 0.0;
      for (std::size_t j = 0; j < K; ++j) {
        if (!std::isfinite(row[j]))
          return absl::InvalidArgumentError(
              absl::StrCat("entry [", i + 1, ",", j + 1, "] is not finite"));
        if (j > i && row[j] != 0.0)
          return absl::InvalidArgumentError(absl::StrCat(
              "is not lower triangular: entry [", i + 1, ",", j + 1, "] is ", row[j]));
        if (j <= i) norm_sq += row[j] * row[j];
      }
      if (!(row[i] > 0.0))
        return absl::InvalidArgumentError(
            absl::StrCat("diagonal entry [", i + 1, ",", i + 1, "] must be > 0"));
      if (!(std::abs(std::sqrt(norm_sq) - 1.0) <= kTolerance))
        return absl::InvalidArgumentError(absl::StrCat(
            "row ", i + 1, " has norm ", std::sqrt(norm_sq),
            "; a Cholesky factor of a correlation matrix has rows of norm 1"));
      double sum_sq = 0.0;
      for (std::size_t j = 0; j < i; ++j) {
        const double z = row[j] / std::sqrt(1.0 - sum_sq);
        if (!(std::abs(z) < 1.0))
          return absl::InvalidArgumentError(absl::StrCat(
              "entry [", i + 1, ",", j + 1, "] leaves no room for the diagonal"));
        x.push_back(std::atanh(z));
        sum_sq += row[j] * row[j];
      }
    }
    return x;
  }
};

}  // namespace nutshell::constraints
