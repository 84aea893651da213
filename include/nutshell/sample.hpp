// Drivers: run a chain with thinning, a per-step callback and a progress
// bar; run many chains in pmap; and `sample`, the one call for the common
// case (window adaptation, then sampling, M chains on threads, a Draws
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
// split_one(k_c, 2). Every chain is a pure function of k and c, which is why
// the thread count never changes a result, and why a chain saved with its
// sampling key and next step continues bitwise (checkpoint.hpp).
//
// Note: this header uses window adaptation, which lives in the
// //include/nutshell/adaptation target; depend on it to include this file.
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
#include "nutshell/algorithm.hpp"
#include "nutshell/checkpoint.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/key.hpp"
#include "nutshell/nuts.hpp"
#include "nutshell/pmap.hpp"
#include "nutshell/progress.hpp"
#include "nutshell/scan.hpp"
#include "nutshell/types.hpp"

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
};

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

// ---------------------------------------------------------------------------
// A kernel bound to a density and parameters (any kernel)

/// What `bind` returns: any adaptable kernel bound to a log density and
/// parameters, i.e. the library's one bound sampler (kernel_api.hpp), so a
/// kernel's own `sampler(...)` and `bind` give the same type.
template <class K, class F>
  requires adaptation::AdaptableKernel<K, F>
using BoundKernel = BoundSampler<K, F, typename adaptation::KernelTypes<K, F>::Params>;

/// Binds any adaptable kernel, a log density and parameters.
template <class K, class F>
  requires adaptation::AdaptableKernel<K, std::decay_t<F>>
BoundKernel<K, std::decay_t<F>> bind(K kernel, F&& logdensity,
                                     typename adaptation::KernelTypes<K, std::decay_t<F>>::Params params) {
  return {std::forward<F>(logdensity), std::move(params), std::move(kernel)};
}

// ---------------------------------------------------------------------------
// sample: window adaptation then sampling, M chains in pmap

/// Options of `sample` and `resume`.
struct SampleOptions {
  /// Chains, when a single initial position is given.
  std::size_t num_chains = 4;
  /// Warmup (window adaptation) transitions per chain; 0 skips adaptation
  /// (step size adaptation.initial_step_size, identity metric).
  std::size_t num_warmup = 1000;
  /// Sampling transitions per chain (before thinning).
  std::size_t num_samples = 1000;
  /// Keep every thinning-th sampling draw.
  std::size_t thinning = 1;
  /// Worker threads; 0: hardware concurrency.
  std::size_t num_threads = 0;
  /// A progress bar on stderr (only when stderr is a terminal).
  bool progress_bar = true;
  /// With a single initial position, chain c starts at that position plus
  /// U(-init_radius, init_radius) noise per coordinate (Stan starts at
  /// U(-2, 2) on the unconstrained scale); dispersed starts are what makes
  /// R-hat meaningful. 0 starts every chain at the same point.
  double init_radius = 2.0;
  /// Names of the dimensions in the summary table (empty: x[0], x[1], ...).
  std::vector<std::string> names;
  /// Window adaptation's options (target acceptance, dense metric, ...).
  adaptation::WindowAdaptationOptions adaptation;
};

/// Where the chains start: one position per chain, or one position that
/// every chain starts near (see SampleOptions::init_radius).
struct InitialPositions {
  std::vector<Vec> positions;
  bool jitter = false;  ///< one shared position, jittered per chain
  /// Every chain near `position` (implicit, so a Vec can be passed directly).
  InitialPositions(const Vec& position) : positions{position}, jitter(true) {}
  /// One position per chain, used as given; their number is the number of
  /// chains.
  InitialPositions(std::vector<Vec> per_chain) : positions(std::move(per_chain)) {}
};

/// What `sample` and `resume` return. Rows of the arrays are the chains
/// that succeeded (`chains` gives their indices); failed chains are listed
/// in `status` and `chain_status`.
template <class State, class Params, class Info>
struct Draws {
  /// Kept positions, [chain, draw, dimension].
  diagnostics::Draws positions;
  /// Log density of each kept draw, [chain, draw].
  diagnostics::ChainDraws logdensity;
  /// The sampling infos of the kept draws, [chain][draw].
  std::vector<std::vector<Info>> infos;
  /// Tuned parameters of each chain.
  std::vector<Params> params;
  /// Where each chain ended: save these to continue later (resume).
  std::vector<checkpoint::ChainCheckpoint<State, Params>> checkpoints;
  /// The chain index of each row.
  std::vector<std::size_t> chains;
  /// Every requested chain's outcome, in chain order.
  std::vector<absl::Status> chain_status;
  /// OK, or which chains failed and why.
  absl::Status status;
  /// Divergent sampling transitions among the kept rows' steps.
  std::size_t num_divergent = 0;
  /// A callback stopped the run before num_samples (see `sample`).
  bool stopped = false;
  /// The summary table (R-hat, ESS, quantiles), or why it could not be
  /// computed (e.g. fewer than 4 draws).
  absl::StatusOr<diagnostics::Summary> summary = absl::UnknownError("no summary");

