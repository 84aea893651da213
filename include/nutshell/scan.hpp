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
#include "nutshell/algorithm.hpp"
#include "nutshell/key.hpp"
#include "nutshell/types.hpp"

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
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  Run<State, Info, T> run;
  run.values.reserve(num_steps / options.thinning);
  run.infos.reserve(num_steps / options.thinning);
  // Double buffering: the step reads one state and writes the other.
  State current = initial_state, next = initial_state;
  Info info{};
  for (std::size_t i = 0; i < num_steps; ++i) {
    const std::uint64_t global = options.first_step + i;
    auto s = step_into(algorithm, fold_in(key, global), current, next, info);
    if (!s.ok())
      return absl::Status(s.code(), absl::StrCat("step ", global, ": ", s.message()));
    std::swap(current, next);
    if (detail::info_is_divergent(info)) ++run.num_divergent;
    if ((i + 1) % options.thinning == 0) {
      run.values.push_back(transform(current, info));
      run.infos.push_back(info);
    }
  }
  run.final_state = std::move(current);
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
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  const std::size_t dim = initial_state.position.size();
  PositionRun<State, Info> out;
  out.positions = Mat::from_shape({num_steps / options.thinning, dim});
  std::size_t row = 0;
  auto r = run_inference_algorithm(
      key, algorithm, initial_state, num_steps,
      [&](const State& s, const Info&) {
        if (s.position.size() == dim)
          std::copy(s.position.begin(), s.position.end(), &out.positions(row, 0));
        ++row;
        return 0;
      },
      options);
  if (!r.ok()) return r.status();
  out.final_state = std::move(r->final_state);
  out.infos = std::move(r->infos);
  out.num_divergent = r->num_divergent;
  out.next_step = r->next_step;
  return out;
}

}  // namespace nutshell
