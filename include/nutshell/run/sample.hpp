// `sample`, the one call for the common case (a warmup, window adaptation by default, then sampling, M chains on threads, a Draws
// object with the summary table).
//
//   auto draws = sample(make_key(0), logdensity, Vec{0.0, 0.0},
//                       SampleOptions{.num_chains = 4, .num_warmup = 1000, .num_samples = 1000});
//   if (!draws.ok()) ...;
//   std::cout << *draws->summary;
//
// Keys. Chain c of a `sample` call with key k uses k_c = split_one(k, c);
// its warmup uses split_one(k_c, 0), its sampling split_one(k_c, 1) (step i
// of sampling: fold_in(that key, i), as everywhere), its starting jitter
// split_one(k_c, 2), its start's init split_one(k_c, 3); with
// pathfinder_init, Pathfinder uses split_one(k_0, 4) (sample_warmup.hpp).
// Every chain is a pure function of k and c, which is why
// the thread count never changes a result, and why a chain saved with its
// sampling key and next step continues bitwise (checkpoint.hpp).
//
// The drivers it is built from live beside it: callbacks.hpp, run_chain.hpp,
// sample_types.hpp; resume.hpp continues a run from its checkpoints.
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
#include "nutshell/run/sample_types.hpp"
#include "nutshell/run/sample_detail.hpp"
#include "nutshell/run/sample_warmup.hpp"
#include "nutshell/run/sample_cross_chain.hpp"
#include "nutshell/run/warmup_observer.hpp"