  /// Chains that succeeded (rows).
  std::size_t num_chains() const { return positions.shape(0); }
  /// Kept draws per chain.
  std::size_t num_draws() const { return positions.shape(1); }
};

namespace detail {

/// What window adaptation drives during `sample`'s warmup: the kernel,
/// forwarding, plus a report to the progress bar and callback after each
/// warmup transition. A callback's stop cancels the warmup.
template <class K, class F>
struct ObservedKernel {
  using Types = adaptation::KernelTypes<K, F>;
  using State = typename Types::State;
  using Params = typename Types::Params;
  using Info = typename Types::Info;
  using Workspace = typename Types::Workspace;

  struct Hooks {
    std::size_t chain = 0;
    ProgressBar* progress = nullptr;
    std::atomic<bool>* stop = nullptr;  ///< shared by all chains' warmups
    std::uint64_t step = 0;
  };

  K kernel;
  /// The kernel's integrator, so the step-size search integrates with it.
  Integrator integrator = velocity_verlet;
  Hooks* hooks = nullptr;
  std::function<absl::StatusOr<Control>(const StepEvent<State, Info>&)> callback;

  template <class G>
  absl::Status step_into(const Key& key, const State& state, G& f, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    auto s = kernel.step_into(key, state, f, params, out, info, ws);
    if (!s.ok() || hooks == nullptr) return s;
    if (hooks->progress) hooks->progress->advance(1, 0);
    if (callback) {
      auto c = callback(StepEvent<State, Info>{hooks->chain, hooks->step, true, out, info});
      if (!c.ok()) return c.status();
      if (*c == Control::kStop && hooks->stop) hooks->stop->store(true, std::memory_order_relaxed);
    }
    ++hooks->step;
    if (hooks->stop && hooks->stop->load(std::memory_order_relaxed))
      return absl::CancelledError("stopped during warmup");
    return absl::OkStatus();
  }
};

template <class State, class Params, class Info>
struct ChainOutcome {
  checkpoint::ChainCheckpoint<State, Params> start;  ///< where sampling started
  checkpoint::ChainCheckpoint<State, Params> end;    ///< where it ended
  Mat positions;
  std::vector<double> logdensity;
  std::vector<Info> infos;
};

/// Sampling from a checkpoint: the part `sample` and `resume` share.
template <class K, class F, class Callback>
auto sample_from(const checkpoint::ChainCheckpoint<typename adaptation::KernelTypes<K, F>::State,
                                                   typename adaptation::KernelTypes<K, F>::Params>&
                     start,
                 const K& kernel, const F& logdensity, const SampleOptions& options,
                 ProgressBar* progress, SharedStop* stop, const Callback& callback)
    -> absl::StatusOr<ChainOutcome<typename adaptation::KernelTypes<K, F>::State,
                                   typename adaptation::KernelTypes<K, F>::Params,
                                   typename adaptation::KernelTypes<K, F>::Info>> {
  using Types = adaptation::KernelTypes<K, F>;
  using State = typename Types::State;
  using Info = typename Types::Info;
  ChainOutcome<State, typename Types::Params, Info> out;
  out.start = start;
  BoundKernel<K, F> alg(logdensity, start.params, kernel);
  ChainOptions o;
  o.thinning = options.thinning;
  o.first_step = start.next_step;
  o.chain = static_cast<std::size_t>(start.chain);
  o.progress = progress;
  o.stop = stop;
  auto run = run_chain(
      start.key, alg, start.state, options.num_samples,
      [](const State& s, const Info&) { return std::pair<Vec, double>(s.position, s.logdensity); },
      o, callback);
  if (!run.ok()) return run.status();
  const std::size_t dim = start.state.position.size();
  out.positions = Mat::from_shape({run->values.size(), dim});
  out.logdensity.resize(run->values.size());
  for (std::size_t i = 0; i < run->values.size(); ++i) {
    std::copy(run->values[i].first.begin(), run->values[i].first.end(), &out.positions(i, 0));
    out.logdensity[i] = run->values[i].second;
  }
  out.infos = std::move(run->infos);
  out.end = start;
  out.end.state = std::move(run->final_state);
  out.end.next_step = run->next_step;
  return out;
}

/// Assembles per-chain outcomes into Draws. After a stop at `limit` steps,
/// every chain keeps the draws of its first `limit` steps, and a chain that
/// went further (or whose last step was not a kept one) has its checkpoint
/// moved back to its last kept draw, the state recomputed from that
/// position (a GradientState is a function of its position for a
/// deterministic density), so arrays and checkpoints always agree.
template <class K, class F, class State, class Params, class Info>
absl::StatusOr<Draws<State, Params, Info>> assemble(
    std::vector<absl::StatusOr<ChainOutcome<State, Params, Info>>>& chains, const K& kernel,
    F logdensity, const SampleOptions& options, const SharedStop& stop) {
  Draws<State, Params, Info> d;
  d.status = aggregate_status(chains);
  d.stopped = stop.requested();
  std::size_t keep = std::numeric_limits<std::size_t>::max();
  if (d.stopped) keep = static_cast<std::size_t>(stop.limit()) / options.thinning;
  std::size_t dim = 0;
  for (std::size_t c = 0; c < chains.size(); ++c) {
    d.chain_status.push_back(chains[c].ok() ? absl::OkStatus() : chains[c].status());
    if (!chains[c].ok()) continue;
    d.chains.push_back(static_cast<std::size_t>(chains[c]->start.chain));
    keep = std::min(keep, chains[c]->positions.shape(0));
    dim = chains[c]->positions.shape(1);
  }
  if (d.chains.empty()) return d.status;
  const std::size_t m = d.chains.size();
  d.positions = diagnostics::Draws::from_shape({m, keep, dim});
  d.logdensity = diagnostics::ChainDraws::from_shape({m, keep});
  for (std::size_t r = 0; r < m; ++r) {
    auto& ch = *chains[d.chains[r]];
    for (std::size_t i = 0; i < keep; ++i) {
      for (std::size_t j = 0; j < dim; ++j) d.positions(r, i, j) = ch.positions(i, j);
      d.logdensity(r, i) = ch.logdensity[i];
    }
    ch.infos.resize(keep);
    for (const Info& info : ch.infos) d.num_divergent += info_is_divergent(info) ? 1 : 0;
    const std::uint64_t steps_done = ch.end.next_step - ch.start.next_step;
    if (d.stopped && steps_done != keep * options.thinning) {
      // Cut back to the last kept draw.
      ch.end = ch.start;
      if (keep > 0) {
        Vec x = Vec::from_shape({dim});
        for (std::size_t j = 0; j < dim; ++j) x(j) = ch.positions(keep - 1, j);
        auto s = adaptation::init_state(kernel, x, logdensity);
        if (!s.ok()) return s.status();
        ch.end.state = *std::move(s);
        ch.end.next_step = ch.start.next_step + keep * options.thinning;
      }
    }
    d.infos.push_back(std::move(ch.infos));
    d.params.push_back(ch.end.params);
    d.checkpoints.push_back(std::move(ch.end));
  }
  d.summary = diagnostics::summary(d.positions, d.num_divergent, options.names);
  return d;
}

}  // namespace detail

