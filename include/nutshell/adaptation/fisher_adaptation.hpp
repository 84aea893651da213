// Warmup with nutpie's mass-matrix estimators, which use the gradients as
// well as the draws (nuts-rs adapt_strategy.rs; Seyboldt, Carlson, Carpenter
// 2026): `fisher_diagonal` (fisher_diagonal.hpp) or `fisher_low_rank`
// (low_rank.hpp), on nuts-rs's schedule (fisher_schedule.hpp).
//
//   auto warmup = adaptation::fisher_adaptation(nuts::Kernel{}, logdensity,
//                                               {.low_rank = true});
//   auto result = warmup.run(key, initial_position, 1000);
//   // result->state: the last warmup state; result->parameters: the tuned Params
//
// Control flow, per warmup draw:
//   1. the kernel runs with the current step size and metric;
//   2. dual averaging (Stan's constants: kappa 0.75, t0 10, gamma 0.05,
//      mu = log(10 eps)) sees the transition's mean acceptance statistic,
//      or late in warmup (see FisherSchedule::is_late) the symmetric one,
//      as nuts-rs does, when the kernel reports it (nuts);
//   3. outside the final phase, a draw that moved goes with its gradient into
//      the foreground and the background estimators (a draw that did not
//      move, i.e. the trajectory returned its start, says nothing about the
//      posterior's spread and is skipped; the kernels report no
//      trajectory index, so "moved" is "the position changed");
//   4. at a switch the background becomes the foreground; at a switch or
//      when the update interval has elapsed the metric is rebuilt from the
//      foreground (every draw for the diagonal, every 20 for low rank);
//   5. the initial step-size heuristic (Stan's, step_size.hpp) runs at the
//      start, with the metric 1 / |gradient|, and once more the first time
//      the metric changes; dual averaging restarts there and never again;
//   6. the tuned step size is exp(x_bar);
//   7. with a kernel whose Params has step_size_jitter (nuts), every warmup
//      transition and the returned Params use options.step_size_jitter
//      (0 by default; nuts-rs's is +-10%): the step size is exp(x) of dual
//      averaging times a uniform factor drawn from the step key.
//
// Keys: warmup step i uses fold_in(key, i); the searches use fold_in of the
// child split_one(key, 0) with 0 (initial) and 1 (after the first change).
#pragma once

#include <cstddef>
#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/fisher_estimator.hpp"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/adaptation/step_size.hpp"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"

namespace nutshell::adaptation {

/// What a Fisher warmup run returns.
template <class State, class Params>
struct FisherAdaptationResult {
  State state;        ///< the last warmup state: start sampling here
  Params parameters;  ///< the tuned parameters, ready for the kernel
};

/// A kernel whose state carries the gradient at its position and whose
/// parameters carry a metric: what the Fisher estimators need. The log
/// density may be a mixed composition's conditional f(x, grad, others)
/// (compose/mixed.hpp): then the continuous block is adapted from its draws
/// and conditional scores, with the Gibbs sweeps running inside every
/// warmup transition and every step-size trial.
template <class K, class F>
concept FisherAdaptableKernel =
    AdaptableKernel<K, F> && has_metric_v<typename KernelTypes<K, F>::Params> &&
    requires(const typename KernelTypes<K, F>::State& s) {
      { s.position } -> std::convertible_to<const Vec&>;
      { s.logdensity_grad } -> std::convertible_to<const Vec&>;
      { s.logdensity } -> std::convertible_to<double>;
    };

/// Fisher adaptation bound to a gradient kernel with a metric (hmc, nuts;
/// ghmc through run_from, since its init needs a key), a log density,
/// options and the untuned parameters. Holds the log density by value (wrap
/// it in std::ref to share one).
template <class K, class F>
  requires FisherAdaptableKernel<K, F>
class FisherAdaptationAlgorithm {
 public:
  using State = typename KernelTypes<K, F>::State;
  using Params = typename KernelTypes<K, F>::Params;
  using Info = typename KernelTypes<K, F>::Info;
  using Workspace = typename KernelTypes<K, F>::Workspace;
  using Result = FisherAdaptationResult<State, Params>;

  FisherAdaptationAlgorithm(K kernel, F logdensity, FisherAdaptationOptions options,
                            Params base_params)
      : kernel_(std::move(kernel)), logdensity_(std::move(logdensity)),
        options_(std::move(options)), base_params_(std::move(base_params)) {
    // The symmetric statistic is computed only when a kernel is asked to.
    if constexpr (requires { kernel_.symmetric_acceptance; })
      kernel_.symmetric_acceptance = options_.symmetric_acceptance_late;
  }

  /// Warmup of `num_steps` transitions from `position`. Errors: num_steps ==
  /// 0, invalid options, a non-finite position or density there, a failed
  /// step-size search, a kernel error, an unusable metric estimate; each
  /// names the step it happened at.
  absl::StatusOr<Result> run(const Key& key, const Vec& position, std::size_t num_steps)
    requires LogDensity<F>
  {
    auto state = init_state(kernel_, position, logdensity_);
    if (!state.ok()) return state.status();
    return run_from(key, *std::move(state), num_steps);
  }

