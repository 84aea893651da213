// From a generic model `template <class T> T f(std::span<const T> x)` to what
// the kernels take: value and gradient by reverse mode, value alone with
// doubles (no tape), directional derivatives by forward mode, and exact
// Hessian-vector products by forward mode over reverse (fvar<var>).
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include "nutshell/ad/arena.hpp"
#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/var.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::ad {

/// log p(x) and its gradient (written into `g`, same length as `x`) for a
/// generic callable `f(std::span<const var>) -> var`. Everything recorded is
/// rewound on return, also when `f` throws (the exception propagates); so a
/// steady-state call allocates nothing. Uses this thread's tape only.
template <class F>
double value_and_gradient(F& f, std::span<const double> x, std::span<double> g) {
  TapeScope scope;
  const std::size_t n = x.size();
  var* xs = detail::arena_leaves(x.data(), n);
  const var lp = f(std::span<const var>(xs, n));
  grad(lp, scope.mark());
  // The leaves are contiguous (arena_leaves): read their adjoints directly
  // rather than through each var's pointer.
  if (n > 0) {
    const vari* leaves = xs[0].vi_;
    for (std::size_t i = 0; i < n; ++i) g[i] = leaves[i].adj_;
  }
  return lp.val();
}

/// The same on nutshell vectors (`grad` is resized if its size differs).
template <class F>
double value_and_gradient(F& f, const Vec& x, Vec& g) {
  ensure_size(g, x.size());
  return value_and_gradient(f, std::span<const double>(x.data(), x.size()),
                            std::span<double>(g.data(), g.size()));
}

/// The value alone, with T = double (no tape nodes; arena scratch rewound).
template <class F>
double value(F& f, std::span<const double> x) {
  TapeScope scope;
  return static_cast<double>(f(x));
}

/// The derivative of f at x along v, by forward mode (dual numbers).
/// `value_out`, when given, receives f(x).
template <class F>
double directional_derivative(F& f, std::span<const double> x, std::span<const double> v,
                              double* value_out = nullptr) {
  TapeScope scope;
  const std::size_t n = x.size();
  dual* xs = arena_alloc<dual>(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = dual(x[i], v[i]);
  const dual r = f(std::span<const dual>(xs, n));
  if (value_out) *value_out = r.val_;
  return r.d_;
}
/// The same on nutshell vectors.
template <class F>
double directional_derivative(F& f, const Vec& x, const Vec& v, double* value_out = nullptr) {
  return directional_derivative(f, std::span<const double>(x.data(), x.size()),
                                std::span<const double>(v.data(), v.size()), value_out);
}

/// out = H(x) v, the Hessian of f at x times v, exact: f runs on
/// fvar<var> (x + t v with var entries), giving the directional derivative
/// grad f . v as a var; its reverse sweep is H v. Returns f(x). Costs about
/// three gradients. Elementary functions whose second derivative is not
/// itself recorded (trigamma's) are exact to first order only.
template <class F>
double hessian_vector_product(F& f, std::span<const double> x, std::span<const double> v,
                              std::span<double> out) {
  TapeScope scope;
  const std::size_t n = x.size();
  using FV = fvar<var>;
  FV* xs = arena_alloc<FV>(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = FV(var(x[i]), var(v[i]));
  const FV r = f(std::span<const FV>(xs, n));
  grad(r.d_, scope.mark());
  for (std::size_t i = 0; i < n; ++i) out[i] = xs[i].val_.adj();
  return r.val_.val();
}
/// The same on nutshell vectors (`out` is resized if its size differs).
template <class F>
double hessian_vector_product(F& f, const Vec& x, const Vec& v, Vec& out) {
  ensure_size(out, x.size());
  return hessian_vector_product(f, std::span<const double>(x.data(), x.size()),
                                std::span<const double>(v.data(), v.size()),
                                std::span<double>(out.data(), out.size()));
}

/// A generic model as a nutshell log density: satisfies `LogDensity`
/// (value and gradient by reverse mode) and `LogDensityValue` (value with
/// doubles). Copies are independent; each thread records on its own tape, so
/// copies (or one copy, when F is stateless) may serve several threads.
template <class F>
class AdLogDensity {
 public:
  explicit AdLogDensity(F f) : f_(std::move(f)) {}
  /// log p(x), writing its gradient into `grad` (sized like `x`).
  double operator()(const Vec& x, Vec& grad) { return value_and_gradient(f_, x, grad); }
  /// log p(x) alone.
  double operator()(const Vec& x) {
    return value(f_, std::span<const double>(x.data(), x.size()));
  }
  /// The wrapped model.
  F& model() { return f_; }
  const F& model() const { return f_; }

 private:
  F f_;
};

/// Wraps a generic model, `template <class T> T operator()(std::span<const T>)`
/// or a generic lambda `[](auto x) { ... }`, as a log density for the kernels.
template <class F>
AdLogDensity<F> make_logdensity(F f) {
  return AdLogDensity<F>(std::move(f));
}

}  // namespace nutshell::ad
