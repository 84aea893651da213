// Tempered SMC from the prior to the posterior (Blackjax's `tempered_smc`).
//
// The particles target pi_beta(x) ~ prior(x) * likelihood(x)^beta, beta going
// from 0 (the prior, where the caller's particles start) to 1 (the
// posterior) along a schedule. One stage, as in Blackjax's smc/base.py:
//   1. resample N (or, waste-free, M) ancestors by the current weights;
//   2. mutate them with the MCMC kernel on pi at the *previous* beta (which
//      leaves that target invariant);
//   3. reweight by (beta - beta_prev) * loglikelihood;
//   4. add log_likelihood_increment = logsumexp(log w) - log N to the
//      running log marginal likelihood.
// Kernel parameters are re-tuned from the particles before each stage
// (tuning.hpp). Usage:
//   smc::tempered::Sampler s(prior, loglik, hmc::Kernel{}, hmc_params, options);
//   auto state = s.init(prior_draws);                   // [N, d]
//   auto result = smc::tempered::run(key, s, *state, {0.1, 0.3, 1.0});
#pragma once

#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/smc/mutation.hpp"
#include "nutshell/smc/particles.hpp"
#include "nutshell/smc/resampling.hpp"
#include "nutshell/smc/state.hpp"
#include "nutshell/smc/tuning.hpp"

namespace nutshell::smc::tempered {

/// The prior, the log likelihood, the mutation kernel K with parameters P,
/// and the options, bound together with the scratch of a run (Blackjax's
/// `blackjax.tempered_smc(...)`): .init(positions) and .step(key, state,
/// beta). Not thread-safe itself (it owns the workers' scratch); its steps
/// use options.num_threads threads.
template <class K, LogDensity Prior, LogDensity Likelihood,
          class P = typename KernelTypes<K, TemperedDensity<Prior, Likelihood>>::Params>
class Sampler {
 public:
  using Params = P;
  using Info = smc::Info<P>;

  Sampler(Prior prior, Likelihood likelihood, K kernel, P params, Options options = {})
      : mutation_(std::move(prior), std::move(likelihood), std::move(kernel)),
        params_(std::move(params)),
        options_(options) {}

