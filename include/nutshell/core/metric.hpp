// Euclidean metrics: identity, diagonal and dense inverse mass matrices.
//
// A Metric is built once from an inverse mass matrix (the quantity window
// adaptation estimates: the posterior covariance) and validated there, so a
// dense metric's Cholesky factor is computed once, not per momentum draw as
// in Stan. Every operation writes into caller-owned buffers and allocates
// nothing.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

class Metric {
 public:
  enum class Kind { kIdentity, kDiagonal, kDense };

  /// The identity inverse mass matrix in `dim` dimensions.
  static Metric identity(std::size_t dim);
  /// A diagonal inverse mass matrix; every entry must be finite and > 0.
  static absl::StatusOr<Metric> diagonal(const Vec& inverse_mass_diagonal);
  /// A dense inverse mass matrix; must be square, symmetric and positive
  /// definite.
  static absl::StatusOr<Metric> dense(const Mat& inverse_mass_matrix);

  Kind kind() const { return kind_; }
  std::size_t dim() const { return dim_; }
  /// Diagonal entries of M^-1 (all ones for the identity).
  const Vec& inverse_mass_diagonal() const { return diag_; }
  /// The dense M^-1 (empty unless kind() == kDense).
  const Mat& inverse_mass_matrix() const { return dense_; }
  /// Lower Cholesky factor L of M^-1 = L L^T (empty unless dense).
  const Mat& cholesky() const { return chol_; }

  /// Draws p ~ N(0, M) into `p` (sized dim()).
  void sample_momentum(const Key& key, Vec& p) const;
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

 private:
  Kind kind_ = Kind::kIdentity;
  std::size_t dim_ = 0;
  Vec diag_;
  Vec inv_sqrt_diag_;  // 1 / sqrt(M^-1_ii), for momentum draws
  Mat dense_;
  Mat chol_;
};

}  // namespace nutshell
