// Inverse mass matrix estimation for one warmup window (Stan's
// var_adaptation / covar_adaptation, Blackjax's mass_matrix_adaptation).
//
// The inverse mass matrix that makes HMC efficient is the posterior
// covariance. A window's sample covariance is shrunk toward a small multiple
// of the identity, (n / (n + 5)) Sigma + 1e-3 (5 / (n + 5)) I, so that a short
// window or a coordinate that did not move still gives a positive definite,
// well-conditioned metric.
#pragma once

#include <cmath>
#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "nutshell/adaptation/welford.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::adaptation {

/// Stan's regularisation of a variance vector estimated from `n` draws.
inline Vec regularize_variance(const Vec& variance, std::size_t n) {
  const double nd = static_cast<double>(n);
  return Vec((nd / (nd + 5.0)) * variance + 1e-3 * (5.0 / (nd + 5.0)));
}

/// Stan's regularisation of a covariance matrix estimated from `n` draws
/// (the shrinkage goes on the diagonal only).
inline Mat regularize_covariance(const Mat& covariance, std::size_t n) {
  const double nd = static_cast<double>(n);
  Mat out = (nd / (nd + 5.0)) * covariance;
  for (std::size_t i = 0; i < out.shape(0); ++i) out(i, i) += 1e-3 * (5.0 / (nd + 5.0));
  return out;
}

namespace detail {
inline absl::Status overflow_error() {
  return absl::FailedPreconditionError(
      "numerical overflow in metric adaptation: the estimated inverse mass matrix is not "
      "finite. This happens when the sampler meets extreme values, e.g. because the posterior "
      "is too wide or improper.");
}
}  // namespace detail

/// The draws of the current window: a diagonal or a dense estimator.
struct MassMatrixState {
  DiagonalWelfordState diagonal;  ///< used when the adaptation is diagonal
  DenseWelfordState dense;        ///< used when the adaptation is dense
  /// Draws added since the last init.
  std::size_t count() const { return diagonal.count + dense.count; }
};

/// The (init, update, final) triple estimating one window's inverse mass
/// matrix. `final` does not reset: call `init` again for the next window, so
/// each metric uses only its own window's draws.
struct MassMatrixAdaptation {
  bool is_diagonal = true;

  /// An empty window for `dim`-dimensional positions.
  MassMatrixState init(std::size_t dim) const {
    MassMatrixState s;
    if (is_diagonal)
      s.diagonal = welford_init_diagonal(dim);
    else
      s.dense = welford_init_dense(dim);
    return s;
  }

  /// Adds one draw (in place; allocates nothing).
  void accumulate(MassMatrixState& s, const Vec& position) const {
    if (is_diagonal)
      welford_accumulate(s.diagonal, position);
    else
      welford_accumulate(s.dense, position);
  }

  /// Pure form of `accumulate`: `s = update(std::move(s), x)` copies nothing.
  MassMatrixState update(MassMatrixState s, const Vec& position) const {
    accumulate(s, position);
    return s;
  }

  /// The regularised estimate as a metric. Errors: fewer than 2 draws, a
  /// non-finite estimate (Stan's "numerical overflow"), or a dense estimate
  /// that is not positive definite.
  absl::StatusOr<Metric> final(const MassMatrixState& s) const {
    if (is_diagonal) {
      auto var = welford_variance(s.diagonal);
      if (!var.ok()) return var.status();
      Vec reg = regularize_variance(*var, s.diagonal.count);
      if (!all_finite(reg)) return detail::overflow_error();
      return Metric::diagonal(reg);
    }
    auto cov = welford_covariance(s.dense);
    if (!cov.ok()) return cov.status();
    Mat reg = regularize_covariance(*cov, s.dense.count);
    for (double v : reg)
      if (!std::isfinite(v)) return detail::overflow_error();
    return Metric::dense(reg);
  }
};

}  // namespace nutshell::adaptation
