// nutpie's low-rank modified mass matrix (nuts-rs transform/adapt/low_rank.rs,
// Seyboldt, Carlson, Carpenter 2026) from a window of draws and gradients.
//
//   1. Rescale by the Fisher diagonal (fisher_diagonal.hpp) of the window:
//      y = (x - mean x) / sigma, s = (g - mean g) .* sigma, as d x n matrices
//      X and G.
//   2. Thin SVDs of X and G; a QR of their left singular vectors side by
//      side gives an orthonormal basis Q of both column spaces (at most 2n
//      columns): only there do the draws say anything.
//   3. Projected covariances Cx = (Q^T X)(Q^T X)^T / gamma + I and
//      Cg = (Q^T G)(Q^T G)^T / gamma + I (gamma regularises toward the
//      diagonal estimate).
//   4. Their SPD geometric mean Sigma = Cg^-1/2 (Cg^1/2 Cx Cg^1/2)^1/2 Cg^-1/2,
//      the solution of Sigma Cg Sigma = Cx: the covariance whose affine map
//      minimises the sample Fisher divergence (for a Gaussian it is the
//      covariance exactly, whatever the window's size).
//      Computed through two SVDs (detail::spd_geometric_mean_eig) so the
//      condition number is not squared.
//   5. Eigendecomposition of Sigma; eigenpairs with lambda outside
//      [1/c, c] are kept (c = 2): the rest are too close to the diagonal
//      estimate to be worth an O(d) term per leapfrog.
// The result is Metric::low_rank(sigma^2, (Q V_kept)^T, lambda_kept).
//
// The decompositions are LAPACK's (xtensor-blas over OpenBLAS), in
// lib/adaptation/low_rank.cpp so that the many files including this header do
// not parse xtensor-blas (about a quarter of a test's preprocessed lines).
// Building the metric allocates; it runs once per update interval, not per leapfrog. The
// window itself is preallocated, so pushing a draw allocates nothing.
#pragma once

#include <cmath>
#include <cstddef>
#include <exception>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/fisher_diagonal.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::adaptation {

/// Constants of the low-rank estimate (nuts-rs's defaults).
struct LowRankOptions {
  double gamma = 1e-5;            ///< regularisation of the projected covariances
  double eigenvalue_cutoff = 2.0; ///< keep eigenvalues outside [1/c, c]; c > 1

  /// OK when gamma > 0 and the cutoff > 1, both finite.
  absl::Status validate() const {
    if (!(gamma > 0.0) || !std::isfinite(gamma))
      return absl::InvalidArgumentError("low-rank gamma must be finite and > 0");
    if (!(eigenvalue_cutoff > 1.0) || !std::isfinite(eigenvalue_cutoff))
      return absl::InvalidArgumentError("low-rank eigenvalue cutoff must be finite and > 1");
    return absl::OkStatus();
  }
};

/// A window of draws and their gradients, stored as rows of preallocated
/// matrices (capacity x dim).
struct DrawGradientWindow {
  Mat draws;
  Mat gradients;
  std::size_t count = 0;
  std::size_t capacity() const { return draws.shape(0); }
};

/// An empty window holding up to `capacity` draws of dimension `dim`.
inline DrawGradientWindow draw_gradient_window_init(std::size_t dim, std::size_t capacity) {
  return {Mat::from_shape({capacity, dim}), Mat::from_shape({capacity, dim}), 0};
}

/// Appends draw `x` and score `g`; allocation-free. A full window ignores
/// the draw and returns false.
inline bool draw_gradient_window_push(DrawGradientWindow& w, const Vec& x, const Vec& g) {
  if (w.count >= w.capacity()) return false;
  const std::size_t d = x.size();
  double* dx = w.draws.data() + w.count * d;
  double* dg = w.gradients.data() + w.count * d;
  for (std::size_t i = 0; i < d; ++i) {
    dx[i] = x(i);
    dg[i] = g(i);
  }
  ++w.count;
  return true;
}

namespace detail {

// A^p for a symmetric positive definite A (eigenvalues clamped at 0 from
// below against round-off), through its eigendecomposition.
Mat spd_power(const Mat& a, double p);

// The SPD geometric mean Sigma of Sigma Cg Sigma = Cx, as its eigenvalues
// and eigenvectors (columns); lib/adaptation/low_rank.cpp says how it avoids
// squaring the condition number.
std::pair<Vec, Mat> spd_geometric_mean_eig(const Mat& cx, const Mat& cg);

}  // namespace detail

/// The low-rank modified metric from the first `w.count` draws of `w` (see
/// the file comment). Errors: fewer than 3 draws, invalid options, a
/// decomposition that fails or a non-finite result.
absl::StatusOr<Metric> low_rank_metric(const DrawGradientWindow& w,
                                       const LowRankOptions& options = {});

}  // namespace nutshell::adaptation
