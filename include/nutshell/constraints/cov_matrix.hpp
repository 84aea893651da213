// Covariance matrices, Stan's parameterisation: K + K(K-1)/2 unconstrained
// reals fill a lower-triangular L row by row (the off-diagonal entries of
// row m, then log L_mm), and Sigma = L L^T.
//
// log|J| is that of the square map x -> lower triangle of Sigma:
// K log 2 + sum_m (K - m + 1) log L_mm (m 0-based), as in Stan.
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

/// A K x K symmetric positive-definite matrix, stored row-major.
struct CovMatrix {
  std::size_t K = 2;
  /// Relative asymmetry tolerated in an initial value.
  static constexpr double kTolerance = 1e-8;

  std::size_t unconstrained_size() const { return K + K * (K - 1) / 2; }
  std::size_t constrained_size() const { return K * K; }
  /// K must be >= 1.
  absl::Status validate() const {
    if (K == 0) return absl::InvalidArgumentError("cov_matrix needs K >= 1");
    return absl::OkStatus();
  }
  /// Sigma = L L^T into out (row-major), lp += log|J|. `out` first holds L
  /// (lower triangle), then Sigma is built from the bottom row up, so no
  /// scratch is needed: row i of Sigma needs rows <= i of L only.
  template <class T>
  void constrain(std::span<const T> u, std::span<T> out, T& lp) const {
    std::size_t k = 0;
    for (std::size_t m = 0; m < K; ++m) {
      T* row = out.data() + m * K;
      for (std::size_t j = 0; j < m; ++j) row[j] = u[k++];
      lp += static_cast<double>(K - m + 1) * u[k];  // log L_mm = x
      row[m] = detail::exp_(u[k++]);
    }
    lp += static_cast<double>(K) * std::log(2.0);
    // Sigma(i, j) for j <= i, from i = K-1 down: overwrite L(i, j) only after
    // every Sigma(i', j') that needs it (i' >= i) is done; Sigma(i, j) needs
    // L rows i and j <= i, so go j from 0 to i and write into the upper triangle
    // first, then mirror.
    for (std::size_t i = K; i-- > 0;) {
      for (std::size_t j = 0; j <= i; ++j) {
        T s = out[i * K] * out[j * K];
        for (std::size_t c = 1; c <= j; ++c) s = s + out[i * K + c] * out[j * K + c];
        out[j * K + i] = s;  // upper triangle (or diagonal) of Sigma
      }
    }
    // The upper triangle holds Sigma; the lower triangle still holds L: mirror.
    for (std::size_t i = 0; i < K; ++i)
      for (std::size_t j = 0; j < i; ++j) out[i * K + j] = out[j * K + i];
  }
  /// The inverse: Cholesky of Sigma (row-major, symmetric, positive definite).
  absl::StatusOr<std::vector<double>> unconstrain(std::span<const double> S) const {
    for (std::size_t i = 0; i < K; ++i)
      for (std::size_t j = 0; j < K; ++j) {
        const double a = S[i * K + j], b = S[j * K + i];
        if (!std::isfinite(a))
          return absl::InvalidArgumentError(
              absl::StrCat("entry [", i + 1, ",", j + 1, "] is not finite"));
        if (std::abs(a - b) > kTolerance * std::max({1.0, std::abs(a), std::abs(b)}))
          return absl::InvalidArgumentError(
              absl::StrCat("is not symmetric: entry [", i + 1, ",", j + 1, "] is ", a,
                           ", entry [", j + 1, ",", i + 1, "] is ", b));
      }
    std::vector<double> L(K * K, 0.0);
    for (std::size_t j = 0; j < K; ++j) {
      double d = S[j * K + j];
      for (std::size_t c = 0; c < j; ++c) d -= L[j * K + c] * L[j * K + c];
      if (!(d > 0.0))
        return absl::InvalidArgumentError(absl::StrCat(
            "is not positive definite (Cholesky pivot ", j + 1, " is ", d, ")"));
      L[j * K + j] = std::sqrt(d);
      for (std::size_t i = j + 1; i < K; ++i) {
        double s = S[i * K + j];
        for (std::size_t c = 0; c < j; ++c) s -= L[i * K + c] * L[j * K + c];
        L[i * K + j] = s / L[j * K + j];
      }
    }
    std::vector<double> x;
    x.reserve(unconstrained_size());
    for (std::size_t m = 0; m < K; ++m) {
      for (std::size_t j = 0; j < m; ++j) x.push_back(L[m * K + j]);
      x.push_back(std::log(L[m * K + m]));
    }
    return x;
  }
};

}  // namespace nutshell::constraints
