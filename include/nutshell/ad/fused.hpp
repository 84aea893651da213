// `fused(f, a, b, ...)`: a small scalar function recorded as ONE tape node.
//
// A model that calls a short formula many times (a pair potential over
// O(N^2) pairs, a per-observation link function) records one node per
// arithmetic operation, and on such models the tape's per-node cost is the
// whole cost of a gradient. `fused` evaluates the formula once per argument
// in forward mode (ad::dual: plain doubles, nothing recorded), which gives
// its value and its partials, and records one node with those partials.
// It is exact (not a finite difference) and the formula is still written
// once, over the scalar type:
//
//   auto pair = [&](const auto& xi, const auto& xj) { return ad::exp(-ad::square(xi - xj)); };
//   u += ad::fused(pair, x[i], x[j]);     // one node instead of four
//
// With double arguments it is just f(args...); with the forward-mode scalars
// (ad::dual, and fvar<var> for Hessian-vector products) f runs as written,
// so second derivatives stay exact. Worth it while the number of arguments
// is small next to the number of operations in f (each argument costs one
// forward pass).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/var.hpp"

namespace nutshell::ad {

/// f(a, rest...) as one tape node when the arguments are `var` (all of the
/// same scalar type T); f must be callable with T, double and ad::dual.
template <class F, class T, class... Ts>
  requires(std::is_same_v<T, Ts> && ...)
T fused(const F& f, const T& a, const Ts&... rest) {
  if constexpr (!std::is_same_v<T, var>) {
    return T(f(a, rest...));
  } else {
    constexpr std::size_t n = 1 + sizeof...(Ts);
    const std::array<double, n> v{a.val(), rest.val()...};
    std::array<double, n> d{};
    double value = 0.0;
    // Pass k seeds argument k's tangent with 1: its result's tangent is
    // d f / d arg_k.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      for (std::size_t k = 0; k < n; ++k) {
        const dual r = f(dual(v[I], I == k ? 1.0 : 0.0)...);
        value = r.val_;
        d[k] = r.d_;
      }
    }(std::make_index_sequence<n>{});
    if constexpr (n == 1) {
      return make_unary(value, a, d[0]);
    } else if constexpr (n == 2) {
      return make_binary(value, a, rest..., d[0], d[1]);
    } else {
      const std::array<var, n> ops{a, rest...};
      return precomputed(value, std::span<const var>(ops), std::span<const double>(d));
    }
  }
}

}  // namespace nutshell::ad
