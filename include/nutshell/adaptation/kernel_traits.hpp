// What window adaptation needs to know about a kernel, deduced from the
// kernel's own `step_into` signature so that no kernel has to register
// anything (the kernel knows nothing about adaptation).
//
// A kernel is adaptable with log density F when
//   template <LogDensity F>
//   absl::Status step_into(const Key&, const State&, F&, const Params&,
//                          State& out, Info&, Workspace&) const;
// exists (hmc, mala, nuts), Params has a `step_size` and Info an
// `acceptance_rate` (the adaptation statistic). A kernel may instead declare
// member types State, Params, Info and Workspace.
#pragma once

#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/key.hpp"
#include "nutshell/metric.hpp"
#include "nutshell/state.hpp"

namespace nutshell::adaptation {

namespace detail {
template <class T>
struct StepIntoSignature {};

template <class K, class S, class F, class P, class I, class W>
struct StepIntoSignature<absl::Status (K::*)(const Key&, const S&, F&, const P&, S&, I&, W&)
                             const> {
  using State = S;
  using Params = P;
  using Info = I;
  using Workspace = W;
};

template <class K, class F>
struct DeducedTypes : StepIntoSignature<decltype(&K::template step_into<F>)> {};

template <class K>
concept DeclaresTypes = requires {
  typename K::State;
  typename K::Params;
  typename K::Info;
  typename K::Workspace;
};
}  // namespace detail

/// State, Params, Info and Workspace of kernel K driven with log density F.
template <class K, class F>
struct KernelTypes : detail::DeducedTypes<K, F> {};

template <class K, class F>
  requires detail::DeclaresTypes<K>
struct KernelTypes<K, F> {
  using State = typename K::State;
  using Params = typename K::Params;
  using Info = typename K::Info;
  using Workspace = typename K::Workspace;
};

/// A kernel window adaptation can drive: see the file comment.
template <class K, class F>
concept AdaptableKernel = requires {
  typename KernelTypes<K, F>::State;
  typename KernelTypes<K, F>::Params;
  typename KernelTypes<K, F>::Info;
  typename KernelTypes<K, F>::Workspace;
} && requires(typename KernelTypes<K, F>::Params& p, const typename KernelTypes<K, F>::Info& i) {
  { p.step_size } -> std::convertible_to<double>;
  { i.acceptance_rate } -> std::convertible_to<double>;
};

/// True when the kernel's Params carry an inverse mass matrix to adapt.
template <class Params>
inline constexpr bool has_metric_v = requires(Params& p) {
  { p.inverse_mass_matrix } -> std::convertible_to<const Metric&>;
};

/// The kernel's initial state at `position`: `kernel.init(position,
/// logdensity)` when the kernel has one, else the gradient state (validated:
/// a non-finite position, density or gradient is an error).
template <class K, class F>
  requires AdaptableKernel<K, F>
absl::StatusOr<typename KernelTypes<K, F>::State> init_state(const K& kernel, const Vec& position,
                                                             F& logdensity) {
  using State = typename KernelTypes<K, F>::State;
  if constexpr (requires { kernel.init(position, logdensity); }) {
    return kernel.init(position, logdensity);
  } else {
    static_assert(std::is_same_v<State, GradientState>,
                  "kernel has no init(position, logdensity) and its state is not GradientState");
    return init_gradient_state(position, logdensity);
  }
}

}  // namespace nutshell::adaptation
