// Welford's one-pass estimators of the mean and (co)variance of a stream of
// draws, as in Stan's welford_var_estimator / welford_covar_estimator.
//
// One pass, because a warmup window's draws are not stored; Welford rather
// than sums of squares, because the draws of a wide posterior can have means
// much larger than their spread and naive sums lose every digit. Kept apart
// from mass-matrix adaptation (as in Blackjax) so other code can reuse it.
//
// `welford_accumulate` updates in place and allocates nothing; the pure form
// `s = welford_update(std::move(s), x)` moves the buffers through.
#pragma once

#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/types.hpp"

namespace nutshell::adaptation {

/// Running mean and sum of squared deviations per coordinate.
struct DiagonalWelfordState {
  std::size_t count = 0;
  Vec mean;
  Vec m2;
};

/// Running mean and matrix of summed cross deviations.
struct DenseWelfordState {
  std::size_t count = 0;
  Vec mean;
  Mat m2;
};

/// An empty diagonal estimator for `dim`-dimensional draws.
inline DiagonalWelfordState welford_init_diagonal(std::size_t dim) {
  return {0, xt::zeros<double>({dim}), xt::zeros<double>({dim})};
}

/// An empty dense estimator for `dim`-dimensional draws.
inline DenseWelfordState welford_init_dense(std::size_t dim) {
  return {0, xt::zeros<double>({dim}), xt::zeros<double>({dim, dim})};
}

/// Adds draw `x`: delta = x - m; m += delta / n; M2 += delta .* (x - m).
inline void welford_accumulate(DiagonalWelfordState& s, const Vec& x) {
  s.count += 1;
  const double n = static_cast<double>(s.count);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double delta = x(i) - s.mean(i);
    s.mean(i) += delta / n;
    s.m2(i) += delta * (x(i) - s.mean(i));
  }
}

/// Adds draw `x`: M2 += (x - m_new) delta^T, as in Stan. Reads `x` before
/// writing the mean, so nothing is allocated.
inline void welford_accumulate(DenseWelfordState& s, const Vec& x) {
  s.count += 1;
  const double n = static_cast<double>(s.count);
  const std::size_t d = x.size();
  // (x - m_new)_i = delta_i (n - 1) / n, so the update is shrink * delta_i
  // delta_j; multiplying delta_i delta_j first keeps M2 exactly symmetric.
  const double shrink = (n - 1.0) / n;
  for (std::size_t i = 0; i < d; ++i) {
    const double di = x(i) - s.mean(i);
    for (std::size_t j = 0; j < d; ++j) s.m2(i, j) += shrink * (di * (x(j) - s.mean(j)));
  }
  for (std::size_t i = 0; i < d; ++i) s.mean(i) += (x(i) - s.mean(i)) / n;
}

/// Pure form of `welford_accumulate`.
template <class S>
  requires requires(S& s, const Vec& x) { welford_accumulate(s, x); }
S welford_update(S s, const Vec& x) {
  welford_accumulate(s, x);
  return s;
}

/// Sample variances M2 / (n - 1). Error when fewer than 2 draws were added.
inline absl::StatusOr<Vec> welford_variance(const DiagonalWelfordState& s) {
  if (s.count < 2)
    return absl::FailedPreconditionError(
        absl::StrCat("a variance needs at least 2 draws, got ", s.count));
  return Vec(s.m2 / static_cast<double>(s.count - 1));
}

/// Sample covariance M2 / (n - 1), symmetric by construction. Error when
/// fewer than 2 draws were added.
inline absl::StatusOr<Mat> welford_covariance(const DenseWelfordState& s) {
  if (s.count < 2)
    return absl::FailedPreconditionError(
        absl::StrCat("a covariance needs at least 2 draws, got ", s.count));
  return Mat(s.m2 / static_cast<double>(s.count - 1));
}

}  // namespace nutshell::adaptation