/// The tuned-and-sampled result type of `sample(key, kernel, logdensity, ...)`.
template <class K, class F>
using DrawsOf = Draws<typename adaptation::KernelTypes<K, F>::State,
                      typename adaptation::KernelTypes<K, F>::Params,
                      typename adaptation::KernelTypes<K, F>::Info>;

/// Window adaptation then sampling with `kernel` on `logdensity`, one chain
/// per initial position (or options.num_chains chains around one position),
/// on options.num_threads threads. Returns the draws of every chain that
/// succeeded, with `status` naming those that failed; an error only when
/// the options are invalid or every chain failed.
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
  requires(detail::KernelFor<K, std::decay_t<F>> &&
           adaptation::AdaptableKernel<K, std::decay_t<F>>)
absl::StatusOr<DrawsOf<K, std::decay_t<F>>> sample(const Key& key, K kernel, F&& logdensity,
                                                   InitialPositions initial,
                                                   const SampleOptions& options = {},
                                                   const Callback& callback = {}) {
  using G = std::decay_t<F>;
  using Types = adaptation::KernelTypes<K, G>;
  using State = typename Types::State;
  using Params = typename Types::Params;
  using Info = typename Types::Info;
  if (initial.positions.empty()) return absl::InvalidArgumentError("no initial position");
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  const std::size_t num_chains = initial.jitter ? options.num_chains : initial.positions.size();
  if (num_chains == 0) return absl::InvalidArgumentError("num_chains must be >= 1");
  if (initial.jitter && !(options.init_radius >= 0.0))
    return absl::InvalidArgumentError("init_radius must be >= 0");

  G f(std::forward<F>(logdensity));
  ProgressBar progress(num_chains * (options.num_warmup + options.num_samples),
                       ProgressOptions{.enabled = options.progress_bar, .label = "sample"});
  ProgressBar* bar = progress.active() ? &progress : nullptr;
  std::atomic<bool> stop_warmup{false};
  SharedStop stop;

  auto chains = pmap(
      key, num_chains,
      [&, f](std::size_t c, const Key& kc) mutable
      -> absl::StatusOr<detail::ChainOutcome<State, Params, Info>> {
        Vec x = initial.jitter ? initial.positions[0] : initial.positions[c];
        if (initial.jitter && options.init_radius > 0.0) {
          Stream s(split_one(kc, 2));
          for (double& v : x) v += options.init_radius * (2.0 * s.uniform() - 1.0);
        }
        checkpoint::ChainCheckpoint<State, Params> start;
        start.chain = c;
        start.key = split_one(kc, 1);
        start.next_step = 0;
        if (options.num_warmup > 0) {
          detail::ObservedKernel<K, G> observed{kernel};
          if constexpr (requires { Integrator{kernel.integrator}; })
            observed.integrator = kernel.integrator;
          typename detail::ObservedKernel<K, G>::Hooks hooks{c, bar, &stop_warmup, 0};
          observed.hooks = &hooks;
          if constexpr (!std::is_same_v<Callback, NoCallback>) {
            observed.callback = [&](const StepEvent<State, Info>& e) {
              return detail::invoke_callback(callback, e);
            };
          }
          auto warmup = adaptation::window_adaptation(observed, f, options.adaptation);
          auto r = warmup.run(split_one(kc, 0), x, options.num_warmup);
          if (!r.ok()) return r.status();
          start.state = std::move(r->state);
          start.params = std::move(r->parameters);
        } else {
          auto s = adaptation::init_state(kernel, x, f);
          if (!s.ok()) return s.status();
          start.state = *std::move(s);
          start.params = Params{};
          start.params.step_size = options.adaptation.initial_step_size;
          if constexpr (adaptation::has_metric_v<Params>)
            start.params.inverse_mass_matrix = Metric::identity(x.size());
        }
        return detail::sample_from(start, kernel, f, options, bar, &stop, callback);
      },
      PmapOptions{options.num_threads});
  progress.finish();
  if (stop_warmup.load())
    return absl::CancelledError("stopped by the step callback during warmup: no draws");
  return detail::assemble(chains.chains, kernel, f, options, stop);
}