  /// The starting state at beta = 0 from prior draws `positions` [N, d]
  /// (uniform weights). Fails when N < 2, the options are invalid, or the
  /// log prior or log likelihood of any particle is not finite or throws.
  absl::StatusOr<State> init(const Mat& positions) const {
    if (auto s = check_options(positions.shape(0)); !s.ok()) return s;
    if (positions.shape(1) == 0) return absl::InvalidArgumentError("smc: particles have dimension 0");
    const std::size_t n = positions.shape(0), d = positions.shape(1);
    State state;
    state.particles.positions = positions;
    state.particles.log_weights = Vec::from_shape({n});
    state.particles.log_weights.fill(-std::log(static_cast<double>(n)));
    state.loglikelihood = Vec::from_shape({n});
    state.step_scale = options_.tuning.initial_scale;
    auto density = mutation_.density(0.0);
    Vec x = Vec::from_shape({d}), grad = Vec::from_shape({d});
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < d; ++j) x(j) = positions(i, j);
      if (!all_finite(x))
        return absl::InvalidArgumentError(absl::StrCat("smc: particle ", i, " is not finite"));
      double lp = 0.0, ll = 0.0;
      try {
        lp = density.logprior(x, grad);
        ll = density.loglikelihood(x, grad);
      } catch (...) {
        return nutshell::detail::thrown_status();
      }
      if (!std::isfinite(lp))
        return absl::InvalidArgumentError(
            absl::StrCat("smc: log prior at starting particle ", i, " is not finite (", lp, ")"));
      if (!std::isfinite(ll))
        return absl::InvalidArgumentError(absl::StrCat(
            "smc: log likelihood at starting particle ", i, " is not finite (", ll, ")"));
      state.loglikelihood(i) = ll;
    }
    return state;
  }

  /// One stage from `state` to inverse temperature `tempering_param` into
  /// `out` (must not alias `state`). Errors: a beta not in (state's beta,
  /// 1]; a throwing density or kernel; an ESS of the new weights below
  /// options.min_ess (FailedPrecondition: the population collapsed).
  absl::Status step_into(const Key& key, const State& state, double tempering_param, State& out,
                         Info& info) {
    const std::size_t n = state.particles.size();
    if (auto s = check_options(n); !s.ok()) return s;
    const double beta0 = state.tempering_param;
    if (!std::isfinite(tempering_param) || !(tempering_param > beta0) || tempering_param > 1.0)
      return absl::InvalidArgumentError(absl::StrCat("smc: next tempering parameter ",
                                                     tempering_param, " is not in (", beta0,
                                                     ", 1]"));
    const auto keys = split<2>(key);
    info.params = tune_params(params_, state.particles, state.step_scale, options_.tuning);

    // 1. Resample.
    const bool waste_free = options_.waste_free_chains > 0;
    const std::size_t m = waste_free ? options_.waste_free_chains : n;
    weights_.resize(n);
    normalized_weights(span_of(state.particles.log_weights), weights_);
    info.ancestors.resize(m);
    if (auto s = resample_into(options_.resampling, keys[0], weights_, info.ancestors, scratch_);
        !s.ok())
      return s;

    // 2. Mutate at the previous temperature.
    if (auto s = mutation_.run(keys[1], state.particles, span_of(state.loglikelihood),
                               info.ancestors, beta0, *info.params, options_.num_mcmc_steps,
                               waste_free ? n / m : 0, options_.num_threads,
                               out.particles.positions, out.loglikelihood, acceptance_);
        !s.ok())
      return s;
    double acc = 0.0;
    for (double a : acceptance_) acc += a;
    const std::size_t moves = waste_free ? n - m : (options_.num_mcmc_steps > 0 ? n : 0);
    info.acceptance_rate = moves > 0 ? acc / static_cast<double>(moves) : 0.0;

    // 3. Reweight by the tempering increment; 4. the evidence increment.
    const double delta = tempering_param - beta0;
    ensure_size(out.particles.log_weights, n);
    for (std::size_t i = 0; i < n; ++i) {
      const double ll = out.loglikelihood(i);
      out.particles.log_weights(i) =
          std::isfinite(ll) ? delta * ll : (ll > 0.0 ? 0.0 : -std::numeric_limits<double>::infinity());
    }
    const double total = logsumexp(span_of(out.particles.log_weights));
    if (!std::isfinite(total))
      return absl::FailedPreconditionError(absl::StrCat(
          "smc: every particle has zero weight at tempering parameter ", tempering_param));
    for (double& w : out.particles.log_weights) w -= total;
    info.ess = ess(span_of(out.particles.log_weights));
    info.log_likelihood_increment = total - std::log(static_cast<double>(n));
    info.tempering_param = tempering_param;
    if (!(info.ess >= options_.min_ess))
      return absl::FailedPreconditionError(absl::StrCat(
          "smc: the effective sample size collapsed to ", info.ess, " of ", n,
          " particles going from tempering parameter ", beta0, " to ", tempering_param,
          "; use smaller steps (adaptive tempering), more particles or more mutation steps"));
    out.tempering_param = tempering_param;
    out.log_marginal_likelihood = state.log_marginal_likelihood + info.log_likelihood_increment;
    out.step_scale = moves > 0 ? next_scale(state.step_scale, info.acceptance_rate, options_.tuning)
                               : state.step_scale;
    return absl::OkStatus();
  }

  /// Pure form: returns the new state and info.
  absl::StatusOr<Transition<State, Info>> step(const Key& key, const State& state,
                                               double tempering_param) {
    Transition<State, Info> t;
    if (auto s = step_into(key, state, tempering_param, t.state, t.info); !s.ok()) return s;
    return t;
  }

  const P& params() const { return params_; }
  void set_params(P params) { params_ = std::move(params); }
  const Options& options() const { return options_; }

 private:
  absl::Status check_options(std::size_t n) const {
    if (n < 2) return absl::InvalidArgumentError("smc: need at least 2 particles");
    if (options_.num_mcmc_steps < 0)
      return absl::InvalidArgumentError("smc: num_mcmc_steps must be >= 0");
    if (options_.num_threads < 1) return absl::InvalidArgumentError("smc: num_threads must be >= 1");
    if (!(options_.min_ess >= 1.0)) return absl::InvalidArgumentError("smc: min_ess must be >= 1");
    if (options_.waste_free_chains > 0 && n % options_.waste_free_chains != 0)
      return absl::InvalidArgumentError(absl::StrCat("smc: waste_free_chains (",
                                                     options_.waste_free_chains,
                                                     ") must divide the number of particles (",
                                                     n, ")"));
    return absl::OkStatus();
  }

  Mutation<K, Prior, Likelihood, P> mutation_;
  P params_;
  Options options_;
  std::vector<double> weights_, scratch_, acceptance_;
};

