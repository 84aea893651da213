// The options of `sample`'s warmups for the microcanonical kernels: MAMS
// (mcmc/mams.hpp, tuned by adaptation/mams_adaptation.hpp) and the
// unadjusted MCLMC (mcmc/mclmc.hpp, tuned by mclmc_find_L_and_step_size).
#pragma once

#include "nutshell/adaptation/mams_adaptation.hpp"
#include "nutshell/adaptation/mclmc_tuning.hpp"

namespace nutshell {

/// MCLMC's tuning as `sample` runs it: Blackjax's constants, with the phase
/// fractions taken of num_warmup so that the tuning's n1 + n2 + n2 / 3 + n3
/// steps are (about) num_warmup.
inline MclmcTuningOptions sample_mclmc_tuning_defaults() {
  MclmcTuningOptions o;
  o.frac_tune1 = 0.35;
  o.frac_tune2 = 0.35;
  o.frac_tune3 = 0.18;
  return o;
}

/// SampleOptions::microcanonical: how `sample` tunes mams::Kernel and
/// mclmc::Kernel (their warmups; SampleOptions::target_acceptance_rate,
/// when set, overrides mams.target_acceptance_rate).
struct MicrocanonicalWarmupOptions {
  adaptation::MamsAdaptationOptions mams;
  MclmcTuningOptions mclmc = sample_mclmc_tuning_defaults();
};

}  // namespace nutshell
