// `make_model`: a log density written once, templated on the scalar type and
// reading named constrained parameters, becomes a LogDensity for the kernels
// on the unconstrained scale (gradient by reverse-mode autodiff).
//
//   auto layout = model::Layout::create({model::real("mu"), model::positive("tau")});
//   auto m = model::make_model(*layout, [&](const auto& p) {
//     return normal_lpdf(p.scalar("mu"), 0.0, 5.0) + cauchy_lpdf(p.scalar("tau"), 0.0, 5.0);
//   });
//   sample(key, m, Vec(m.dim(), 0.0), options);      // m(u, grad) is a LogDensity
//
// The log-Jacobian of every constraint is added for the user. The
// constrained values live in the autodiff arena for the length of one
// evaluation, so a steady-state gradient allocates nothing, and the model
// holds no mutable state: one copy may serve several threads.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "nutshell/ad/adapter.hpp"
#include "nutshell/ad/arena.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/model/layout.hpp"
#include "nutshell/model/reader.hpp"

namespace nutshell::model {

/// The generic callable behind a Model: `f(reader)` plus the log-Jacobian,
/// as a function of the unconstrained point. Callable with any scalar the
/// ad module records (double, var, fvar): `T operator()(std::span<const T>)`.
template <class F>
class Density {
 public:
  Density(std::shared_ptr<const Layout> layout, F f) : layout_(std::move(layout)), f_(std::move(f)) {}

  /// log p(u) on the unconstrained scale, Jacobian included. With T = double
  /// outside an ad evaluation, the scratch comes from this thread's arena and
  /// is rewound before returning.
  template <class T>
  T operator()(std::span<const T> u) const {
    if constexpr (std::is_same_v<T, double>) {
      ad::TapeScope scope;  // rewinds the scratch; records nothing for doubles
      return evaluate(u);
    } else {
      return evaluate(u);
    }
  }

  /// The layout.
  const Layout& layout() const { return *layout_; }
  /// The user's function.
  const F& function() const { return f_; }

 private:
  template <class T>
  T evaluate(std::span<const T> u) const {
    if (!layout_->constrains()) {
      // Every parameter is an unconstrained real, read in place from u: no
      // scratch, no log-Jacobian, so neither a zero leaf for lp nor a
      // "+ lp" node (perf: these fixed costs were a visible share of
      // funnel_10's gradient). The Reader never touches lp here.
      T lp = unused_lp<T>();
      return T(f_(Reader<T>(*layout_, u, std::span<T>(), lp)));
    }
    const std::size_t n = layout_->constrained_size();
    T* scratch = ad::arena_alloc<T>(n);
    const T zero(0.0);
    // Only the constrained entries' slots are written (an unconstrained one
    // is read in place from u); they start at zero, as the transforms that
    // fill part of a matrix expect.
    for (const Entry& e : layout_->entries())
      if (!e.identity)
        for (std::size_t i = e.c_offset; i < e.c_offset + e.c_size; ++i)
          ::new (static_cast<void*>(scratch + i)) T(zero);
    T lp = zero;
    const Reader<T> p(*layout_, u, std::span<T>(scratch, n), lp);
    if constexpr (std::is_same_v<T, ad::var>) {
      // No constraint added a log-Jacobian term (lp is still the zero
      // leaf): return the density's node as it is, without an "+ 0" node.
      if (lp.vi_ == zero.vi_) return T(f_(p));
    }
    return T(f_(p)) + lp;
  }

  // The lp argument of a Reader over a layout without constraints, which
  // never reads or writes it: a var need not record a leaf for it.
  template <class T>
  static T unused_lp() {
    if constexpr (std::is_same_v<T, ad::var>)
      return ad::var(static_cast<ad::vari*>(nullptr));
    else
      return T(0.0);
  }

  std::shared_ptr<const Layout> layout_;
  F f_;
};

/// A model: a LogDensity (and LogDensityValue) on the unconstrained scale
/// with its layout, for `sample`, the kernels and the adaptations.
template <class F>
class Model {
 public:
  /// See `make_model`.
  Model(Layout layout, F f)
      : density_(ad::make_logdensity(
            Density<F>(std::make_shared<const Layout>(std::move(layout)), std::move(f)))) {}

  /// log p(u) on the unconstrained scale; its gradient into `grad` (sized like u).
  double operator()(const Vec& u, Vec& grad) { return density_(u, grad); }
  /// log p(u) alone, computed with doubles (no tape).
  double operator()(const Vec& u) { return density_(u); }

  /// H(u) v into `hv` (resized if its size differs): the Hessian of log p on
  /// the unconstrained scale, Jacobian included, times v; exact, by forward
  /// mode over reverse (ad::hessian_vector_product on `density()`), about
  /// three gradients' work with the distributions' nested path. Returns log p(u).
  double hessian_vector_product(const Vec& u, const Vec& v, Vec& hv) const {
    return ad::hessian_vector_product(density(), u, v, hv);
  }

  /// Number of unconstrained coordinates.
  std::size_t dim() const { return layout().dim(); }
  /// The parameter layout: names, constrained draws, initial values.
  const Layout& layout() const { return density_.model().layout(); }
  /// The generic density, for ad's other drivers (value_and_gradient,
  /// hessian_vector_product, directional_derivative).
  const Density<F>& density() const { return density_.model(); }

 private:
  ad::AdLogDensity<Density<F>> density_;
};

/// Turns `f`, a callable `T f(const Reader<T>& p)` for any scalar T (write
/// it as a generic lambda `[&](const auto& p) { ... }`), into a Model over
/// `layout`.
template <class F>
Model<F> make_model(Layout layout, F f) {
  return Model<F>(std::move(layout), std::move(f));
}

}  // namespace nutshell::model
