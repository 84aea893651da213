// State, Info and Options of tempered SMC (Blackjax's TemperedSMCState,
// SMCInfo and the tempered_smc arguments).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "nutshell/core/types.hpp"
#include "nutshell/smc/particles.hpp"
#include "nutshell/smc/resampling.hpp"
#include "nutshell/smc/tuning.hpp"

namespace nutshell::smc {

/// Everything the next stage needs, as a value.
struct State {
  /// Positions [N, d] and normalised log weights targeting
  /// prior * likelihood^tempering_param.
  Particles particles;
  /// log likelihood at each particle (cached: the adaptive solver and the
  /// reweighting need it).
  Vec loglikelihood;
  /// The current inverse temperature beta in [0, 1].
  double tempering_param = 0.0;
  /// Running estimate of log Z(beta) = log int prior * likelihood^beta: the
  /// sum of the stages' log_likelihood_increment; at beta = 1 the log
  /// marginal likelihood (evidence) of the model.
  double log_marginal_likelihood = 0.0;
  /// The inner-kernel tuning scale carried to the next stage (tuning.hpp).
  double step_scale = 1.0;
};

/// What happened in one stage.
template <class Params>
struct Info {
  std::vector<std::size_t> ancestors;  ///< resampled indices (M of them when waste-free)
  double log_likelihood_increment = 0.0;  ///< logsumexp(delta * loglik) - log N
  double ess = 0.0;                       ///< ESS of the new weights
  double acceptance_rate = 0.0;           ///< mean over particles and mutation steps
  double tempering_param = 0.0;           ///< the beta reached
  /// The mutation kernel's parameters used (optional only so that Params
  /// need not be default-constructible).
  std::optional<Params> params;
};

/// Structural options of tempered SMC.
struct Options {
  Resampling resampling = Resampling::kSystematic;
  /// MCMC steps per particle per stage (ignored when waste-free).
  int num_mcmc_steps = 10;
  /// Waste-free SMC (Dau and Chopin 2022) when > 0: resample this many (M)
  /// particles, run each as a chain of N / M states, keep every state. M
  /// must divide N.
  std::size_t waste_free_chains = 0;
  /// Threads for the mutation; the result does not depend on it.
  std::size_t num_threads = 1;
  /// A stage whose new weights have an ESS below this fails with
  /// FailedPrecondition (the population collapsed onto ~one particle).
  double min_ess = 1.5;
  /// Inner-kernel tuning from the particles (tuning.hpp).
  InnerKernelTuning tuning{};
};

}  // namespace nutshell::smc
