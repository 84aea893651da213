// Operations on lower-triangular matrices (Cholesky factors), one tape node
// per call: triangular solve, triangular matrix-vector product, and the log
// determinant from a Cholesky factor. Only the lower triangle is read. The
// lifetime note of matrix_ops.hpp applies: a double L passed with var
// operands is referenced, not copied.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>

#include "nutshell/ad/linalg_kernels.hpp"
#include "nutshell/ad/matrix_ops.hpp"
#include "nutshell/ad/matrix_view.hpp"
#include "nutshell/ad/var.hpp"

namespace nutshell::ad {

// ---- triangular solve ---------------------------------------------------------

/// x = L^{-1} b for lower-triangular L (only its lower triangle is read);
/// generic version.
template <class TL, class TB>
  requires(!(std::is_same_v<TL, var> || std::is_same_v<TB, var>) &&
           !(std::is_same_v<TL, double> && std::is_same_v<TB, double>))
auto tri_solve(MatrixView<const TL> l, std::span<const TB> b) {
  using R = std::conditional_t<std::is_same_v<TL, double>, TB, TL>;
  const std::size_t n = l.rows;
  std::span<R> x = arena_vector<R>(n);
  for (std::size_t i = 0; i < n; ++i) {
    R s = b[i];
    for (std::size_t j = 0; j < i; ++j) s -= l(i, j) * x[j];
    x[i] = s / l(i, i);
  }
  return std::span<const R>(x);
}

/// x = L^{-1} b, all data (the BLAS kernel the var overloads use).
inline std::span<const double> tri_solve(MatrixView<const double> l, std::span<const double> b) {
  double* x = arena_alloc<double>(b.size());
  std::copy(b.begin(), b.end(), x);
  kernels::solve_lower(l.data, x, b.size());
  return {x, b.size()};
}

namespace detail {
// x = L^{-1} b: bbar = L^{-T} xbar, Lbar = -bbar x^T (lower triangle).
struct tri_solve_vari final : chain_vari {
  std::size_t n;
  const double* l;  // L values (referenced data or an arena copy)
  vari** lops;      // lower triangle of L packed by rows, or null for data L
  vari** b;         // b, or null for data b
  const double* x;  // solution values
  vari* out;        // n leaves
  tri_solve_vari(std::size_t n_, const double* l_, vari** lops_, vari** b_, const double* x_,
                 vari* out_)
      : chain_vari(0.0), n(n_), l(l_), lops(lops_), b(b_), x(x_), out(out_) {}
  void chain() override {
    double* g = arena_alloc<double>(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = out[i].adj_;
    kernels::solve_lower_transposed(l, g, n);
    if (b)
      for (std::size_t i = 0; i < n; ++i) b[i]->adj_ += g[i];
    if (lops) {
      std::size_t p = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j) lops[p++]->adj_ -= g[i] * x[j];
    }
  }
};

template <class TL, class TB>
std::span<const var> tri_solve_node(MatrixView<const TL> l, std::span<const TB> b) {
  const std::size_t n = l.rows;
  const double* lv;
  vari** lops = nullptr;
  if constexpr (std::is_same_v<TL, var>) {
    double* c = arena_alloc<double>(n * n);
    lops = arena_alloc<vari*>(n * (n + 1) / 2);
    std::size_t p = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        c[i * n + j] = j <= i ? l(i, j).val() : 0.0;
        if (j <= i) lops[p++] = l(i, j).vi_;
      }
    lv = c;
  } else {
    lv = l.data;
  }
  double* x = arena_alloc<double>(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = value_of(b[i]);
  kernels::solve_lower(lv, x, n);
  vari** bops = nullptr;
  if constexpr (std::is_same_v<TB, var>) bops = arena_varis(b.data(), n);
  var* out = arena_leaves(x, n);
  if (n) new tri_solve_vari(n, lv, lops, bops, x, out[0].vi_);
  return {out, n};
}
}  // namespace detail

/// x = L^{-1} b, var L and var b: one node.
inline std::span<const var> tri_solve(MatrixView<const var> l, std::span<const var> b) {
  return detail::tri_solve_node(l, b);
}
/// x = L^{-1} b, data L (referenced, see the lifetime note above) and var b.
inline std::span<const var> tri_solve(MatrixView<const double> l, std::span<const var> b) {
  return detail::tri_solve_node(l, b);
}
/// x = L^{-1} b, var L and data b.
inline std::span<const var> tri_solve(MatrixView<const var> l, std::span<const double> b) {
  return detail::tri_solve_node(l, b);
}

// ---- triangular matrix-vector product ----------------------------------------

/// y = L x for lower-triangular L (only its lower triangle is read); generic
/// version.
template <class TL, class TX>
  requires(!(std::is_same_v<TL, var> || std::is_same_v<TX, var>) &&
           !(std::is_same_v<TL, double> && std::is_same_v<TX, double>))
auto tri_matvec(MatrixView<const TL> l, std::span<const TX> x) {
  using R = std::conditional_t<std::is_same_v<TL, double>, TX, TL>;
  const std::size_t n = l.rows;
  std::span<R> y = arena_vector<R>(n);
  for (std::size_t i = 0; i < n; ++i) {
    R s = 0.0;
    for (std::size_t j = 0; j <= i; ++j) s += l(i, j) * x[j];
    y[i] = s;
  }
  return std::span<const R>(y);
}

/// y = L x, all data (BLAS trmv, as the var overloads).
inline std::span<const double> tri_matvec(MatrixView<const double> l, std::span<const double> x) {
  double* y = arena_alloc<double>(x.size());
  std::copy(x.begin(), x.end(), y);
  kernels::multiply_lower(l.data, y, x.size());
  return {y, x.size()};
}

namespace detail {
// y = L x: xbar += L^T ybar, Lbar += ybar x^T (lower triangle).
struct tri_matvec_vari final : chain_vari {
  std::size_t n;
  const double* l;   // L values, n x n (upper triangle ignored)
  vari** lops;       // lower triangle of L packed by rows, or null for data L
  vari** x;          // x, or null for data x
  const double* xv;  // x values
  vari* out;         // n leaves
  tri_matvec_vari(std::size_t n_, const double* l_, vari** lops_, vari** x_, const double* xv_,
                  vari* out_)
      : chain_vari(0.0), n(n_), l(l_), lops(lops_), x(x_), xv(xv_), out(out_) {}
  void chain() override {
    double* g = arena_alloc<double>(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = out[i].adj_;
    if (lops) {
      std::size_t p = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j) lops[p++]->adj_ += g[i] * xv[j];
    }
    if (x) {
      kernels::multiply_lower_transposed(l, g, n);
      for (std::size_t i = 0; i < n; ++i) x[i]->adj_ += g[i];
    }
  }
};

template <class TL, class TX>
std::span<const var> tri_matvec_node(MatrixView<const TL> l, std::span<const TX> x) {
  const std::size_t n = l.rows;
  const double* lv;
  vari** lops = nullptr;
  if constexpr (std::is_same_v<TL, var>) {
    double* c = arena_alloc<double>(n * n);
    lops = arena_alloc<vari*>(n * (n + 1) / 2);
    std::size_t p = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j <= i; ++j) {
        c[i * n + j] = l(i, j).val();
        lops[p++] = l(i, j).vi_;
      }
      std::fill(c + i * n + i + 1, c + (i + 1) * n, 0.0);
    }
    lv = c;
  } else {
    lv = l.data;
  }
  double* xv = arena_alloc<double>(n);
  for (std::size_t i = 0; i < n; ++i) xv[i] = value_of(x[i]);
  double* y = arena_alloc<double>(n);
  std::copy(xv, xv + n, y);
  kernels::multiply_lower(lv, y, n);
  vari** xops = nullptr;
  if constexpr (std::is_same_v<TX, var>) xops = arena_varis(x.data(), n);
  var* out = arena_leaves(y, n);
  if (n) new tri_matvec_vari(n, lv, lops, xops, xv, out[0].vi_);
  return {out, n};
}
}  // namespace detail

