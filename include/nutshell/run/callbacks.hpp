// The per-step callback of the drivers (what it sees, what it answers) and the
// shared stop that makes a callback's stop independent of thread timing.
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/checkpoint.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/progress.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

// ---------------------------------------------------------------------------
// The per-step callback

/// What a step callback answers: go on, or stop the run here.
enum class Control { kContinue, kStop };

/// What a step callback sees after each transition. `step` is the index
/// the transition's key was folded with (the global step index in
/// sampling; the warmup step index in warmup).
template <class State, class Info>
struct StepEvent {
  std::size_t chain;
  std::uint64_t step;
  bool is_warmup;
  const State& state;
  const Info& info;
};

namespace detail {
/// True for types that look like kernels for density F; checked before
/// adaptation::AdaptableKernel, whose type deduction is a hard error on
/// non-kernels (e.g. a log density passed where a kernel may go).
template <class K, class F>
concept KernelFor = requires { &K::template step_into<F>; } || requires {
  typename K::State;
  typename K::Params;
  typename K::Info;
  typename K::Workspace;
};
}  // namespace detail

/// The default: no callback.
struct NoCallback {};

namespace detail {
// Calls a callback returning Control or void; NoCallback never stops.
template <class CB, class E>
absl::StatusOr<Control> invoke_callback(CB& cb, const E& event) {
  if constexpr (std::is_same_v<std::decay_t<CB>, NoCallback>) {
    return Control::kContinue;
  } else {
    try {
      if constexpr (requires { static_cast<bool>(cb); }) {
        if (!static_cast<bool>(cb)) return Control::kContinue;  // an empty std::function
      }
      if constexpr (std::is_void_v<std::invoke_result_t<CB&, const E&>>) {
        cb(event);
        return Control::kContinue;
      } else {
        return static_cast<Control>(cb(event));
      }
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("step callback threw: ", e.what()));
    } catch (...) {
      return absl::InternalError("step callback threw a non-standard exception");
    }
  }
}
}  // namespace detail

// ---------------------------------------------------------------------------
// One chain

/// A stop request shared by several chains: the number of steps (counted
/// from each chain's first step) after which every chain sharing it stops.
/// A callback's kStop after a chain's n-th step lowers the limit to n; the
/// smallest request wins, and chains that are behind run on up to the
/// limit. So where the chains stop depends only on what the callback
/// answers, never on thread timing; a chain that had already gone past the
/// limit is cut back to it by whoever collects the results (as `sample`
/// does).
class SharedStop {
 public:
  /// Asks every chain to stop after `steps` steps.
  void request(std::uint64_t steps) {
    std::uint64_t cur = limit_.load(std::memory_order_relaxed);
    while (steps < cur && !limit_.compare_exchange_weak(cur, steps, std::memory_order_relaxed)) {
    }
  }
  /// The current limit (the maximum value when no stop was requested).
  std::uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  bool requested() const { return limit() != std::numeric_limits<std::uint64_t>::max(); }

 private:
  std::atomic<std::uint64_t> limit_{std::numeric_limits<std::uint64_t>::max()};
};

}  // namespace nutshell
