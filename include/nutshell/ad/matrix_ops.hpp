// Matrix operations with one tape node per call: matrix-vector product and
// Cholesky decomposition (blocked adjoint, Murray 2016); triangular ones are
// in triangular_ops.hpp. Generic templates serve double and the forward-mode
// scalars; `var` overloads record one node.
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
#include "nutshell/ad/vector_kernels.hpp"

namespace nutshell::ad {

// ---- matrix-vector product --------------------------------------------------

/// y = A x (A is rows x cols, x has cols entries); generic version.
template <class TA, class TX>
  requires(!(std::is_same_v<TA, var> || std::is_same_v<TX, var>) &&
           !(std::is_same_v<TA, double> && std::is_same_v<TX, double>))
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

/// y = A x, all data: the same SIMD kernel as the var overloads, so the
/// value-only path and the gradient path give bitwise the same values.
inline std::span<const double> matvec(MatrixView<const double> a, std::span<const double> x) {
  double* y = arena_alloc<double>(a.rows);
  kernels::gemv(a.data, a.rows, a.cols, x.data(), y);
  return {y, a.rows};
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
    double* ybar = arena_alloc<double>(rows);
    std::fill(xbar, xbar + cols, 0.0);
    for (std::size_t i = 0; i < rows; ++i) ybar[i] = y[i].adj_;
    kernels::gemv_t_add(a, rows, cols, ybar, xbar);
    for (std::size_t j = 0; j < cols; ++j) x[j]->adj_ += xbar[j];
  }
};

// y = A x for var A and var x: Abar += ybar x^T, xbar += A^T ybar.
struct matvec_vv_vari final : chain_vari {
  std::size_t rows, cols;
  vari** a;
  vari** x;
  const double *av, *xv;  // values of A and x
  vari* y;
  matvec_vv_vari(std::size_t r, std::size_t c, vari** a_, vari** x_, const double* av_,
                 const double* xv_, vari* y_)
      : chain_vari(0.0), rows(r), cols(c), a(a_), x(x_), av(av_), xv(xv_), y(y_) {}
  void chain() override {
    double* ybar = arena_alloc<double>(rows);
    double* xbar = arena_alloc<double>(cols);
    for (std::size_t i = 0; i < rows; ++i) ybar[i] = y[i].adj_;
    std::fill(xbar, xbar + cols, 0.0);
    kernels::gemv_t_add(av, rows, cols, ybar, xbar);
    for (std::size_t j = 0; j < cols; ++j) x[j]->adj_ += xbar[j];
    for (std::size_t i = 0; i < rows; ++i) {
      vari** row = a + i * cols;
      for (std::size_t j = 0; j < cols; ++j) row[j]->adj_ += ybar[i] * xv[j];
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
  double* xv = arena_alloc<double>(a.cols);
  for (std::size_t j = 0; j < a.cols; ++j) xv[j] = x[j].val();
  double* yv = arena_alloc<double>(a.rows);
  kernels::gemv(a.data, a.rows, a.cols, xv, yv);
  var* y = detail::arena_leaves(yv, a.rows);
  new detail::matvec_dv_vari(a.data, a.rows, a.cols, detail::arena_varis(x.data(), x.size()),
                             a.rows ? y[0].vi_ : nullptr);
  return {y, a.rows};
}

/// y = A x with var A and var x: one node.
inline std::span<const var> matvec(MatrixView<const var> a, std::span<const var> x) {
  double* av = arena_alloc<double>(a.rows * a.cols);
  for (std::size_t k = 0; k < a.rows * a.cols; ++k) av[k] = a.data[k].val();
  double* xv = arena_alloc<double>(a.cols);
  for (std::size_t j = 0; j < a.cols; ++j) xv[j] = x[j].val();
  double* yv = arena_alloc<double>(a.rows);
  kernels::gemv(av, a.rows, a.cols, xv, yv);
  var* y = detail::arena_leaves(yv, a.rows);
  new detail::matvec_vv_vari(a.rows, a.cols, detail::arena_varis(a.data, a.rows * a.cols),
                             detail::arena_varis(x.data(), x.size()), av, xv,
                             a.rows ? y[0].vi_ : nullptr);
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
  vari* out;        // lower triangle of L: packed leaves
  cholesky_vari(std::size_t n_, vari** a_, const double* l_, vari* out_)
      : chain_vari(0.0), n(n_), a(a_), l(l_), out(out_) {}
  void chain() override {
    double* g = arena_alloc<double>(n * n);
    std::size_t p = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) g[i * n + j] = out[p++].adj_;
    kernels::cholesky_adjoint(l, g, n);
    p = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) a[p++]->adj_ += g[i * n + j];
  }
};
}  // namespace detail

/// Cholesky of a var matrix: one node (forward LAPACK potrf, reverse
/// Murray's blocked algorithm, `kernels::cholesky_adjoint`). The entries above
/// the diagonal all refer to one constant zero.
inline MatrixView<const var> cholesky(MatrixView<const var> a) {
  const std::size_t n = a.rows, np = n * (n + 1) / 2;
  // One pass over A's lower triangle gathers its nodes and their values.
  double* l = arena_alloc<double>(n * n);
  vari** ops = arena_alloc<vari*>(np);
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j, ++p) {
      ops[p] = a(i, j).vi_;
      l[i * n + j] = ops[p]->val_;
    }
    std::fill(l + i * n + i + 1, l + (i + 1) * n, 0.0);
  }
  if (!kernels::cholesky_lower(l, n))
    for (std::size_t k = 0; k < n * n; ++k) l[k] = std::numeric_limits<double>::quiet_NaN();
  // L's lower triangle: contiguous leaves packed by rows, built in place.
  auto* leaves = static_cast<vari*>(tape().arena().allocate(np * sizeof(vari)));
  var zero(0.0);
  var* out = arena_alloc<var>(n * n);
  p = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j, ++p)
      out[i * n + j] = var(::new (static_cast<void*>(leaves + p)) vari(l[i * n + j]));
    for (std::size_t j = i + 1; j < n; ++j) out[i * n + j] = zero;
  }
  if (n) new detail::cholesky_vari(n, ops, l, leaves);
  return {out, n, n};
}

}  // namespace nutshell::ad
