// `sum_terms(a, b, c, ...)`: a sum of log-density terms as ONE tape node.
//
// A model's log density is a sum of a few terms, each density one node.
// Written `a + b + c + d` the sum records three more nodes, each swept to add
// one adjoint; on small models (eight schools records about ten nodes per
// gradient) the tape's per-node cost is most of a gradient. `sum_terms`
// records one node whose sweep adds its adjoint to every var term. Terms may
// be doubles (constants: added to the value, no operand). The value is
// exactly `a + b + c + ...` (summed left to right, as the operators would).
//
//   return ad::sum_terms(normal_lpdf(mu, 0.0, 5.0), cauchy_lpdf(tau, 0.0, 5.0), log_norm);
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "nutshell/ad/var.hpp"

namespace nutshell::ad {

namespace detail {
// Adds its adjoint to N operands (partials all 1).
template <std::size_t N>
struct terms_vari final : chain_vari {
  std::array<vari*, N> ops;
  terms_vari(double v, const std::array<vari*, N>& o) : chain_vari(v), ops(o) {}
  void chain() override {
    for (vari* o : ops) o->adj_ += adj_;
  }
};
}  // namespace detail

/// a + b + ... (at least one term) as one tape node when any term is a
/// `var`; with doubles or the forward-mode scalars, the plain sum.
template <class T0, class... Ts>
auto sum_terms(const T0& a, const Ts&... rest) {
  constexpr std::size_t n_var = (is_var_v<T0> ? 1 : 0) + ((is_var_v<Ts> ? 1 : 0) + ... + 0);
  if constexpr (n_var == 0) {
    return (a + ... + rest);
  } else {
    double value = value_of(a);
    ((value += value_of(rest)), ...);
    std::array<vari*, n_var> ops{};
    std::size_t k = 0;
    auto take = [&](const auto& t) {
      if constexpr (is_var_v<decltype(t)>) ops[k++] = t.vi_;
    };
    take(a);
    (take(rest), ...);
    if constexpr (n_var == 1)
      return make_unary(value, var(ops[0]), 1.0);
    else
      return var(new detail::terms_vari<n_var>(value, ops));
  }
}

}  // namespace nutshell::ad