/// `sample` with NUTS (Stan's defaults): the common case.
template <LogDensity F, class Callback = NoCallback>
absl::StatusOr<DrawsOf<nuts::Kernel, std::decay_t<F>>> sample(const Key& key, F&& logdensity,
                                                              InitialPositions initial,
                                                              const SampleOptions& options = {},
                                                              const Callback& callback = {}) {
  return sample(key, nuts::Kernel{}, std::forward<F>(logdensity), std::move(initial), options,
                callback);
}

/// Continues chains from checkpoints (from Draws::checkpoints, or loaded
/// with checkpoint::load) for options.num_samples more transitions each:
/// the draws are bitwise those an uninterrupted run would have produced.
/// Only num_samples, thinning, num_threads, progress_bar and names of
/// `options` are used.
template <class K, class F, class Callback = NoCallback>
  requires(detail::KernelFor<K, std::decay_t<F>> &&
           adaptation::AdaptableKernel<K, std::decay_t<F>>)
absl::StatusOr<DrawsOf<K, std::decay_t<F>>> resume(
    const std::vector<checkpoint::ChainCheckpoint<
        typename adaptation::KernelTypes<K, std::decay_t<F>>::State,
        typename adaptation::KernelTypes<K, std::decay_t<F>>::Params>>& checkpoints,
    K kernel, F&& logdensity, const SampleOptions& options = {}, const Callback& callback = {}) {
  using G = std::decay_t<F>;
  if (checkpoints.empty()) return absl::InvalidArgumentError("no checkpoint to resume");
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  G f(std::forward<F>(logdensity));
  ProgressBar progress(checkpoints.size() * options.num_samples,
                       ProgressOptions{.enabled = options.progress_bar, .label = "sample"});
  ProgressBar* bar = progress.active() ? &progress : nullptr;
  SharedStop stop;
  auto chains = pmap(
      Key{}, checkpoints.size(),
      [&, f](std::size_t c, const Key&) mutable {
        return detail::sample_from(checkpoints[c], kernel, f, options, bar, &stop, callback);
      },
      PmapOptions{options.num_threads});
  progress.finish();
  return detail::assemble(chains.chains, kernel, f, options, stop);
}

}  // namespace nutshell
