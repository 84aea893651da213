// Adaptive tempered SMC (Blackjax's `adaptive_tempered_smc`): each stage
// picks the next inverse temperature so that the incremental weights
// (beta - beta_prev) * loglikelihood of the current particles have an ESS of
// target_ess * N, by bisection (solver.hpp), clipped to 1. Otherwise a stage
// is a tempered stage (tempered.hpp).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/smc/solver.hpp"
#include "nutshell/smc/tempered.hpp"

namespace nutshell::smc::adaptive_tempered {

/// Options of the temperature choice.
struct AdaptiveOptions {
  /// Target ESS of the incremental weights, as a fraction of N, in (0, 1).
  double target_ess = 0.5;
  DichotomyOptions solver{};
  /// A run fails (ResourceExhausted) if beta has not reached 1 after this
  /// many stages.
  std::size_t max_num_stages = 1000;
};

/// A tempered sampler whose step chooses its own next temperature
/// (Blackjax's `blackjax.adaptive_tempered_smc(...)`).
template <class K, LogDensity Prior, LogDensity Likelihood,
          class P = typename KernelTypes<K, TemperedDensity<Prior, Likelihood>>::Params>
class Sampler {
 public:
  using Params = P;
  using Info = smc::Info<P>;

  Sampler(Prior prior, Likelihood likelihood, K kernel, P params, Options options = {},
          AdaptiveOptions adaptive = {})
      : inner_(std::move(prior), std::move(likelihood), std::move(kernel), std::move(params),
               options),
        adaptive_(adaptive) {}

  /// As tempered::Sampler::init.
  absl::StatusOr<State> init(const Mat& positions) const { return inner_.init(positions); }

  /// The next inverse temperature from `state` (Blackjax's ess_solver).
  absl::StatusOr<double> next_tempering_param(const State& state) {
    if (!(adaptive_.target_ess > 0.0 && adaptive_.target_ess < 1.0))
      return absl::InvalidArgumentError("smc: target_ess must be in (0, 1)");
    const double max_delta = 1.0 - state.tempering_param;
    if (!(max_delta > 0.0)) return absl::InvalidArgumentError("smc: already at tempering parameter 1");
    const double delta = ess_solver(span_of(state.loglikelihood), adaptive_.target_ess, max_delta,
                                    scratch_, adaptive_.solver);
    if (!(delta > 0.0))
      return absl::FailedPreconditionError(absl::StrCat(
          "smc: adaptive tempering cannot increase the tempering parameter from ",
          state.tempering_param, " (the log likelihoods of the particles are too spread out)"));
    // Land exactly on 1 rather than a rounding error short of it.
    return delta >= max_delta ? 1.0 : state.tempering_param + delta;
  }

  /// One stage to the adaptively chosen temperature, into `out`.
  absl::Status step_into(const Key& key, const State& state, State& out, Info& info) {
    auto beta = next_tempering_param(state);
    if (!beta.ok()) return beta.status();
    return inner_.step_into(key, state, *beta, out, info);
  }

  /// Pure form: returns the new state and info.
  absl::StatusOr<Transition<State, Info>> step(const Key& key, const State& state) {
    Transition<State, Info> t;
    if (auto s = step_into(key, state, t.state, t.info); !s.ok()) return s;
    return t;
  }

  const P& params() const { return inner_.params(); }
  void set_params(P params) { inner_.set_params(std::move(params)); }
  const AdaptiveOptions& adaptive_options() const { return adaptive_; }

 private:
  tempered::Sampler<K, Prior, Likelihood, P> inner_;
  AdaptiveOptions adaptive_;
  std::vector<double> scratch_;
};

/// Runs `sampler` from `state` until beta = 1; stage s uses fold_in(key, s).
template <class Sampler>
absl::StatusOr<tempered::RunResult> run(const Key& key, Sampler& sampler, State state) {
  tempered::RunResult result;
  State next;
  typename Sampler::Info info;
  for (std::size_t s = 0; state.tempering_param < 1.0; ++s) {
    if (s >= sampler.adaptive_options().max_num_stages)
      return absl::ResourceExhaustedError(absl::StrCat(
          "smc: tempering parameter only reached ", state.tempering_param, " after ", s,
          " stages"));
    if (auto st = sampler.step_into(fold_in(key, s), state, next, info); !st.ok()) return st;
    std::swap(state, next);
    result.tempering_params.push_back(info.tempering_param);
    result.ess.push_back(info.ess);
    result.acceptance_rates.push_back(info.acceptance_rate);
  }
  result.state = std::move(state);
  return result;
}

}  // namespace nutshell::smc::adaptive_tempered
