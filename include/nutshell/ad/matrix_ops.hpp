// Matrix operations with one tape node per call: matrix-vector product,
// Cholesky decomposition (blocked adjoint, Murray 2016), lower-triangular
// solve, log determinant from a Cholesky factor. Generic templates serve
// double and the forward-mode scalars; `var` overloads record one node.
//
// Lifetimes: results live in the arena until the evaluation ends. A *double*
// matrix passed to `matvec` or `tri_solve` together with var operands is
// referenced, not copied (a model's data matrix costs nothing): it must stay
// alive until the gradient is complete. Data owned by the model does; for a
// matrix built inside the log density, build it in `arena_matrix<double>`.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <type_traits>

#include "nutshell/ad/linalg_kernels.hpp"
#include "nutshell/ad/matrix_view.hpp"
#include "nutshell/ad/scalar_var.hpp"
#include "nutshell/ad/var.hpp"

namespace nutshell::ad {

// ---- matrix-vector product --------------------------------------------------

/// y = A x (A is rows x cols, x has cols entries); generic version.
template <class TA, class TX>
  requires(!(std::is_same_v<TA, var> || std::is_same_v<TX, var>))
auto matvec(MatrixView<const TA> a, std::span<const TX> x) {
  using R = std::conditional_t<std::is_same_v<TA, double>, TX, TA>;
  std::span<R> y = arena_vector<R>(a.rows);
  for (std::size_t i = 0; i < a.rows; ++i) {
    R s = 0.0;
    for (std::size_t j = 0; j < a.cols; ++j) s += a(i, j) * x[j];
    y[i] = s;
  }
  return std::span<const R>(y);
}

namespace detail {
// y = A x for data A and var x: xbar += A^T ybar. One node for all outputs.
struct matvec_dv_vari final : chain_vari {
  const double* a;
  std::size_t rows, cols;
  vari** x;
  vari* y;  // rows contiguous leaves
  matvec_dv_vari(const double* a_, std::size_t r, std::size_t c, vari** x_, vari* y_)
      : chain_vari(0.0), a(a_), rows(r), cols(c), x(x_), y(y_) {}
  void chain() override {
    double* xbar = arena_alloc<double>(cols);
    std::fill(xbar, xbar + cols, 0.0);
    for (std::size_t i = 0; i < rows; ++i) {
      const double yb = y[i].adj_;
      const double* row = a + i * cols;
      for (std::size_t j = 0; j < cols; ++j) xbar[j] += row[j] * yb;
    }
    for (std::size_t j = 0; j < cols; ++j) x[j]->adj_ += xbar[j];
  }
};

// y = A x for var A and var x: Abar += ybar x^T, xbar += A^T ybar.
struct matvec_vv_vari final : chain_vari {
  std::size_t rows, cols;
  vari** a;
  vari** x;
  vari* y;
  matvec_vv_vari(std::size_t r, std::size_t c, vari** a_, vari** x_, vari* y_)
      : chain_vari(0.0), rows(r), cols(c), a(a_), x(x_), y(y_) {}
  void chain() override {
    for (std::size_t i = 0; i < rows; ++i) {
      const double yb = y[i].adj_;
      if (yb == 0.0) continue;
      vari** row = a + i * cols;
      for (std::size_t j = 0; j < cols; ++j) {
        row[j]->adj_ += yb * x[j]->val_;
        x[j]->adj_ += yb * row[j]->val_;
      }
    }
  }
};

inline vari** arena_varis(const var* x, std::size_t n) {
  vari** p = arena_alloc<vari*>(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = x[i].vi_;
  return p;
}
}  // namespace detail

/// y = A x with data A (referenced, see the lifetime note above): one node.
inline std::span<const var> matvec(MatrixView<const double> a, std::span<const var> x) {
  double* yv = arena_alloc<double>(a.rows);
  for (std::size_t i = 0; i < a.rows; ++i) {
    const double* row = a.data + i * a.cols;
    double s = 0.0;
    for (std::size_t j = 0; j < a.cols; ++j) s += row[j] * x[j].val();
    yv[i] = s;
  }
  var* y = detail::arena_leaves(yv, a.rows);
  new detail::matvec_dv_vari(a.data, a.rows, a.cols, detail::arena_varis(x.data(), x.size()),
                             a.rows ? y[0].vi_ : nullptr);
  return {y, a.rows};
}

/// y = A x with var A and var x: one node.
inline std::span<const var> matvec(MatrixView<const var> a, std::span<const var> x) {
  double* yv = arena_alloc<double>(a.rows);
  for (std::size_t i = 0; i < a.rows; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < a.cols; ++j) s += a(i, j).val() * x[j].val();
    yv[i] = s;
  }
  var* y = detail::arena_leaves(yv, a.rows);
  new detail::matvec_vv_vari(a.rows, a.cols, detail::arena_varis(a.data, a.rows * a.cols),
                             detail::arena_varis(x.data(), x.size()), a.rows ? y[0].vi_ : nullptr);
  return {y, a.rows};
}

// ---- Cholesky ---------------------------------------------------------------

/// The lower Cholesky factor L of the symmetric positive-definite n x n `a`
/// (only its lower triangle is read); the upper triangle of L is zero. A
/// matrix that is not numerically positive definite gives a factor of NaNs, so
/// the log density is NaN and the point is rejected (as Stan rejects it).
template <class T>
  requires(!std::is_same_v<T, var>)
MatrixView<const T> cholesky(MatrixView<const T> a) {
  const std::size_t n = a.rows;
  MatrixView<T> l = arena_matrix<T>(n, n);
  if constexpr (std::is_same_v<T, double>) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) l(i, j) = a(i, j);
    if (!kernels::cholesky_lower(l.data, n))
      for (double& v : l.flat()) v = std::numeric_limits<double>::quiet_NaN();
  } else {
    for (std::size_t j = 0; j < n; ++j) {
      T s = a(j, j);
      for (std::size_t k = 0; k < j; ++k) s -= l(j, k) * l(j, k);
      if (!(value_of(s) > 0.0)) {
        for (T& v : l.flat()) v = std::numeric_limits<double>::quiet_NaN();
        return l;
      }
      l(j, j) = ad::sqrt(s);
      for (std::size_t i = j + 1; i < n; ++i) {
        T t = a(i, j);
        for (std::size_t k = 0; k < j; ++k) t -= l(i, k) * l(j, k);
        l(i, j) = t / l(j, j);
      }
    }
  }
  return l;
}

