// Running one chain (or one per initial state, on threads) with thinning, a
// per-step callback and a progress bar.
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
#include "nutshell/run/callbacks.hpp"

namespace nutshell {

/// How run_chain runs.
struct ChainOptions {
  /// Keep every `thinning`-th draw (1 keeps all).
  std::size_t thinning = 1;
  /// Global index of the first step, for resuming: step i uses
  /// fold_in(key, first_step + i), exactly as run_inference_algorithm.
  std::uint64_t first_step = 0;
  /// The chain index reported to the callback.
  std::size_t chain = 0;
  /// Advanced once per step (with the step's divergence), when set.
  ProgressBar* progress = nullptr;
  /// A stop shared with other chains, when set (see SharedStop).
  SharedStop* stop = nullptr;
  /// Keep the vectors of each kept Info (e.g. NUTS's and HMC's starting
  /// momentum). Without them an Info is a few scalars, instead of a vector
  /// as long as the position for every draw.
  bool keep_info_vectors = true;
};

namespace detail {
/// Frees the vector members of a kept Info (see keep_info_vectors).
template <class Info>
void strip_info_vectors(Info& info) {
  if constexpr (requires { info.momentum = Vec(); }) info.momentum = Vec();
  if constexpr (requires { info.continuous; }) strip_info_vectors(info.continuous);
}
}  // namespace detail

/// Runs up to `num_steps` transitions of `algorithm` from `initial_state`,
/// collecting `transform(state, info)` for every kept step: the same draws
/// as run_inference_algorithm, plus a callback `callback(StepEvent)` after
/// every step that may return Control::kStop. On a stop after step i the
/// run is truncated there, consistently: values and infos hold the kept
/// draws up to step i, final_state is the state after step i and next_step
/// is first_step + i + 1, so continuing from them is bitwise the same as
/// never stopping. A stopped run is recognisable by next_step <
/// first_step + num_steps.
template <SamplingAlgorithm A, class Transform, class Callback = NoCallback>
  requires std::invocable<Transform&, const typename A::State&, const typename A::Info&>
auto run_chain(const Key& key, A& algorithm, const typename A::State& initial_state,
               std::size_t num_steps, Transform&& transform, const ChainOptions& options = {},
               Callback&& callback = {})
    -> absl::StatusOr<Run<typename A::State, typename A::Info,
                          std::decay_t<std::invoke_result_t<Transform&, const typename A::State&,
                                                            const typename A::Info&>>>> {
  using State = typename A::State;
  using Info = typename A::Info;
  using T = std::decay_t<std::invoke_result_t<Transform&, const State&, const Info&>>;
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  Run<State, Info, T> run;
  run.values.reserve(num_steps / options.thinning);
  run.infos.reserve(num_steps / options.thinning);
  State current = initial_state, next = initial_state;
  Info info{};
  std::size_t done = 0;
  for (std::size_t i = 0; i < num_steps; ++i) {
    const std::uint64_t global = options.first_step + i;
    auto s = step_into(algorithm, fold_in(key, global), current, next, info);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("step ", global, ": ", s.message()));
    std::swap(current, next);
    done = i + 1;
    const bool divergent = detail::info_is_divergent(info);
    if (divergent) ++run.num_divergent;
    if ((i + 1) % options.thinning == 0) {
      run.values.push_back(transform(current, info));
      run.infos.push_back(info);
      if (!options.keep_info_vectors) detail::strip_info_vectors(run.infos.back());
    }
    if (options.progress) options.progress->advance(1, divergent ? 1 : 0);
    auto control = detail::invoke_callback(
        callback, StepEvent<State, Info>{options.chain, global, false, current, info});
    if (!control.ok()) return control.status();
    if (*control == Control::kStop) {
      if (options.stop) options.stop->request(done);
      break;
    }
    if (options.stop && done >= options.stop->limit()) break;
  }
  run.final_state = std::move(current);
  run.next_step = options.first_step + done;
  return run;
}

/// run_chain collecting the kept positions as a [draw, dim] matrix (rows
/// only for the steps actually run when stopped early).
template <SamplingAlgorithm A, class Callback = NoCallback>
absl::StatusOr<PositionRun<typename A::State, typename A::Info>> run_chain(
    const Key& key, A& algorithm, const typename A::State& initial_state, std::size_t num_steps,
    const ChainOptions& options = {}, Callback&& callback = {}) {
  using State = typename A::State;
  using Info = typename A::Info;
  auto r = run_chain(
      key, algorithm, initial_state, num_steps, [](const State& s, const Info&) { return s.position; },
      options, std::forward<Callback>(callback));
  if (!r.ok()) return r.status();
  PositionRun<State, Info> out;
  const std::size_t dim = initial_state.position.size();
  out.positions = Mat::from_shape({r->values.size(), dim});
  for (std::size_t i = 0; i < r->values.size(); ++i)
    std::copy(r->values[i].begin(), r->values[i].end(), &out.positions(i, 0));
  out.final_state = std::move(r->final_state);
  out.infos = std::move(r->infos);
  out.num_divergent = r->num_divergent;
  out.next_step = r->next_step;
  return out;
}

/// Runs one chain per initial state on threads (pmap): chain c uses
/// split_one(key, c) and its own copy of `algorithm`. The callback, if any,
/// is shared and called from worker threads: it must be thread-safe. A kStop
/// stops only the chain it was returned for, unless options.stop is set
/// (then every chain stops at the limit; runs past it are not cut back).
template <SamplingAlgorithm A, class Callback = NoCallback>
PmapResult<PositionRun<typename A::State, typename A::Info>> run_chains(
    const Key& key, const A& algorithm, const std::vector<typename A::State>& initial_states,
    std::size_t num_steps, const ChainOptions& options = {}, PmapOptions pmap_options = {},
    const Callback& callback = {}) {
  return pmap(
      key, initial_states.size(),
      [&](std::size_t c, const Key& k) {
        A local = algorithm;  // bound samplers own scratch: one per chain
        ChainOptions o = options;
        o.chain = c;
        return run_chain(k, local, initial_states[c], num_steps, o, callback);
      },
      pmap_options);
}

}  // namespace nutshell
