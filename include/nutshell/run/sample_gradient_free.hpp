// `sample` for the kernels without a step size and an acceptance rate for
// window adaptation, and for any kernel with parameters the caller gives:
//
//   rmh:       sample(key, rmh::Kernel{}, f, x0, o): window adaptation of
//              a Gaussian random walk, the scale towards acceptance 0.234
//              (Roberts, Gelman, Gilks), the covariance from windowed draws
//              (diagonal; o.metric = kDense for the full one);
//   rmh with a proposal, irmh with a distribution q:
//              sample(key, kernel, f, proposal or q, x0, o): burn-in;
//   slice:     sample(key, slice::Kernel{}, f[, slice::Params], x0, o):
//              burn-in with each coordinate's width set to its sd over
//              Stan's doubling windows;
//   elliptical_slice: sample(key, kernel, loglik, prior, x0, o): burn-in;
//   sgld, sghmc: sample(key, kernel, estimator, Params<S>{...}, x0, o):
//              burn-in along the step-size schedule, which sampling
//              continues;
//   any kernel: sample(key, kernel, f, params, x0, o): Warmup::kNone is
//              burn-in with `params`; window or Fisher adaptation start
//              from them.
//
// Everything else is `sample`'s (sample.hpp): keys, per-chain accounting,
// per-draw statistics, warnings, errors that lose nothing. Draws::logdensity
// is the log-likelihood for elliptical slice and NaN for sgld and sghmc
// (they never evaluate the density; their estimator calls are counted as
// gradient evaluations). A proposal or distribution is called through a
// const reference: its sample and log_density must be const.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/mcmc/irmh.hpp"
#include "nutshell/mcmc/random_walk.hpp"
#include "nutshell/mcmc/rmh.hpp"
#include "nutshell/mcmc/slice.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/progress.hpp"
#include "nutshell/run/sample_burn_in.hpp"
#include "nutshell/run/sample_detail.hpp"
#include "nutshell/run/sample_init.hpp"
#include "nutshell/run/sample_types.hpp"
#include "nutshell/run/sample_warmup.hpp"
#include "nutshell/run/warmup_observer.hpp"