  /// Warmup from an existing kernel state.
  absl::StatusOr<Result> run_from(const Key& key, State state, std::size_t num_steps) {
    auto adaptation = FisherAdaptation::create(num_steps, options_);
    if (!adaptation.ok()) return adaptation.status();
    auto astate = adaptation->init(state.logdensity_grad);
    if (!astate.ok()) return annotate(astate.status(), "initial metric");
    Params params = base_params_;
    params.inverse_mass_matrix = astate->inverse_mass_matrix;
    if constexpr (requires { params.step_size_jitter; })
      params.step_size_jitter = options_.step_size_jitter;
    const Key search_key = split_one(key, 0);
    std::uint64_t num_searches = 0;
    auto eps = search(fold_in(search_key, num_searches++), state, params,
                      options_.initial_step_size);
    if (!eps.ok()) return annotate(eps.status(), "initial step size search");
    FisherAdaptationState s = adaptation->restart(*std::move(astate), *eps);
    params.step_size = s.step_size;

    State next = state;
    Info info{};
    Workspace ws{};
    for (std::size_t i = 0; i < num_steps; ++i) {
      auto st = kernel_.step_into(fold_in(key, i), state, logdensity_, params, next, info, ws);
      if (!st.ok()) return annotate(st, absl::StrCat("warmup step ", i));
      const bool moved = !positions_equal(state.position, next.position);
      std::swap(state, next);
      const double acceptance = adaptation->uses_symmetric_statistic(s)
                                    ? symmetric_acceptance(kernel_, info)
                                    : static_cast<double>(info.acceptance_rate);
      if (auto u = adaptation->update_into(s, state.position, state.logdensity_grad, acceptance,
                                           moved);
          !u.ok())
        return annotate(u, absl::StrCat("warmup step ", i));
      if (s.metric_updated) params.inverse_mass_matrix = s.inverse_mass_matrix;
      if (s.needs_step_size_search) {
        eps = search(fold_in(search_key, num_searches++), state, params, s.step_size);
        if (!eps.ok())
          return annotate(eps.status(), absl::StrCat("step size search after warmup step ", i));
        s = adaptation->restart(std::move(s), *eps);
      }
      params.step_size = s.step_size;
    }
    AdaptedParameters adapted = adaptation->final(s);
    params.step_size = adapted.step_size;
    params.inverse_mass_matrix = std::move(adapted.inverse_mass_matrix);
    return Result{std::move(state), std::move(params)};
  }

  /// The kernel being tuned (unchanged by adaptation, except that a nuts
  /// kernel computes the symmetric statistic when the options use it).
  const K& kernel() const { return kernel_; }
  /// The bound log density, e.g. to read an evaluation counter.
  F& logdensity() { return logdensity_; }
  /// The options every run uses.
  const FisherAdaptationOptions& options() const { return options_; }

 private:
  static absl::Status annotate(const absl::Status& s, const std::string& where) {
    return absl::Status(s.code(),
                        absl::StrCat("fisher adaptation, ", where, ": ", s.message()));
  }

  // The symmetric statistic where the kernel can be asked for it (nuts),
  // else the mean (e.g. a mixed composition, whose Info carries only its
  // continuous kernel's mean at the top).
  static double symmetric_acceptance(const K& kernel, const Info& info) {
    if constexpr (requires { kernel.symmetric_acceptance; info.symmetric_acceptance_rate; })
      return static_cast<double>(info.symmetric_acceptance_rate);
    else
      return static_cast<double>(info.acceptance_rate);
  }

  static bool positions_equal(const Vec& a, const Vec& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a(i) != b(i)) return false;
    return true;
  }

  // Stan's search from `from`: one step of the kernel's integrator with the
  // current metric; for a mixed composition (a conditional density) one
  // whole transition, sweep included, as window adaptation does.
  absl::StatusOr<double> search(const Key& key, const State& state, const Params& params,
                                double from) {
    if constexpr (!LogDensity<F>) {
      Params trial = params;
      if constexpr (requires { trial.step_size_jitter; }) trial.step_size_jitter = 0.0;
      TransitionProbe<K, State, F, Params, Info, Workspace> probe(kernel_, state, logdensity_,
                                                                  std::move(trial));
      return find_reasonable_step_size(key, from, probe);
    } else {
      return search_leapfrog(key, state, params, from);
    }
  }

  absl::StatusOr<double> search_leapfrog(const Key& key, const State& state,
                                         const Params& params, double from) {
    Integrator integrator = velocity_verlet;
    if constexpr (requires { Integrator{kernel_.integrator}; }) integrator = kernel_.integrator;
    if constexpr (std::is_same_v<State, GradientState>) {
      LeapfrogProbe<F> probe(state, logdensity_, params.inverse_mass_matrix, integrator);
      return find_reasonable_step_size(key, from, probe);
    } else {  // e.g. ghmc's state: the probe needs only the gradient state
      const GradientState g{state.position, state.logdensity, state.logdensity_grad};
      LeapfrogProbe<F> probe(g, logdensity_, params.inverse_mass_matrix, integrator);
      return find_reasonable_step_size(key, from, probe);
    }
  }

  K kernel_;
  F logdensity_;
  FisherAdaptationOptions options_;
  Params base_params_;
};

/// Fisher adaptation of `kernel` on `logdensity` (diagonal unless
/// options.low_rank); untuned parameters take their defaults.
template <class K, class F>
auto fisher_adaptation(K kernel, F&& logdensity, FisherAdaptationOptions options = {}) {
  using Params = typename KernelTypes<K, std::decay_t<F>>::Params;
  return FisherAdaptationAlgorithm<K, std::decay_t<F>>(
      std::move(kernel), std::forward<F>(logdensity), std::move(options), Params{});
}

/// Fisher adaptation with the untuned parameters taken from `base_params`
/// (e.g. hmc's num_integration_steps; its metric is ignored: the
/// adaptation starts from 1 / |gradient|).
template <class K, class F>
auto fisher_adaptation(K kernel, F&& logdensity, FisherAdaptationOptions options,
                       typename KernelTypes<K, std::decay_t<F>>::Params base_params) {
  return FisherAdaptationAlgorithm<K, std::decay_t<F>>(
      std::move(kernel), std::forward<F>(logdensity), std::move(options), std::move(base_params));
}

}  // namespace nutshell::adaptation
