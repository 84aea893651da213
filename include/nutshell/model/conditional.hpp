// `make_conditional_model`: the continuous block of a `mixed` kernel written
// once. The log density reads named constrained parameters AND the other
// (discrete, Gibbs) blocks, which change between calls:
//
//   auto m = model::make_conditional_model<Blocks>(*layout, [&](const auto& p, const Blocks& b) {
//     return poisson_lpmf(before(b.tau), p.scalar("lambda_1")) + ...;
//   });
//   m(u, grad, blocks);   // a mixed::ConditionalLogDensity: gradient by reverse-mode AD
//
// As with make_model, the log-Jacobian of every constraint is added, a
// steady-state gradient allocates nothing, and the model holds no mutable
// state (one copy may serve several threads).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <utility>

#include "nutshell/ad/adapter.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/model/layout.hpp"
#include "nutshell/model/make_model.hpp"

namespace nutshell::model {

namespace detail {
// f(p, others) as the one-argument function Density takes, for one call.
template <class F, class Others>
struct BindOthers {
  const F* f;
  const Others* others;
  template <class P>
  auto operator()(const P& p) const {
    return (*f)(p, *others);
  }
};
}  // namespace detail

/// The conditional log density of the continuous block given `Others`, on
/// the unconstrained scale, Jacobian included.
template <class Others, class F>
class ConditionalModel {
 public:
  /// See `make_conditional_model`.
  ConditionalModel(Layout layout, F f)
      : layout_(std::make_shared<const Layout>(std::move(layout))), f_(std::move(f)) {}

  /// log p(u | others); its gradient into `grad` (resized if its size differs).
  double operator()(const Vec& u, Vec& grad, const Others& others) const {
    auto d = density(others);
    return ad::value_and_gradient(d, u, grad);
  }
  /// log p(u | others) alone, computed with doubles (no tape).
  double operator()(const Vec& u, const Others& others) const {
    auto d = density(others);
    return ad::value(d, std::span<const double>(u.data(), u.size()));
  }

  /// The generic density given `others` (for ad's other drivers). It refers
  /// to this model and to `others`: use it while both live.
  Density<detail::BindOthers<F, Others>> density(const Others& others) const {
    // A non-owning pointer to the layout (aliasing constructor, no control
    // block): copying it costs no atomic reference count.
    return {std::shared_ptr<const Layout>(std::shared_ptr<const Layout>(), layout_.get()),
            detail::BindOthers<F, Others>{&f_, &others}};
  }

  /// Number of unconstrained coordinates.
  std::size_t dim() const { return layout_->dim(); }
  /// The parameter layout: names, constrained draws, initial values.
  const Layout& layout() const { return *layout_; }
  /// The user's function.
  const F& function() const { return f_; }

 private:
  std::shared_ptr<const Layout> layout_;
  F f_;
};

/// Turns `f`, a callable `T f(const Reader<T>& p, const Others& others)` for
/// any scalar T (a generic lambda `[&](const auto& p, const Others& o)`),
/// into the continuous block's log density of a `mixed` kernel over `layout`.
template <class Others, class F>
ConditionalModel<Others, F> make_conditional_model(Layout layout, F f) {
  return ConditionalModel<Others, F>(std::move(layout), std::move(f));
}

}  // namespace nutshell::model
