// `sample`, the one call for the common case (window adaptation, then sampling, M chains on threads, a Draws
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

namespace nutshell {

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

}  // namespace nutshell
