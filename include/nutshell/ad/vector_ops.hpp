// Reductions over vectors with one tape node per call (not one per element):
// sum, dot, squared_norm, log_sum_exp, sum_log1p_exp. Each has a generic
// template (for double and the forward-mode scalars) and a `var` overload.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <type_traits>

#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/matrix_view.hpp"
#include "nutshell/ad/scalar_var.hpp"
#include "nutshell/ad/var.hpp"
#include "nutshell/ad/vector_kernels.hpp"

namespace nutshell::ad {

namespace detail {
// The vari pointers of `x`, copied into the arena.
inline vari** arena_varis(std::span<const var> x) {
  vari** p = arena_alloc<vari*>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) p[i] = x[i].vi_;
  return p;
}

// Adds adj to every operand (d sum / d x_i = 1).
struct sum_vari final : chain_vari {
  std::size_t n;
  vari** x;
  sum_vari(double v, std::size_t n_, vari** x_) : chain_vari(v), n(n_), x(x_) {}
  void chain() override {
    for (std::size_t i = 0; i < n; ++i) x[i]->adj_ += adj_;
  }
};

// dot(a, b) of two var vectors: partials are the other operand's values,
// read at sweep time (values never change once recorded).
struct dot_vari final : chain_vari {
  std::size_t n;
  vari **a, **b;
  dot_vari(double v, std::size_t n_, vari** a_, vari** b_) : chain_vari(v), n(n_), a(a_), b(b_) {}
  void chain() override {
    for (std::size_t i = 0; i < n; ++i) {
      a[i]->adj_ += adj_ * b[i]->val_;
      b[i]->adj_ += adj_ * a[i]->val_;
    }
  }
};

// A node over `x` whose partials are written by `fill(i, x_i)` into the arena.
template <class Fill>
var partials_node(double value, std::span<const var> x, Fill fill) {
  const std::size_t n = x.size();
  vari** ops = arena_alloc<vari*>(n);
  double* d = arena_alloc<double>(n);
  for (std::size_t i = 0; i < n; ++i) {
    ops[i] = x[i].vi_;
    d[i] = fill(i, x[i].val());
  }
  return var(new nary_vari(value, n, ops, d));
}
}  // namespace detail

/// sum_i x_i.
template <class T>
T sum(std::span<const T> x) {
  T s = 0.0;
  for (const T& v : x) s += v;
  return s;
}
/// sum_i x_i as one node.
inline var sum(std::span<const var> x) {
  double s = 0.0;
  for (const var& v : x) s += v.val();
  return var(new detail::sum_vari(s, x.size(), detail::arena_varis(x)));
}

/// sum_i a_i b_i (equal lengths).
template <class T>
T dot(std::span<const T> a, std::span<const T> b) {
  T s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
/// sum_i a_i b_i with data `b`.
template <class T>
  requires(!std::is_same_v<T, double>)
T dot(std::span<const T> a, std::span<const double> b) {
  T s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
/// sum_i a_i b_i with data `a`.
template <class T>
  requires(!std::is_same_v<T, double>)
T dot(std::span<const double> a, std::span<const T> b) {
  return dot(b, a);
}
/// Two var vectors: one node.
inline var dot(std::span<const var> a, std::span<const var> b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i].val() * b[i].val();
  return var(new detail::dot_vari(s, a.size(), detail::arena_varis(a), detail::arena_varis(b)));
}
/// A var vector and data: one node whose partials are a copy of `b`.
inline var dot(std::span<const var> a, std::span<const double> b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i].val() * b[i];
  return detail::partials_node(s, a, [&](std::size_t i, double) { return b[i]; });
}
inline var dot(std::span<const double> a, std::span<const var> b) { return dot(b, a); }

/// sum_i x_i^2.
template <class T>
T squared_norm(std::span<const T> x) {
  T s = 0.0;
  for (const T& v : x) s += v * v;
  return s;
}
inline var squared_norm(std::span<const var> x) {
  double s = 0.0;
  for (const var& v : x) s += v.val() * v.val();
  return detail::partials_node(s, x, [](std::size_t, double v) { return 2.0 * v; });
}

/// log sum_i exp(x_i), stable; -inf for an empty span.
template <class T>
  requires(!std::is_same_v<T, double>)
T log_sum_exp(std::span<const T> x) {
  double m = -std::numeric_limits<double>::infinity();
  for (const T& v : x) m = std::max(m, value_of(v));
  if (!std::isfinite(m)) return T(m);
  T s = 0.0;
  for (const T& v : x) s += ad::exp(v - m);
  return m + ad::log(s);
}
/// One node; partials are the softmax weights.
inline var log_sum_exp(std::span<const var> x) {
  double m = -std::numeric_limits<double>::infinity();
  for (const var& v : x) m = std::max(m, v.val());
  if (!std::isfinite(m)) return var(m);
  double s = 0.0;
  for (const var& v : x) s += std::exp(v.val() - m);
  const double lse = m + std::log(s);
  return detail::partials_node(lse, x, [&](std::size_t, double v) { return std::exp(v - lse); });
}

/// sum_i log(1 + exp(x_i)) (the Bernoulli-logit normaliser), stable.
template <class T>
  requires(!std::is_same_v<T, double>)
T sum_log1p_exp(std::span<const T> x) {
  T s = 0.0;
  for (const T& v : x) s += ad::log1p_exp(v);
  return s;
}
/// Doubles: the SIMD kernel the var overload uses (bitwise the same value).
inline double sum_log1p_exp(std::span<const double> x) {
  return kernels::sum_log1p_exp(x.data(), x.size(), nullptr);
}
/// One node; partials inv_logit(x_i).
inline var sum_log1p_exp(std::span<const var> x) {
  const std::size_t n = x.size();
  vari** ops = arena_alloc<vari*>(n);
  double* xv = arena_alloc<double>(n);
  double* d = arena_alloc<double>(n);
  for (std::size_t i = 0; i < n; ++i) {
    xv[i] = x[i].val();
    ops[i] = x[i].vi_;
  }
  const double s = kernels::sum_log1p_exp(xv, n, d);
  return var(new nary_vari(s, n, ops, d));
}

/// y_i = x_i c_i with data `c` (elementwise product); generic version.
template <class T>
  requires(!std::is_same_v<T, var>)
std::span<const T> elt_multiply(std::span<const T> x, std::span<const double> c) {
  T* y = arena_alloc<T>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ::new (static_cast<void*>(y + i)) T(x[i] * c[i]);
  return {y, x.size()};
}

namespace detail {
// y_i = c_i x_i: xbar_i += c_i ybar_i.
struct elt_multiply_vari final : chain_vari {
  std::size_t n;
  vari** x;
  const double* c;
  vari* y;
  elt_multiply_vari(std::size_t n_, vari** x_, const double* c_, vari* y_)
      : chain_vari(0.0), n(n_), x(x_), c(c_), y(y_) {}
  void chain() override {
    for (std::size_t i = 0; i < n; ++i) x[i]->adj_ += c[i] * y[i].adj_;
  }
};
}  // namespace detail

/// One node for all outputs; `c` is copied into the arena.
inline std::span<const var> elt_multiply(std::span<const var> x, std::span<const double> c) {
  const std::size_t n = x.size();
  double* yv = arena_alloc<double>(n);
  for (std::size_t i = 0; i < n; ++i) yv[i] = x[i].val() * c[i];
  var* y = detail::arena_leaves(yv, n);
  if (n) new detail::elt_multiply_vari(n, detail::arena_varis(x), arena_copy(c).data(), y[0].vi_);
  return {y, n};
}

}  // namespace nutshell::ad
