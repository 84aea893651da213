// Drivers that run a kernel for N steps and collect what the user asks for
// (Blackjax's run_inference_algorithm).
//
// The key of step i is fold_in(key, first_step + i): a run can be split into
// pieces, or resumed, and give bitwise the same draws as one long run.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/algorithm.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell {

struct RunOptions {
  /// Keep every `thinning`-th draw (1 keeps all).
  std::size_t thinning = 1;
  /// Global index of the first step, for resuming: step i uses fold_in(key, first_step + i).
  std::uint64_t first_step = 0;
};

/// What a run returns: the final state, one collected value and one info per
/// kept draw, and counts over all steps (kept or thinned away).
template <class State, class Info, class T>
struct Run {
  State final_state;
  std::vector<T> values;
  std::vector<Info> infos;
  std::size_t num_divergent = 0;
  /// The first_step to pass to continue this run.
  std::uint64_t next_step = 0;
};

/// What a position run returns: kept positions as a [draw, dim] matrix.
template <class State, class Info>
struct PositionRun {
  State final_state;
  Mat positions;
  std::vector<Info> infos;
  std::size_t num_divergent = 0;
  std::uint64_t next_step = 0;
};

namespace detail {
template <class Info>
bool info_is_divergent(const Info& info) {
  if constexpr (requires { info.is_divergent; }) {
    return static_cast<bool>(info.is_divergent);
  } else {
    return false;
  }
}

/// The one scan loop behind both drivers: runs `num_steps` transitions from
/// `state` (left holding the final state), counts divergences over all
/// steps and hands every kept step to `keep(state, info)`.
template <SamplingAlgorithm A, class Keep>
absl::Status scan(const Key& key, A& algorithm, typename A::State& state, std::size_t num_steps,
                  const RunOptions& options, std::size_t& num_divergent, Keep&& keep) {
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  // Double buffering: the step reads one state and writes the other.
  typename A::State next = state;
  typename A::Info info{};
  for (std::size_t i = 0; i < num_steps; ++i) {
    const std::uint64_t global = options.first_step + i;
    auto s = step_into(algorithm, fold_in(key, global), state, next, info);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("step ", global, ": ", s.message()));
    std::swap(state, next);
    if (info_is_divergent(info)) ++num_divergent;
    if ((i + 1) % options.thinning == 0) keep(state, info);
  }
  return absl::OkStatus();
}
}  // namespace detail

/// Runs `num_steps` transitions from `initial_state`, collecting
/// `transform(state, info)` for every kept step.
template <SamplingAlgorithm A, class Transform>
auto run_inference_algorithm(const Key& key, A& algorithm,
                             const typename A::State& initial_state, std::size_t num_steps,
                             Transform&& transform, RunOptions options = {})
    -> absl::StatusOr<Run<typename A::State, typename A::Info,
                          std::decay_t<decltype(transform(std::declval<const typename A::State&>(),
                                                          std::declval<const typename A::Info&>()))>>> {
  using State = typename A::State;
  using Info = typename A::Info;
  using T = std::decay_t<decltype(transform(std::declval<const State&>(), std::declval<const Info&>()))>;
  Run<State, Info, T> run;
  const std::size_t kept = options.thinning ? num_steps / options.thinning : 0;
  run.values.reserve(kept);
  run.infos.reserve(kept);
  run.final_state = initial_state;
  auto s = detail::scan(key, algorithm, run.final_state, num_steps, options, run.num_divergent,
                        [&](const State& state, const Info& info) {
                          run.values.push_back(transform(state, info));
                          run.infos.push_back(info);
                        });
  if (!s.ok()) return s;
  run.next_step = options.first_step + num_steps;
  return run;
}

/// Runs `num_steps` transitions and collects the kept positions as a
/// [draw, dim] matrix.
template <SamplingAlgorithm A>
absl::StatusOr<PositionRun<typename A::State, typename A::Info>> run_inference_algorithm(
    const Key& key, A& algorithm, const typename A::State& initial_state, std::size_t num_steps,
    RunOptions options = {}) {
  using State = typename A::State;
  using Info = typename A::Info;
  const std::size_t dim = initial_state.position.size();
  const std::size_t kept = options.thinning ? num_steps / options.thinning : 0;
  PositionRun<State, Info> out;
  out.positions = Mat::from_shape({kept, dim});
  out.infos.reserve(kept);
  out.final_state = initial_state;
  std::size_t row = 0;
  auto s = detail::scan(key, algorithm, out.final_state, num_steps, options, out.num_divergent,
                        [&](const State& state, const Info& info) {
                          if (state.position.size() == dim)
                            std::copy(state.position.begin(), state.position.end(),
                                      &out.positions(row, 0));
                          ++row;
                          out.infos.push_back(info);
                        });
  if (!s.ok()) return s;
  out.next_step = options.first_step + num_steps;
  return out;
}

}  // namespace nutshell
