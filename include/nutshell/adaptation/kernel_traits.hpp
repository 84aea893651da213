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
// member types State, Params, Info and Workspace, as the library's do. The
// deduction itself is kernel_api.hpp's, shared with BoundSampler and mixed.
#pragma once

#include <concepts>

#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/metric.hpp"

namespace nutshell::adaptation {

/// State, Params, Info and Workspace of kernel K driven with log density F:
/// the library-wide deduction (kernel_api.hpp), under the name adaptation
/// has always used.
template <class K, class F>
using KernelTypes = nutshell::KernelTypes<K, F>;

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

/// The kernel's validated initial state (kernel_api.hpp): `kernel.init(position,
/// logdensity)` when the kernel has one, else the gradient or position state
/// its State type implies.
using nutshell::init_state;

}  // namespace nutshell::adaptation
