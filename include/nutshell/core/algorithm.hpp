// What a sampling algorithm is, for drivers and combinators.
#pragma once

#include <concepts>

#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

/// A bound sampler (log density and params closed over): Blackjax's
/// `SamplingAlgorithm`. `step` is pure in its arguments: it never modifies
/// the state it is given, and the same key and state give the same result.
template <class A>
concept SamplingAlgorithm = requires(A& a, const Key& k, const typename A::State& s) {
  typename A::State;
  typename A::Info;
  { a.step(k, s) } -> std::same_as<absl::StatusOr<Transition<typename A::State, typename A::Info>>>;
};

/// A sampling algorithm that can also write a transition into caller-owned
/// buffers, which is how drivers run without allocating per step.
template <class A>
concept InPlaceSamplingAlgorithm =
    SamplingAlgorithm<A> && requires(A& a, const Key& k, const typename A::State& s,
                                     typename A::State& out, typename A::Info& info) {
      { a.step_into(k, s, out, info) } -> std::same_as<absl::Status>;
    };

/// Runs one transition into `out`, in place when the algorithm supports it.
template <SamplingAlgorithm A>
absl::Status step_into(A& algorithm, const Key& key, const typename A::State& state,
                       typename A::State& out, typename A::Info& info) {
  if constexpr (InPlaceSamplingAlgorithm<A>) {
    return algorithm.step_into(key, state, out, info);
  } else {
    auto r = algorithm.step(key, state);
    if (!r.ok()) return r.status();
    out = std::move(r->state);
    info = std::move(r->info);
    return absl::OkStatus();
  }
}

}  // namespace nutshell
