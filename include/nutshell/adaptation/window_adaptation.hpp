// Window adaptation of any kernel's step size and inverse mass matrix
// (Blackjax's window_adaptation, with Stan's control flow).
//
//   auto warmup = adaptation::window_adaptation(nuts::Kernel{}, logdensity);
//   auto result = warmup.run(key, initial_position, 1000);
//   // result->state: the last warmup state; result->parameters: the tuned Params
//
// Control flow (Stan's run_adaptive_sampler + adapt_diag_e_nuts):
//   1. the step-size search at the initial point, then dual averaging from it;
//   2. each warmup transition runs the kernel with the current parameters and
//      shows the new position and Info::acceptance_rate to the adaptation;
//   3. when a window closes, the metric becomes that window's regularised
//      estimate, the search reruns from the current point with the new
//      metric, and dual averaging restarts with mu = log(10 eps) — except
//      after the very last warmup step, where restarting would throw the
//      step size away (Stan's term_buffer = 0 bug);
//   4. the tuned step size is exp(x_bar).
// The kernel is untouched: adaptation only observes what it returns.
//
// Keys: warmup step i uses fold_in(key, i); the step-size searches use the
// child split_one(key, 0), search k (0 = initial, k = after the k-th window)
// using fold_in(that child, k).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/adaptation/step_size.hpp"
#include "nutshell/adaptation/windowed.hpp"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"

namespace nutshell::adaptation {

/// One warmup transition as it happened: the kernel's Info and the step size
/// it was run with (which changes every step during warmup).
template <class Info>
struct WarmupInfo {
  Info info;
  double step_size = 0.0;
};

/// What a warmup run returns.
template <class State, class Params, class Info>
struct WindowAdaptationResult {
  State state;                          ///< the last warmup state: start sampling here
  Params parameters;                    ///< the tuned parameters, ready for the kernel
  std::vector<WarmupInfo<Info>> infos;  ///< one per warmup step
};

/// Window adaptation bound to a kernel, a log density, options and the
/// parameters that are not tuned (e.g. hmc's num_integration_steps). Holds
/// the log density by value (wrap it in std::ref to share one).
template <class K, class F>
  requires AdaptableKernel<K, F>
class WindowAdaptationAlgorithm {
 public:
  using State = typename KernelTypes<K, F>::State;
  using Params = typename KernelTypes<K, F>::Params;
  using Info = typename KernelTypes<K, F>::Info;
  using Workspace = typename KernelTypes<K, F>::Workspace;
  using Result = WindowAdaptationResult<State, Params, Info>;
  static constexpr bool kAdaptsMetric = has_metric_v<Params>;

  WindowAdaptationAlgorithm(K kernel, F logdensity, WindowAdaptationOptions options,
                            Params base_params)
      : kernel_(std::move(kernel)), logdensity_(std::move(logdensity)),
        options_(std::move(options)), base_params_(std::move(base_params)) {}

  /// Warmup of `num_steps` transitions from `position`. Errors: num_steps ==
  /// 0, invalid options, a non-finite position or density there (the
  /// kernel's init), a failed step-size search, a kernel error, an unusable
  /// metric estimate. Every error names the step it happened at.
  absl::StatusOr<Result> run(const Key& key, const Vec& position, std::size_t num_steps) {
    auto state = init_state(kernel_, position, logdensity_);
    if (!state.ok()) return state.status();
    return run_from(key, *std::move(state), num_steps);
  }