namespace nutshell {

/// The tuned-and-sampled result type of `sample(key, kernel, logdensity, ...)`.
template <class K, class F>
using DrawsOf = Draws<typename adaptation::KernelTypes<K, F>::State,
                      typename adaptation::KernelTypes<K, F>::Params,
                      typename adaptation::KernelTypes<K, F>::Info>;

namespace detail {
/// `sample`'s body, for any kernel: `init_fn(kernel, f, x, chain, key)` makes
/// a chain's starting state from a position; `extras` says what else to
/// keep per draw.
template <class K, class G, class Callback, class InitFn>
absl::StatusOr<DrawsOf<K, G>> sample_impl(
    const Key& key, K kernel, G g, const InitialPositions& initial, const SampleOptions& options,
    const Callback& callback, const InitFn& init_fn,
    const Extras<typename adaptation::KernelTypes<K, G>::State>& extras) {
  using CF = CountingDensity<G>;
  using Types = adaptation::KernelTypes<K, G>;
  using State = typename Types::State;
  using Params = typename Types::Params;
  using Info = typename Types::Info;
  if (auto s = validate_sample(g, initial, options); !s.ok()) return s;
  if (auto s = apply_kernel_options(kernel, options); !s.ok()) return s;
  const std::size_t num_chains = initial.num_chains(options);
  ProgressBar progress(num_chains * (options.num_warmup + options.num_samples),
                       ProgressOptions{.enabled = options.progress_bar, .label = "sample"});
  ProgressBar* bar = progress.active() ? &progress : nullptr;
  std::atomic<bool> stop_warmup{false};
  SharedStop stop;
  // Chains write their draws straight into the result's array.
  const std::size_t dim =
      initial.positions.empty() ? declared_dimension(g, options) : initial.positions[0].size();
  auto pathfinder = pathfinder_starts(key, kernel, g, initial, options, num_chains, init_fn);
  if (!pathfinder.ok()) return pathfinder.status();
  auto cross = cross_chain_warmup_for_sample(key, kernel, g, initial, options, num_chains, init_fn,
                                             *pathfinder);  // nothing for per-chain warmups
  if (!cross.ok()) return cross.status();
  diagnostics::Draws shared;
  if (dim > 0 && !options.chains)
    shared = diagnostics::Draws::from_shape({num_chains, options.num_samples / options.thinning, dim});

  auto chains = pmap(
      key, num_chains,
      [&](std::size_t c, const Key& kc) -> absl::StatusOr<ChainOutcome<State, Params, Info>> {
        EvalCounters counters;
        CF f{g, &counters};
        ChainAccounting acc;
        acc.chain = c;
        absl::StatusOr<State> init =
            pathfinder->positions.empty()
                ? initial_state(kernel, f, initial, options, c, kc, acc.num_init_redraws, init_fn)
                : absl::StatusOr<State>(init_fn(kernel, f, pathfinder->positions[c], c, kc));
        if (!init.ok()) return init.status();
        const EvalCounters after_init = counters;
        Params base{};  // the untuned parameters: Pathfinder's metric when it ran
        if constexpr (adaptation::has_metric_v<Params>)
          if (!pathfinder->positions.empty())
            base.inverse_mass_matrix = pathfinder->inverse_mass_matrix;
        checkpoint::ChainCheckpoint<State, Params> start;
        start.chain = c;
        start.key = split_one(kc, 1);
        start.next_step = 0;
        WarmupRecorder<Info> record;
        if (cross->active()) {
          cross->take(c, start, acc);
        } else if (options.num_warmup > 0) {
          auto w = make_warmup_observer<K, CF>(kernel, c, bar, &stop_warmup, &counters, options,
                                               record, callback);
          auto r = run_warmup(w.kernel, f, options, base, split_one(kc, 0), *std::move(init));
          if (!r.ok()) return r.status();
          w.account_warmup(acc, after_init);
          start.state = std::move(r->state);
          start.params = std::move(r->parameters);
        } else {
          start.state = *std::move(init);
          start.params = base;
          start.params.step_size = options.adaptation.initial_step_size;
          if constexpr (adaptation::has_metric_v<Params>)
            if (pathfinder->positions.empty())
              start.params.inverse_mass_matrix = Metric::identity(start.state.position.size());
        }
        auto out = sample_from(start, kernel, f, options, bar, &stop, callback, std::move(acc),
                               extras, dim > 0 ? &shared : nullptr, c);
        if (out.ok()) out->warmup = std::move(record);
        return out;
      },
      PmapOptions{options.num_threads, options.chains ? &*options.chains : nullptr});
  progress.finish();
  if (stop_warmup.load())
    return absl::CancelledError("stopped by the step callback during warmup: no draws");
  auto out = assemble(chains.chains, kernel, g, options, stop, extras.names, PositionRestart{},
                      dim > 0 ? &shared : nullptr);
  if (out.ok()) out->pathfinder_evaluations = pathfinder->num_evaluations;
  return out;
}
}  // namespace detail

/// Warmup (options.warmup: window adaptation by default) then sampling
/// with `kernel` on `logdensity`, one chain per initial position (or
/// options.num_chains chains from one position or strategy, see
/// InitialPositions), on options.num_threads threads. Returns
/// the draws of every chain that succeeded, with `status` naming those that
/// failed, per-chain accounting, per-draw statistics and warnings; an error
/// only when the options or starts are invalid or every chain failed. A
/// mixed composition takes its starts as mixed_starts(...) (sample_mixed.hpp).
///
/// Errors lose nothing: a log density that throws std::domain_error or
/// returns NaN rejects that proposal (counted in `accounting`); any other
/// exception ends its chain only, with its message and step, and every
/// other chain keeps all its draws.
///
/// `callback(const StepEvent<State, Info>&)`, optional, is called after
/// every warmup and sampling transition of every chain, from worker
/// threads (it must be thread-safe). Returning Control::kStop during
/// sampling after a chain's n-th sampling step stops every chain after n
/// steps (the smallest such n wins; see SharedStop): the draws of those n
/// steps are returned with `stopped` set and checkpoints at the cut, the
/// same whatever the thread count. A stop during warmup cancels the run
/// (an error: there are no draws yet).
template <class K, class F, class Callback = NoCallback>
  requires detail::KernelFor<K, std::decay_t<F>>
auto sample(const Key& key, K kernel, F&& logdensity, InitialPositions initial,
            const SampleOptions& options = {}, const Callback& callback = {}) {
  using G = std::decay_t<F>;
  static_assert(adaptation::AdaptableKernel<K, G>,
                "sample: this kernel has no step size and acceptance rate for window "
                "adaptation to tune (see the table of kernels in the README for how to run it)");
  static_assert(detail::PositionInitializable<K, G>,
                "sample: this kernel's state needs more than a position (a mixed composition "
                "needs every block's start): pass mixed_starts(positions, others) instead");
  if constexpr (adaptation::AdaptableKernel<K, G> && detail::PositionInitializable<K, G>) {
    return detail::sample_impl(key, std::move(kernel), G(std::forward<F>(logdensity)), initial,
                               options, callback, detail::PositionInit{},
                               detail::Extras<typename adaptation::KernelTypes<K, G>::State>{});
  } else {
    return absl::Status();  // unreachable: refused above, with one sentence
  }
}

/// `sample` with NUTS (Stan's defaults; options.max_tree_depth sets its
/// tree depth): the common case.
template <LogDensity F, class Callback = NoCallback>
absl::StatusOr<DrawsOf<nuts::Kernel, std::decay_t<F>>> sample(const Key& key, F&& logdensity,
                                                              InitialPositions initial,
                                                              const SampleOptions& options = {},
                                                              const Callback& callback = {}) {
  return sample(key, nuts::Kernel{}, std::forward<F>(logdensity), std::move(initial), options,
                callback);
}

}  // namespace nutshell

#include "nutshell/run/sample_gradient_free.hpp"
