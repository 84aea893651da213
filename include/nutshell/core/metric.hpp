// Euclidean metrics: identity, diagonal, dense and low-rank-modified
// diagonal inverse mass matrices.
//
// A Metric is built once from an inverse mass matrix (the quantity window
// adaptation estimates: the posterior covariance) and validated there, so a
// dense metric's Cholesky factor is computed once, not per momentum draw as
// in Stan. Every operation writes into caller-owned buffers and allocates
// nothing.
//
// The low-rank kind (nutpie's "low-rank modified mass matrix") stores
//   M^-1 = S (I + U (Lambda - I) U^T) S,   S = diag(sigma),
// with U a d x k matrix of orthonormal columns (stored as k rows of length
// d) and Lambda > 0 its k eigenvalues: every operation costs O(d k) and no
// d x d matrix is ever formed. Because the columns of U are orthonormal, the
// rank-one factors (I + a_j u_j u_j^T) commute and multiply to
// I + U diag(a) U^T, so functions of the middle factor are applied one
// column at a time, in place, with no scratch vector.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

class Metric {
 public:
  enum class Kind { kIdentity, kDiagonal, kDense, kLowRank };

  /// The identity inverse mass matrix in `dim` dimensions.
  static Metric identity(std::size_t dim);
  /// A diagonal inverse mass matrix; every entry must be finite and > 0.
  static absl::StatusOr<Metric> diagonal(const Vec& inverse_mass_diagonal);
  /// A dense inverse mass matrix; must be square, symmetric and positive
  /// definite.
  static absl::StatusOr<Metric> dense(const Mat& inverse_mass_matrix);
  /// A low-rank modified diagonal M^-1 = S (I + U (Lambda - I) U^T) S with
  /// S = diag(sqrt(`scale`)): `scale` (d entries, finite and > 0) is the
  /// diagonal part sigma^2, `basis` is k x d with orthonormal rows (the
  /// columns of U), `eigenvalues` its k finite, positive eigenvalues. k = 0
  /// is allowed (then it is the diagonal metric `scale`).
  static absl::StatusOr<Metric> low_rank(const Vec& scale, const Mat& basis,
                                         const Vec& eigenvalues);

  Kind kind() const { return kind_; }
  std::size_t dim() const { return dim_; }
  /// Diagonal entries of M^-1 (all ones for the identity).
  const Vec& inverse_mass_diagonal() const { return diag_; }
  /// The dense M^-1 (empty unless kind() == kDense).
  const Mat& inverse_mass_matrix() const { return dense_; }
  /// Lower Cholesky factor L of M^-1 = L L^T (empty unless dense).
  const Mat& cholesky() const { return chol_; }
  /// Identifies the contents: every construction and assign_diagonal takes
  /// a new id and copies keep it, so equal ids mean equal metrics (used to
  /// reuse M^-1 products across calls; never compared across processes).
  std::uint64_t id() const { return id_; }
  /// Low-rank kind: the diagonal part sigma^2 (empty otherwise).
  const Vec& low_rank_scale() const { return scale_; }
  /// Low-rank kind: the k x d orthonormal basis U^T (empty otherwise).
  const Mat& low_rank_basis() const { return basis_; }
  /// Low-rank kind: the k eigenvalues Lambda (empty otherwise).
  const Vec& low_rank_eigenvalues() const { return eigenvalues_; }
  /// Rank k of the low-rank correction (0 for the other kinds).
  std::size_t rank() const { return eigenvalues_.size(); }
  /// True when M^-1 is diagonal (identity or diagonal kind): then
  /// velocity(p) = inverse_mass_diagonal() .* p.
  bool is_diagonal() const { return kind_ == Kind::kIdentity || kind_ == Kind::kDiagonal; }

  /// Draws p ~ N(0, M) into `p` (sized dim()).
  void sample_momentum(const Key& key, Vec& p) const;
  /// Draws p ~ N(0, M) into `p` and writes its velocity M^-1 p to `v` (both
  /// sized dim(), distinct). The same p as sample_momentum(key, p), except
  /// for a dense metric, where it differs by rounding: from the standard
  /// normals z, p = L^-T z and M^-1 p = L z are computed together with a
  /// stored L^-1 in one pass over the two triangles, about the cost of one
  /// M^-1 product, where a solve for p then velocity(p) costs about three.
  void sample_momentum(const Key& key, Vec& p, Vec& v) const;
  /// v = M^-1 p, the velocity ("p sharp").
  void velocity(const Vec& p, Vec& v) const;
  /// Kinetic energy 0.5 p^T M^-1 p, given v = M^-1 p already computed.
  static double kinetic_energy(const Vec& p, const Vec& v);
  /// Kinetic energy 0.5 p^T M^-1 p without a velocity buffer.
  double kinetic_energy(const Vec& p) const;
  /// The generalized no-U-turn criterion (Betancourt 2013): the trajectory
  /// whose summed momentum is `rho` and whose end velocities are `v_left`,
  /// `v_right` is turning when either end moves against rho.
  static bool is_turning(const Vec& v_left, const Vec& v_right, const Vec& rho);

  /// out = R^T g for a square root R of M^-1 = R R^T (Cholesky factor for
  /// dense; sqrt of the diagonal; diag(sigma) (I + U (Lambda^1/2 - I) U^T)
  /// for low rank): the gradient in whitened coordinates. `out` must not
  /// alias `g`.
  void sqrt_transpose_times(const Vec& g, Vec& out) const;
  /// x += a R w for the same R: a whitened step mapped back. `x` must not
  /// alias `w`.
  void add_sqrt_times(double a, const Vec& w, Vec& x) const;
  /// Makes this the diagonal metric `inverse_mass_diagonal` (validated as
  /// in diagonal()), reusing the buffers when it already is a diagonal
  /// metric of that dimension: allocation-free, for adaptation loops.
  absl::Status assign_diagonal(const Vec& inverse_mass_diagonal);

 private:
  Kind kind_ = Kind::kIdentity;
  std::size_t dim_ = 0;
  Vec diag_;
  Vec inv_sqrt_diag_;  // 1 / sqrt(M^-1_ii), for momentum draws
  Mat dense_;
  Mat chol_;
  // Dense: L^-1 (lower, row-major), so that the momentum draw with velocity
  // is a triangular product, not a triangular solve (OpenBLAS's dtrsv costs
  // about two dsymv at d = 100).
  Mat chol_inv_;
  std::uint64_t id_ = 0;
  // Low rank: sigma^2, sigma, U^T (k x d), W = rows sigma .* u_j, Lambda and
  // the per-column factors of M^-1, of its inverse square root and of its
  // square root (lambda - 1, lambda^-1/2 - 1, lambda^1/2 - 1).
  Vec scale_;
  Vec sigma_;
  Mat basis_;
  Mat scaled_basis_;
  Vec eigenvalues_;
  Vec lambda_m1_;
  Vec inv_sqrt_lambda_m1_;
  Vec sqrt_lambda_m1_;
};

}  // namespace nutshell