  /// Warmup from an existing kernel state (e.g. to continue a chain).
  absl::StatusOr<Result> run_from(const Key& key, State state, std::size_t num_steps) {
    auto adaptation =
        WindowAdaptation::create(num_steps, options_, kAdaptsMetric && options_.adapt_mass_matrix);
    if (!adaptation.ok()) return adaptation.status();
    const std::size_t dim = state.position.size();
    Params params = base_params_;
    params.step_size = options_.initial_step_size;
    Metric metric = Metric::identity(dim);
    if constexpr (kAdaptsMetric) {
      if (params.inverse_mass_matrix.dim() == dim)
        metric = params.inverse_mass_matrix;  // start from the caller's metric
      else if (params.inverse_mass_matrix.dim() != 0)
        return absl::InvalidArgumentError(absl::StrCat(
            "window adaptation: the initial inverse mass matrix has dimension ",
            params.inverse_mass_matrix.dim(), " but the position has ", dim));
      params.inverse_mass_matrix = metric;
    }
    const Key search_key = split_one(key, 0);
    std::uint64_t num_searches = 0;
    auto eps = search(fold_in(search_key, num_searches++), state, params);
    if (!eps.ok()) return annotate(eps.status(), "initial step size search");
    WindowAdaptationState astate = adaptation->init(*eps, std::move(metric));
    params.step_size = astate.step_size;

    Result result;
    if (options_.keep_infos) result.infos.reserve(num_steps);
    State next = state;
    Info info{};
    Workspace ws{};
    for (std::size_t i = 0; i < num_steps; ++i) {
      auto s = kernel_.step_into(fold_in(key, i), state, logdensity_, params, next, info, ws);
      if (!s.ok()) return annotate(s, absl::StrCat("warmup step ", i));
      if (options_.keep_infos) keep_info(result.infos, info, params.step_size);
      std::swap(state, next);
      if (auto u = adaptation->update_into(astate, state.position,
                                           static_cast<double>(info.acceptance_rate));
          !u.ok())
        return u;
      if constexpr (kAdaptsMetric) {
        if (astate.metric_updated) params.inverse_mass_matrix = astate.inverse_mass_matrix;
      }
      if (astate.needs_step_size_search) {
        params.step_size = astate.step_size;
        eps = search(fold_in(search_key, num_searches++), state, params);
        if (!eps.ok())
          return annotate(eps.status(), absl::StrCat("step size search after warmup step ", i));
        astate = adaptation->restart(std::move(astate), *eps);
      }
      params.step_size = astate.step_size;
    }
    AdaptedParameters adapted = adaptation->final(astate);
    params.step_size = adapted.step_size;
    if constexpr (kAdaptsMetric) params.inverse_mass_matrix = std::move(adapted.inverse_mass_matrix);
    result.state = std::move(state);
    result.parameters = std::move(params);
    return result;
  }

  /// The kernel being tuned (unchanged by adaptation).
  const K& kernel() const { return kernel_; }
  /// The bound log density, e.g. to read an evaluation counter.
  F& logdensity() { return logdensity_; }
  /// The options every run uses.
  const WindowAdaptationOptions& options() const { return options_; }

 private:
  static absl::Status annotate(const absl::Status& s, const std::string& where) {
    return absl::Status(s.code(), absl::StrCat("window adaptation, ", where, ": ", s.message()));
  }

  // Appends {info, step_size} to `infos` (reserved for every step). Without
  // keep_info_vectors the vector members are swapped out first and back
  // after, so the kept copy holds empty vectors and nothing is allocated.
  void keep_info(std::vector<WarmupInfo<Info>>& infos, Info& info, double step_size) {
    if constexpr (requires { info.momentum = Vec(); }) {
      if (!options_.keep_info_vectors) {
        std::swap(info.momentum, spare_momentum_);  // moves: no allocation
        infos.push_back({info, step_size});
        std::swap(info.momentum, spare_momentum_);
        return;
      }
    }
    infos.push_back({info, step_size});
  }

  // Stan's search from params.step_size at `state`: one leapfrog step of the
  // kernel's integrator with the current metric when there is one, else one
  // kernel transition.
  absl::StatusOr<double> search(const Key& key, const State& state, const Params& params) {
    if constexpr (kAdaptsMetric && std::is_same_v<State, GradientState>) {
      Integrator integrator = velocity_verlet;
      if constexpr (requires { Integrator{kernel_.integrator}; }) integrator = kernel_.integrator;
      LeapfrogProbe<F> probe(state, logdensity_, params.inverse_mass_matrix, integrator);
      return find_reasonable_step_size(key, params.step_size, probe);
    } else {
      TransitionProbe<K, State, F, Params, Info, Workspace> probe(kernel_, state, logdensity_,
                                                                  params);
      return find_reasonable_step_size(key, params.step_size, probe);
    }
  }

  K kernel_;
  F logdensity_;
  WindowAdaptationOptions options_;
  Params base_params_;
  Vec spare_momentum_;  // always empty between steps (see keep_info)
};

/// Window adaptation of `kernel` on `logdensity`; untuned parameters take
/// their defaults.
template <class K, class F>
  requires AdaptableKernel<K, std::decay_t<F>>
auto window_adaptation(K kernel, F&& logdensity, WindowAdaptationOptions options = {}) {
  using Params = typename KernelTypes<K, std::decay_t<F>>::Params;
  return WindowAdaptationAlgorithm<K, std::decay_t<F>>(std::move(kernel),
                                                       std::forward<F>(logdensity),
                                                       std::move(options), Params{});
}

/// Window adaptation with the untuned parameters taken from `base_params`
/// (e.g. hmc's num_integration_steps; a metric of the right dimension is
/// the starting metric, an empty one means the identity).
template <class K, class F>
  requires AdaptableKernel<K, std::decay_t<F>>
auto window_adaptation(K kernel, F&& logdensity, WindowAdaptationOptions options,
                       typename KernelTypes<K, std::decay_t<F>>::Params base_params) {
  return WindowAdaptationAlgorithm<K, std::decay_t<F>>(
      std::move(kernel), std::forward<F>(logdensity), std::move(options), std::move(base_params));
}

}  // namespace nutshell::adaptation
