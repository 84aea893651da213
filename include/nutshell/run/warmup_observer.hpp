// The observed kernel of one chain: what `sample`'s warmups and its
// sampling (sample_from) drive, wired to its hooks. One place sets the hooks
// up (chain, counters, tree depth; in warmup also the progress bar, the
// shared stop, the save_warmup recorder and the step callback) and reads
// them back into the chain's accounting, so every warmup path (sample.hpp,
// sample_gradient_free.hpp) counts the same way.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/callbacks.hpp"
#include "nutshell/run/progress.hpp"
#include "nutshell/run/sample_init.hpp"
#include "nutshell/run/sample_types.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/run/warmup_record.hpp"

namespace nutshell::detail {

/// What `sample` drives: the kernel, forwarding, plus counting (gradient
/// evaluations of kernel steps, divergences, tree-depth saturations) and,
/// in warmup, a report to the progress bar and callback after each
/// transition. A callback's stop cancels the warmup.
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
    EvalCounters* counters = nullptr;  ///< the chain's density counters
    bool warmup = false;               ///< report to progress and callback
    int max_depth = -1;                ///< tree depth that counts as saturated (-1: none)
    std::uint64_t kernel_evaluations = 0;
    std::size_t divergent = 0;
    std::size_t saturated = 0;
    WarmupRecorder<Info>* record = nullptr;  ///< keeps warmup draws (save_warmup)
  };

  K kernel;
  /// The kernel's integrator, so the step-size search integrates with it.
  Integrator integrator = velocity_verlet;
  Hooks* hooks = nullptr;
  std::function<absl::StatusOr<Control>(const StepEvent<State, Info>&)> callback;

  /// The kernel without the observation: what a step-size search's trial
  /// transitions run (counted as search evaluations, never reported).
  const K& unobserved() const { return kernel; }

  template <class G>
  absl::Status step_into(const Key& key, const State& state, G& f, const Params& params,
                         State& out, Info& info, Workspace& ws) const {
    const std::uint64_t before = hooks && hooks->counters ? hooks->counters->evaluations : 0;
    auto s = kernel.step_into(key, state, f, params, out, info, ws);
    if (hooks == nullptr) return s;
    if (hooks->counters) hooks->kernel_evaluations += hooks->counters->evaluations - before;
    if (!s.ok()) return s;
    if (info_is_divergent(info)) ++hooks->divergent;
    const auto& in = inner_info(info);
    if constexpr (requires { in.num_trajectory_expansions; }) {
      if (hooks->max_depth > 0 && in.num_trajectory_expansions >= hooks->max_depth)
        ++hooks->saturated;
    }
    if (!hooks->warmup) return s;
    if (hooks->record) hooks->record->push(out, info, params_step_size(params));
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

/// An ObservedKernel<K, CF> and the hooks it points to, held together (so
/// neither copyable nor movable: `kernel.hooks` points into it). The clock
/// starts at construction.
template <class K, class CF>
struct ChainObserver {
  using Observed = ObservedKernel<K, CF>;
  using State = typename Observed::State;
  using Info = typename Observed::Info;

  typename Observed::Hooks hooks;
  Observed kernel;
  PhaseClock clock;

  /// Counting only (what sampling needs): gradient evaluations of kernel
  /// steps into `counters`, divergences, tree-depth saturations. The
  /// kernel's integrator is kept so that a step-size search integrates
  /// with it.
  ChainObserver(const K& k, std::size_t chain, EvalCounters* counters) : kernel{k} {
    if constexpr (requires { Integrator{k.integrator}; }) kernel.integrator = k.integrator;
    hooks.chain = chain;
    hooks.counters = counters;
    hooks.max_depth = max_depth_of(k);
    kernel.hooks = &hooks;
  }

  /// A warmup's observer: counting as above, and each transition reported
  /// to `progress` (may be null) and `callback` (a stop sets `stop`,
  /// shared by every chain's warmup, which cancels them all), and kept in
  /// `record` when options.save_warmup. `record` and `callback` must
  /// outlive the observer.
  template <class Callback>
  ChainObserver(const K& k, std::size_t chain, EvalCounters* counters, ProgressBar* progress,
                std::atomic<bool>* stop, const SampleOptions& options,
                WarmupRecorder<Info>& record, const Callback& callback)
      : ChainObserver(k, chain, counters) {
    hooks.progress = progress;
    hooks.stop = stop;
    hooks.warmup = true;
    if (options.save_warmup) record.start(options), hooks.record = &record;
    if constexpr (!std::is_same_v<Callback, NoCallback>) {
      kernel.callback = [&callback](const StepEvent<State, Info>& e) {
        return invoke_callback(callback, e);
      };
    }
  }

  ChainObserver(const ChainObserver&) = delete;
  ChainObserver& operator=(const ChainObserver&) = delete;

  /// After a successful warmup: its wall and CPU time since construction,
  /// its kernel evaluations, divergences and rejections, and the step-size
  /// search's evaluations (the rest of those since `after_init`).
  void account_warmup(ChainAccounting& acc, const EvalCounters& after_init) const {
    acc.warmup_wall_seconds = clock.wall_seconds();
    acc.warmup_cpu_seconds = clock.cpu_seconds();
    acc.gradient_evaluations_warmup = hooks.kernel_evaluations;
    acc.gradient_evaluations_step_size_search =
        hooks.counters->evaluations - after_init.evaluations - hooks.kernel_evaluations;
    acc.num_divergent_warmup = hooks.divergent;
    acc.num_rejected_evaluations_warmup = hooks.counters->rejected - after_init.rejected;
  }
};

/// The observer of chain `chain`'s warmup (see ChainObserver's warmup
/// constructor). Use as
///
///   auto w = make_warmup_observer<K, CF>(kernel, c, bar, &stop, &counters, options, record,
///                                        callback);
///   auto r = run_warmup(w.kernel, f, ...);  // or any tuning loop over w.kernel
///   if (!r.ok()) return r.status();
///   w.account_warmup(acc, after_init);
template <class K, class CF, class Callback>
ChainObserver<K, CF> make_warmup_observer(const K& kernel, std::size_t chain,
                                          ProgressBar* progress, std::atomic<bool>* stop,
                                          EvalCounters* counters, const SampleOptions& options,
                                          WarmupRecorder<typename ChainObserver<K, CF>::Info>& record,
                                          const Callback& callback) {
  return ChainObserver<K, CF>(kernel, chain, counters, progress, stop, options, record, callback);
}

}  // namespace nutshell::detail
