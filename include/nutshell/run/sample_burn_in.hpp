// Burn-in: transitions with fixed parameters whose draws are discarded, the
// warmup of a kernel with nothing to tune (Warmup::kNone, and the default
// warmup of irmh, elliptical slice, sgld and sghmc in `sample`).
#pragma once

#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/key.hpp"

namespace nutshell::detail {

/// Runs `num_steps` transitions of `kernel` with `params` from `state`,
/// in place (transition i uses fold_in(key, i), as every driver). A
/// stochastic-gradient kernel's schedule advances with its state's step
/// counter, so burn-in follows the schedule and sampling continues it.
template <class K, class CF, class P>
absl::Status burn_in(const K& kernel, CF& f, const P& params, const Key& key,
                     typename adaptation::KernelTypes<K, CF>::State& state, std::size_t num_steps) {
  using Types = adaptation::KernelTypes<K, CF>;
  typename Types::State next = state;
  typename Types::Info info{};
  typename Types::Workspace ws{};
  for (std::size_t i = 0; i < num_steps; ++i) {
    auto s = kernel.step_into(fold_in(key, i), state, f, params, next, info, ws);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("burn-in step ", i, ": ", s.message()));
    std::swap(state, next);
  }
  return absl::OkStatus();
}

}  // namespace nutshell::detail
