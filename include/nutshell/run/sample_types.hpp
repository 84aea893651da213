// What `sample` and `resume` take and return: SampleOptions, InitialPositions,
// Draws; and `bind`, which turns any adaptable kernel into a bound sampler.
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
#include "nutshell/run/run_chain.hpp"

namespace nutshell {

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

}  // namespace nutshell