/// The result of a run: the final state and per-stage traces.
struct RunResult {
  State state;
  std::vector<double> tempering_params;  ///< beta after each stage
  std::vector<double> ess;               ///< ESS of the weights after each stage
  std::vector<double> acceptance_rates;  ///< mean mutation acceptance per stage
  std::size_t num_stages() const { return tempering_params.size(); }
};

/// Checks a schedule: non-empty, finite, strictly increasing, above
/// `start`, ending at exactly 1.
inline absl::Status check_schedule(std::span<const double> schedule, double start) {
  if (schedule.empty()) return absl::InvalidArgumentError("smc: empty tempering schedule");
  double prev = start;
  for (std::size_t i = 0; i < schedule.size(); ++i) {
    if (!std::isfinite(schedule[i]) || !(schedule[i] > prev) || schedule[i] > 1.0)
      return absl::InvalidArgumentError(
          absl::StrCat("smc: tempering schedule entry ", i, " (", schedule[i],
                       ") must be finite, in (0, 1] and greater than the previous one (", prev,
                       ")"));
    prev = schedule[i];
  }
  if (schedule.back() != 1.0)
    return absl::InvalidArgumentError(absl::StrCat(
        "smc: tempering schedule must end at 1 (the posterior), ends at ", schedule.back()));
  return absl::OkStatus();
}

/// Runs `sampler` from `state` through `schedule` (strictly increasing,
/// ending at 1); stage s uses fold_in(key, s).
template <class Sampler>
absl::StatusOr<RunResult> run(const Key& key, Sampler& sampler, State state,
                              std::span<const double> schedule) {
  if (auto s = check_schedule(schedule, state.tempering_param); !s.ok()) return s;
  RunResult result;
  State next;
  typename Sampler::Info info;
  for (std::size_t s = 0; s < schedule.size(); ++s) {
    if (auto st = sampler.step_into(fold_in(key, s), state, schedule[s], next, info); !st.ok())
      return st;
    std::swap(state, next);
    result.tempering_params.push_back(info.tempering_param);
    result.ess.push_back(info.ess);
    result.acceptance_rates.push_back(info.acceptance_rate);
  }
  result.state = std::move(state);
  return result;
}

/// `run` with a braced schedule: run(key, sampler, state, {0.1, 0.5, 1.0}).
template <class Sampler>
absl::StatusOr<RunResult> run(const Key& key, Sampler& sampler, State state,
                              std::initializer_list<double> schedule) {
  return run(key, sampler, std::move(state), std::span<const double>(schedule.begin(), schedule.size()));
}

}  // namespace nutshell::smc::tempered
