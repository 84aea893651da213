// Covariance-matrix builders for Gaussian-process models, one node per call:
// the exponentiated-quadratic kernel (Stan's gp_exp_quad_cov) and adding a
// constant to the diagonal (add_diag, for jitter).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>

#include "nutshell/ad/matrix_view.hpp"
#include "nutshell/ad/scalar_var.hpp"
#include "nutshell/ad/var.hpp"
#include "nutshell/ad/vector_kernels.hpp"

namespace nutshell::ad {

/// K(i, j) = alpha^2 exp(-(x_i - x_j)^2 / (2 rho^2)) for points `x`;
/// generic version.
template <class T>
  requires(!std::is_same_v<T, var> && !std::is_same_v<T, double>)
MatrixView<const T> gp_exp_quad_cov(std::span<const double> x, const T& alpha, const T& rho) {
  const std::size_t n = x.size();
  MatrixView<T> k = arena_matrix<T>(n, n);
  const T a2 = alpha * alpha, scale = -0.5 / (rho * rho);
  for (std::size_t i = 0; i < n; ++i) {
    k(i, i) = a2;
    for (std::size_t j = 0; j < i; ++j) {
      const double d = x[i] - x[j];
      k(i, j) = k(j, i) = a2 * ad::exp(scale * (d * d));
    }
  }
  return k;
}

/// All data: the SIMD kernel the var overload uses (bitwise the same values).
inline MatrixView<const double> gp_exp_quad_cov(std::span<const double> x, double alpha,
                                                double rho) {
  const std::size_t n = x.size();
  double* kv = arena_alloc<double>(n * (n + 1) / 2);
  kernels::exp_quad_lower(x.data(), n, alpha * alpha, -0.5 / (rho * rho), kv);
  MatrixView<double> k = arena_matrix<double>(n, n);
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j, ++p) k(i, j) = k(j, i) = kv[p];
  return k;
}

namespace detail {
// Adjoints of alpha and rho from the adjoints of the lower-triangle leaves:
// dK/dalpha = 2 K / alpha, dK/drho = K d^2 / rho^3.
struct gp_exp_quad_cov_vari final : chain_vari {
  std::size_t n;
  const double* x;  // arena copy of the points
  vari *alpha, *rho;
  vari* k;  // packed lower-triangle leaves
  gp_exp_quad_cov_vari(std::size_t n_, const double* x_, vari* a, vari* r, vari* k_)
      : chain_vari(0.0), n(n_), x(x_), alpha(a), rho(r), k(k_) {}
  void chain() override {
    double sum_k = 0.0, sum_kd2 = 0.0;
    std::size_t p = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < i; ++j, ++p) {
        const double d = x[i] - x[j], w = k[p].adj_ * k[p].val_;
        sum_k += w;
        sum_kd2 += w * d * d;
      }
      sum_k += k[p].adj_ * k[p].val_;
      ++p;
    }
    const double r = rho->val_;
    alpha->adj_ += 2.0 * sum_k / alpha->val_;
    rho->adj_ += sum_kd2 / (r * r * r);
  }
};
}  // namespace detail

/// One node: the lower triangle are leaves of the node, K(j, i) is the same
/// var as K(i, j). `x` is copied into the arena.
inline MatrixView<const var> gp_exp_quad_cov(std::span<const double> x, const var& alpha,
                                             const var& rho) {
  const std::size_t n = x.size(), np = n * (n + 1) / 2;
  const double a2 = alpha.val() * alpha.val(), scale = -0.5 / (rho.val() * rho.val());
  double* kv = arena_alloc<double>(np);
  kernels::exp_quad_lower(x.data(), n, a2, scale, kv);
  var* leaves = detail::arena_leaves(kv, np);
  var* k = arena_alloc<var>(n * n);
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j, ++p) k[i * n + j] = k[j * n + i] = leaves[p];
  if (n)
    new detail::gp_exp_quad_cov_vari(n, arena_copy(x).data(), alpha.vi_, rho.vi_, leaves[0].vi_);
  return {k, n, n};
}

/// K + d I (a new matrix; off-diagonal entries are shared with K).
template <class T>
MatrixView<const T> add_diag(MatrixView<const T> k, double d) {
  const std::size_t n = k.rows;
  T* out = arena_alloc<T>(n * k.cols);
  for (std::size_t i = 0; i < n * k.cols; ++i) ::new (static_cast<void*>(out + i)) T(k.data[i]);
  for (std::size_t i = 0; i < std::min(n, k.cols); ++i) out[i * k.cols + i] = k(i, i) + d;
  return {out, n, k.cols};
}

}  // namespace nutshell::ad