namespace detail {
struct cholesky_vari final : chain_vari {
  std::size_t n;
  vari** a;         // lower triangle of A, packed by rows
  const double* l;  // L values, n x n
  vari* out;        // n x n leaves (upper ones unused)
  cholesky_vari(std::size_t n_, vari** a_, const double* l_, vari* out_)
      : chain_vari(0.0), n(n_), a(a_), l(l_), out(out_) {}
  void chain() override {
    double* g = arena_alloc<double>(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) g[i * n + j] = j <= i ? out[i * n + j].adj_ : 0.0;
    kernels::cholesky_adjoint(l, g, n);
    std::size_t p = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < i; ++j) a[p++]->adj_ += g[i * n + j] + g[j * n + i];
      a[p++]->adj_ += g[i * n + i];
    }
  }
};
}  // namespace detail

/// Cholesky of a var matrix: one node (forward LAPACK potrf, reverse the
/// level-3 BLAS adjoint of `kernels::cholesky_adjoint`).
inline MatrixView<const var> cholesky(MatrixView<const var> a) {
  const std::size_t n = a.rows;
  double* l = arena_alloc<double>(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) l[i * n + j] = j <= i ? a(i, j).val() : 0.0;
  if (!kernels::cholesky_lower(l, n))
    for (std::size_t k = 0; k < n * n; ++k) l[k] = std::numeric_limits<double>::quiet_NaN();
  vari** ops = arena_alloc<vari*>(n * (n + 1) / 2);
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) ops[p++] = a(i, j).vi_;
  var* out = detail::arena_leaves(l, n * n);
  if (n) new detail::cholesky_vari(n, ops, l, out[0].vi_);
  return {out, n, n};
}

// ---- triangular solve ---------------------------------------------------------

/// x = L^{-1} b for lower-triangular L (only its lower triangle is read);
/// generic version.
template <class TL, class TB>
  requires(!(std::is_same_v<TL, var> || std::is_same_v<TB, var>))
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