namespace nutshell {

/// The acceptance rate `sample` tunes rmh's random walk towards unless
/// SampleOptions::target_acceptance_rate says otherwise: 0.234, optimal for
/// a random walk in high dimension (Roberts, Gelman and Gilks 1997).
inline constexpr double kRandomWalkTargetAcceptance = 0.234;

namespace detail {

/// A kernel whose parameters are a template argument of its step_into
/// (rmh's proposal, irmh's distribution, sgld's and sghmc's Params<S>),
/// with that type declared as its Params, which `sample`'s drivers need.
template <class K, class P>
struct WithParams : K {
  using Params = P;
};

/// The kernel `sample` drives for `K` with parameters `P`.
template <class K, class P>
using GivenKernel = std::conditional_t<requires { typename K::Params; }, K, WithParams<K, P>>;

/// Slice width tuning: burn-in whose middle part is cut into Stan's
/// doubling windows (25, 50, 100, ... transitions, the last stretched to
/// the end of the middle part, after 15% and before 10% of the warmup); at
/// the end of each window every coordinate's width is set to its sd over
/// that window. About one sd is Neal's advice for a width: smaller costs
/// stepping out, larger costs shrinkage. Warmups under 20 transitions are
/// burn-in only.
template <class K, class CF>
absl::StatusOr<slice::Params> tune_slice_width(const K& kernel, CF& f, slice::Params params,
                                               const Key& key, PositionState& state,
                                               std::size_t num_steps) {
  const std::size_t dim = state.position.size();
  const std::size_t begin = num_steps * 15 / 100, end = num_steps - num_steps / 10;
  if (end < begin + 20) {
    if (auto s = burn_in(kernel, f, params, key, state, num_steps); !s.ok()) return s;
    return params;
  }
  Vec mean = xt::zeros<double>({dim}), m2 = xt::zeros<double>({dim});
  std::size_t count = 0, window = 25, window_end = std::min(begin + window, end);
  PositionState next = state;
  typename adaptation::KernelTypes<K, CF>::Info info{};
  typename adaptation::KernelTypes<K, CF>::Workspace ws{};
  for (std::size_t i = 0; i < num_steps; ++i) {
    auto s = kernel.step_into(fold_in(key, i), state, f, params, next, info, ws);
    if (!s.ok())
      return absl::Status(s.code(), absl::StrCat("slice warmup step ", i, ": ", s.message()));
    std::swap(state, next);
    if (i < begin || i >= end) continue;
    ++count;  // Welford
    for (std::size_t j = 0; j < dim; ++j) {
      const double d = state.position(j) - mean(j);
      mean(j) += d / static_cast<double>(count);
      m2(j) += d * (state.position(j) - mean(j));
    }
    if (i + 1 != window_end) continue;
    if (count > 1) {
      Vec width = xt::ones<double>({dim});
      for (std::size_t j = 0; j < dim; ++j) {
        const double sd = std::sqrt(m2(j) / static_cast<double>(count - 1));
        width(j) = std::isfinite(sd) && sd > 0.0 ? sd : slice::detail::width_of(params, j);
      }
      params.width = std::move(width);
    }
    mean.fill(0.0), m2.fill(0.0), count = 0;
    window *= 2;
    window_end = window_end + window + 2 * window > end ? end : window_end + window;
  }
  return params;
}

/// `sample`'s body for a kernel driven with given parameters `params`:
/// sample_impl's, with `tune(observed, f, params, key, state)` as the
/// warmup (it updates `state` in place and returns the tuned parameters).
template <class K, class G, class P, class Callback, class InitFn, class Tune>
auto sample_given_impl(const Key& key, K kernel, G g, P params, const InitialPositions& initial,
                       const SampleOptions& options, const Callback& callback,
                       const InitFn& init_fn, const Tune& tune)
    -> absl::StatusOr<Draws<typename adaptation::KernelTypes<K, CountingDensity<G>>::State, P,
                            typename adaptation::KernelTypes<K, CountingDensity<G>>::Info>> {
  using CF = CountingDensity<G>;
  using Types = adaptation::KernelTypes<K, CF>;
  using State = typename Types::State;
  using Info = typename Types::Info;
  if (auto s = validate_sample(g, initial, options); !s.ok()) return s;
  if (options.pathfinder_init)
    return absl::InvalidArgumentError(
        "pathfinder_init needs a gradient kernel with a metric (hmc, nuts, ...)");
  if (auto s = apply_kernel_options(kernel, options); !s.ok()) return s;
  const std::size_t num_chains = initial.num_chains(options);
  ProgressBar progress(num_chains * (options.num_warmup + options.num_samples),
                       ProgressOptions{.enabled = options.progress_bar, .label = "sample"});
  ProgressBar* bar = progress.active() ? &progress : nullptr;
  std::atomic<bool> stop_warmup{false};
  SharedStop stop;
  const std::size_t dim =
      initial.positions.empty() ? declared_dimension(g, options) : initial.positions[0].size();
  diagnostics::Draws shared;
  if (dim > 0)
    shared = diagnostics::Draws::from_shape(
        {num_chains, options.num_samples / options.thinning, dim});
  auto chains = pmap(
      key, num_chains,
      [&](std::size_t c, const Key& kc) -> absl::StatusOr<ChainOutcome<State, P, Info>> {
        EvalCounters counters;
        CF f{g, &counters};
        ChainAccounting acc;
        acc.chain = c;
        auto init =
            initial_state(kernel, f, initial, options, c, kc, acc.num_init_redraws, init_fn);
        if (!init.ok()) return init.status();
        const EvalCounters after_init = counters;
        checkpoint::ChainCheckpoint<State, P> start;
        start.chain = c;
        start.key = split_one(kc, 1);
        start.next_step = 0;
        start.state = *std::move(init);
        start.params = params;
        WarmupRecorder<Info> record;
        if (options.num_warmup > 0) {
          auto w = make_warmup_observer<K, CF>(kernel, c, bar, &stop_warmup, &counters, options,
                                               record, callback);
          absl::StatusOr<P> tuned = tune(w.kernel, f, params, split_one(kc, 0), start.state);
          if (!tuned.ok()) return tuned.status();
          w.account_warmup(acc, after_init);
          start.params = *std::move(tuned);
        }
        auto out = sample_from(start, kernel, f, options, bar, &stop, callback, std::move(acc),
                               Extras<State>{}, dim > 0 ? &shared : nullptr, c);
        if (out.ok()) out->warmup = std::move(record);
        return out;
      },
      PmapOptions{options.num_threads});
  progress.finish();
  if (stop_warmup.load())
    return absl::CancelledError("stopped by the step callback during warmup: no draws");
  // A stopped chain restarts at its last kept draw (a schedule's counter
  // where that draw left it).
  auto restart = [&](const K& k, G& f0, const Vec& x, const auto& ch, std::size_t i)
      -> absl::StatusOr<State> {
    EvalCounters counters;
    CF f{f0, &counters};
    auto s = init_fn(k, f, x, static_cast<std::size_t>(ch.start.chain), ch.start.key);
    if constexpr (requires { s->step; })
      if (s.ok()) s->step = ch.start.state.step + (i + 1) * options.thinning;
    return s;
  };
  return assemble(chains.chains, kernel, g, options, stop, {}, restart,
                  dim > 0 ? &shared : nullptr);
}

}  // namespace detail

/// `sample` with the kernel's parameters given (see the file comment for
/// each kernel's warmup): a proposal for rmh, a distribution for irmh, the
/// prior for elliptical slice, the schedule for sgld and sghmc, or any
/// kernel's Params. With Warmup::kNone the warmup is num_warmup transitions
/// of burn-in with `params`, for every kernel; window and Fisher adaptation
/// (kernels with a step size) start from `params`; the Fisher warmups are
/// an InvalidArgument for the others.
template <class K, class F, class P, class Callback = NoCallback>
  requires(std::is_class_v<K> && !std::is_convertible_v<const P&, InitialPositions> &&
           !std::is_convertible_v<const P&, SampleOptions>)
auto sample(const Key& key, K kernel, F&& density, P params, InitialPositions initial,
            const SampleOptions& options = {}, const Callback& callback = {}) {
  using G = std::decay_t<F>;
  using KP = detail::GivenKernel<K, P>;
  using CF = CountingDensity<G>;
  static_assert(std::is_same_v<typename adaptation::KernelTypes<KP, CF>::Params, P>,
                "sample: the parameters given are not this kernel's Params");
  using State = typename adaptation::KernelTypes<KP, CF>::State;
  SampleOptions o = options;
  if constexpr (std::is_same_v<K, rmh::RandomWalkKernel>) {
    if (!o.target_acceptance_rate) o.target_acceptance_rate = kRandomWalkTargetAcceptance;
    // A random walk's acceptance is a noisy function of its scale: Stan's
    // last 50 transitions of dual averaging leave its scale off by up to
    // 2x, so (unless the schedule was set) the last fifth of the warmup
    // tunes the final scale.
    auto& sch = o.adaptation.schedule;
    if (sch.init_buffer == 75 && sch.term_buffer == 50 && sch.base_window == 25)
      sch.term_buffer = std::max<std::size_t>(50, o.num_warmup / 5);
  }
  auto init_fn = [&params](const KP& k, CF& f, const Vec& x, std::size_t,
                           const Key& kc) -> absl::StatusOr<State> {
    if constexpr (requires { k.init(x, f, params); })
      return k.init(x, f, params);  // elliptical slice checks the prior's dimension
    else if constexpr (requires { k.init(x, f, params, kc); })
      return k.init(x, f, params, split_one(kc, 3));
    else
      return detail::start_state(k, f, x, split_one(kc, 3));
  };
  auto tune = [&o](const auto& observed, CF& f, P p, const Key& wk,
                   State& state) -> absl::StatusOr<P> {
    if constexpr (std::is_same_v<K, slice::Kernel>) {
      if (o.warmup == Warmup::kWindow)
        return detail::tune_slice_width(observed, f, std::move(p), wk, state, o.num_warmup);
    } else if constexpr (adaptation::AdaptableKernel<KP, CF>) {
      if (o.warmup != Warmup::kNone) {
        auto r = detail::run_warmup(observed, f, o, std::move(p), wk, std::move(state));
        if (!r.ok()) return r.status();
        state = std::move(r->state);
        return std::move(r->parameters);
      }
    }
    if (o.warmup == Warmup::kFisherDiagonal || o.warmup == Warmup::kFisherLowRank)
      return absl::InvalidArgumentError(
          "the Fisher warmups need a kernel with a metric and a gradient in its state (hmc, nuts, "
          "...): use Warmup::kNone or the default warmup with this kernel");
    if (auto s = detail::burn_in(observed, f, p, wk, state, o.num_warmup); !s.ok()) return s;
    return p;
  };
  return detail::sample_given_impl(key, KP{kernel}, G(std::forward<F>(density)), params,
                                   initial, o, callback, init_fn, tune);
}

/// `sample` with random walk Metropolis: window adaptation of the proposal
/// x + step_size * R z (R R^T the adapted metric, diagonal by default, the
/// full covariance with SampleOptions::metric = kDense), the scale by dual
/// averaging towards an acceptance rate of 0.234 (or
/// SampleOptions::target_acceptance_rate); then sampling with the tuned
/// proposal. Draws::params holds each chain's rmh::RandomWalkParams.
template <class F, class Callback = NoCallback>
auto sample(const Key& key, rmh::Kernel, F&& logdensity, InitialPositions initial,
            const SampleOptions& options = {}, const Callback& callback = {}) {
  return sample(key, rmh::RandomWalkKernel{}, std::forward<F>(logdensity),
                rmh::RandomWalkParams{}, std::move(initial), options, callback);
}

/// `sample` with slice sampling from slice::Params{} (width 1, coordinate
/// sweeps): burn-in with width tuning (see tune_slice_width) by default.
template <class F, class Callback = NoCallback>
auto sample(const Key& key, slice::Kernel kernel, F&& logdensity, InitialPositions initial,
            const SampleOptions& options = {}, const Callback& callback = {}) {
  return sample(key, kernel, std::forward<F>(logdensity), slice::Params{}, std::move(initial),
                options, callback);
}

}  // namespace nutshell
