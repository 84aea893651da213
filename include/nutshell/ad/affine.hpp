// y_i = offset + scale * x_i as one tape node for all outputs: the
// non-centred parameterisation (`theta = mu + tau * theta_raw`) every
// hierarchical model writes. Element by element it records 2n scalar nodes;
// this records one node whose sweep reads the n output adjoints, so small
// models stop paying the per-node cost of the tape.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <type_traits>

#include "nutshell/ad/arena.hpp"
#include "nutshell/ad/var.hpp"

namespace nutshell::ad {

/// y_i = offset + scale * x_i, in the arena; generic version (double and the
/// forward-mode scalars), the same arithmetic as writing the loop.
template <class T>
  requires(!std::is_same_v<T, var>)
std::span<const T> affine(const T& offset, const T& scale, std::span<const T> x) {
  T* y = arena_alloc<T>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ::new (static_cast<void*>(y + i)) T(offset + scale * x[i]);
  return {y, x.size()};
}

namespace detail {
// y_i = a + b x_i: abar += sum ybar_i, bbar += sum ybar_i x_i,
// xbar_i += b ybar_i. The outputs are n contiguous leaves starting at y.
struct affine_vari final : chain_vari {
  std::size_t n;
  vari *a, *b;
  vari** x;
  vari* y;
  affine_vari(std::size_t n_, vari* a_, vari* b_, vari** x_, vari* y_)
      : chain_vari(0.0), n(n_), a(a_), b(b_), x(x_), y(y_) {}
  void chain() override {
    const double bv = b->val_;
    double sa = 0.0, sb = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double g = y[i].adj_;
      sa += g;
      sb += g * x[i]->val_;
      x[i]->adj_ += bv * g;
    }
    a->adj_ += sa;
    b->adj_ += sb;
  }
};
}  // namespace detail

/// One node for all n outputs (none for an empty x). The values are exactly
/// offset + scale * x_i as computed with doubles.
inline std::span<const var> affine(const var& offset, const var& scale, std::span<const var> x) {
  const std::size_t n = x.size();
  const double a = offset.val(), b = scale.val();
  void* mem = tape().arena().allocate(n * sizeof(vari) + (n == 0));
  auto* leaves = static_cast<vari*>(mem);
  var* y = arena_alloc<var>(n);
  vari** xs = arena_alloc<vari*>(n);
  for (std::size_t i = 0; i < n; ++i) {
    ::new (static_cast<void*>(leaves + i)) vari(a + b * x[i].val());
    ::new (static_cast<void*>(y + i)) var(leaves + i);
    xs[i] = x[i].vi_;
  }
  if (n) new detail::affine_vari(n, offset.vi_, scale.vi_, xs, leaves);
  return {y, n};
}

}  // namespace nutshell::ad