/// y = L x, var L and var x: one node (the GP's f = L z).
inline std::span<const var> tri_matvec(MatrixView<const var> l, std::span<const var> x) {
  return detail::tri_matvec_node(l, x);
}
/// y = L x, data L (referenced) and var x.
inline std::span<const var> tri_matvec(MatrixView<const double> l, std::span<const var> x) {
  return detail::tri_matvec_node(l, x);
}
/// y = L x, var L and data x.
inline std::span<const var> tri_matvec(MatrixView<const var> l, std::span<const double> x) {
  return detail::tri_matvec_node(l, x);
}

// ---- log determinant ------------------------------------------------------------

/// log det(L L^T) = 2 sum_i log L(i, i) for a Cholesky factor L.
template <class T>
T log_determinant_cholesky(MatrixView<const T> l) {
  T s = 0.0;
  for (std::size_t i = 0; i < l.rows; ++i) s += ad::log(l(i, i));
  return 2.0 * s;
}
/// One node with partials 2 / L(i, i).
inline var log_determinant_cholesky(MatrixView<const var> l) {
  const std::size_t n = l.rows;
  vari** ops = arena_alloc<vari*>(n);
  double* d = arena_alloc<double>(n);
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = l(i, i).val();
    s += std::log(v);
    ops[i] = l(i, i).vi_;
    d[i] = 2.0 / v;
  }
  return var(new nary_vari(2.0 * s, n, ops, d));
}

}  // namespace nutshell::ad
