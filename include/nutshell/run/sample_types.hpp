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
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/fisher_estimator.hpp"
#include "nutshell/adaptation/chees_adaptation.hpp"
#include "nutshell/adaptation/cross_chain.hpp"
#include "nutshell/adaptation/meads_adaptation.hpp"
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
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/run_chain.hpp"
#include "nutshell/run/warnings.hpp"
#include "nutshell/run/microcanonical_options.hpp"
#include "nutshell/run/warmup_record.hpp"

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

namespace detail {
/// The other blocks of a mixed composition's state, or std::monostate.
template <class State>
struct OthersOfState {
  using type = std::monostate;
};
template <class State>
  requires requires(const State& s) { s.others; }
struct OthersOfState<State> {
  using type = std::decay_t<decltype(std::declval<const State&>().others)>;
};
}  // namespace detail

// ---------------------------------------------------------------------------
// sample: window adaptation then sampling, M chains in pmap

/// The metric window adaptation estimates.
enum class MetricKind {
  kDiagonal,  ///< the variances (Stan's diag_e, the default)
  kDense,     ///< the full covariance (Stan's dense_e)
  kIdentity,  ///< none: only the step size adapts (Stan's unit_e)
};

/// The warmup `sample` runs before sampling (issues 13 and 15).
enum class Warmup {
  kWindow,          ///< Stan's window adaptation (window_adaptation.hpp), the default
  kFisherDiagonal,  ///< nutpie's diagonal from draws and gradients (fisher_adaptation.hpp)
  kFisherLowRank,   ///< nutpie's diagonal plus low-rank correction (fisher_adaptation.hpp)
  kFisherAuto,      ///< low rank, or the diagonal when the correction is not worth it (issue 13)
  kChees,  ///< ChEES across all chains in lockstep, dynamic_hmc only (sample_cross_chain.hpp)
  kMeads,  ///< MEADS across folds of chains in lockstep, ghmc only (sample_cross_chain.hpp)
  /// No tuning: num_warmup transitions of burn-in with the given parameters
  /// (or, without any, step size adaptation.initial_step_size and the
  /// identity metric), for any kernel (sample_gradient_free.hpp).
  kNone,
};

/// Options of `sample` and `resume`, all in one place.
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
  /// NUTS's maximum tree depth (Stan's max_depth, default 10); applied to
  /// any kernel with a `max_num_doublings`, ignored by the others.
  std::optional<int> max_tree_depth;
  /// Dual averaging's target acceptance rate (Stan's adapt_delta, default
  /// 0.8); overrides adaptation.target_acceptance_rate when set.
  std::optional<double> target_acceptance_rate;
  /// The metric to adapt; overrides adaptation.is_mass_matrix_diagonal and
  /// adaptation.adapt_mass_matrix when set.
  std::optional<MetricKind> metric;
  /// The radius r of the random starts: uniform(-r, r) per coordinate,
  /// around the given position or around zero (Stan's default 2, on the
  /// unconstrained scale); dispersed starts are what makes R-hat
  /// meaningful. 0 starts every chain at the given point.
  double init_radius = 2.0;
  /// The model's dimension when known (0: unknown). Checked against every
  /// initial position and every checkpoint; a log density with a
  /// `dimension()` member is checked the same way without it.
  std::size_t dimension = 0;
  /// Names of the dimensions in the summary table (empty: x[0], x[1], ...).
  std::vector<std::string> names;
  /// Keep the vectors of each draw's Info (NUTS's and HMC's momentum). Off
  /// by default: an Info is then a few scalars, where with the momentum it
  /// is as large as the draw itself.
  bool keep_info_vectors = false;
  /// Window adaptation's options (schedule, initial step size, ...).
  adaptation::WindowAdaptationOptions adaptation;
  /// Which warmup tunes the step size and metric. The Fisher warmups need a
  /// kernel with a metric and a gradient in its state (hmc, nuts, ...);
  /// they take `fisher` (low_rank set from this choice) and ignore
  /// `metric`, which must then be unset or kDiagonal.
  Warmup warmup = Warmup::kWindow;
  /// The Fisher warmups' options (schedule, update intervals, low rank).
  adaptation::FisherAdaptationOptions fisher;
  /// Start the chains at multi-path Pathfinder's draws (one path from each
  /// chain's usual start; vi/pathfinder_init.hpp) and start window
  /// adaptation from Pathfinder's diagonal metric (the Fisher warmups start
  /// from 1 / |gradient| whatever the metric; without warmup it is the
  /// sampling metric). Needs a log density with a gradient.
  bool pathfinder_init = false;
  /// When the run's warnings fire (see warnings.hpp).
  WarningThresholds warnings;
  /// How mams::Kernel and mclmc::Kernel are tuned (their own warmups, which
  /// the default Warmup::kWindow selects for them; sample_microcanonical.hpp).
  MicrocanonicalWarmupOptions microcanonical;
  /// Warmup::kChees's options (its initial step size, Adam, jitter, ...).
  adaptation::CheesOptions chees;
  /// Warmup::kMeads's options (folds: num_chains must be a multiple).
  adaptation::MeadsOptions meads;
  /// Keep the warmup draws and their per-draw statistics in
  /// Draws::warmup (CmdStan's save_warmup), every thinning-th one, apart
  /// from the sampling draws: the summary and warnings never see them.
  bool save_warmup = false;
  /// Compute the summary table and the warnings at the end of the run.
  /// false leaves Draws::summary an error and Draws::warnings empty (the
  /// draws are the same): for callers that join blocks and summarise once,
  /// as sample_until_converged does with its blocks (a summary of 256
  /// chains costs more than the run's convergence checks).
  bool summarize = true;
  /// Run only these of the num_chains chains (each keyed and started as in
  /// the whole run, so its draws are bitwise the whole run's); the rows of
  /// Draws are these chains. Unset: every chain. One process's share of a
  /// run spread over several (distributed/executor.hpp).
  std::optional<std::vector<std::size_t>> chains;
  /// With `chains`, how a many-chain warmup (Warmup::kChees, kMeads) meets
  /// the other processes' chains: exchange(this process's reports, its
  /// status) -> every process's reports (adaptation/cross_chain.hpp's
  /// ExchangeCombine). The lockstep warmup then runs only `chains`. Set by
  /// distributed runs (distributed/cross_chain.hpp); unset, a lockstep
  /// warmup runs every chain in this process, `chains` or not.
  std::function<absl::StatusOr<std::vector<adaptation::cross_chain::ChainRecord>>(
      std::vector<adaptation::cross_chain::ChainRecord>, absl::Status)>
      cross_chain_exchange;

  /// `adaptation` with the options above applied.
  adaptation::WindowAdaptationOptions effective_adaptation() const {
    adaptation::WindowAdaptationOptions a = adaptation;
    if (target_acceptance_rate) a.target_acceptance_rate = *target_acceptance_rate;
    if (metric) {
      a.is_mass_matrix_diagonal = *metric != MetricKind::kDense;
      a.adapt_mass_matrix = *metric != MetricKind::kIdentity;
    }
    a.keep_infos = false;  // sample counts what it needs as it goes
    return a;
  }

  /// `fisher` with `warmup` and target_acceptance_rate applied.
  adaptation::FisherAdaptationOptions effective_fisher() const {
    adaptation::FisherAdaptationOptions a = fisher;
    a.low_rank = warmup == Warmup::kFisherLowRank || warmup == Warmup::kFisherAuto;
    a.choose_automatically = warmup == Warmup::kFisherAuto;
    if (target_acceptance_rate) a.target_acceptance_rate = *target_acceptance_rate;
    return a;
  }
};

/// Where the chains start (Stan's and NumPyro's strategies):
///   * `Vec x`: every chain at x plus uniform(-r, r) noise per coordinate
///     (r = SampleOptions::init_radius; 0 starts them all at x);
///   * `std::vector<Vec>`: one position per chain, used as given (their
///     number is the number of chains; they must all have one length);
///   * `InitialPositions::jittered(per_chain)`: the given positions plus
///     uniform(-r, r) noise;
///   * `InitialPositions::uniform(dim)`: uniform(-r, r) on every coordinate;
///   * `InitialPositions::from_function(fn)`: fn(key, chain) -> Vec.
/// A random start whose log density or gradient is not finite is redrawn,
/// up to 100 times, before its chain fails (Stan's rule); a given start is
/// used once.
struct InitialPositions {
  std::vector<Vec> positions;
  bool jitter = false;  ///< add uniform(-r, r) noise to the positions
  /// Draws chain c's start from a key (the strategy `from_function`).
  std::function<Vec(const Key&, std::size_t)> function;
  /// Every chain near `position` (implicit, so a Vec can be passed directly).
  InitialPositions(const Vec& position) : positions{position}, jitter(true) {}
  /// One position per chain, used as given.
  InitialPositions(std::vector<Vec> per_chain) : positions(std::move(per_chain)) {}
  /// One position per chain, each plus uniform(-r, r) noise.
  static InitialPositions jittered(std::vector<Vec> per_chain) {
    InitialPositions p(std::move(per_chain));
    p.jitter = true;
    p.per_chain = true;
    return p;
  }
  /// Uniform(-r, r) on every coordinate of a `dim`-dimensional space.
  static InitialPositions uniform(std::size_t dim) {
    return InitialPositions(Vec(xt::zeros<double>({dim})));
  }
  /// fn(key, chain) for each of SampleOptions::num_chains chains; a start
  /// that is not finite is redrawn with the next key.
  static InitialPositions from_function(std::function<Vec(const Key&, std::size_t)> fn) {
    InitialPositions p(std::vector<Vec>{});
    p.function = std::move(fn);
    return p;
  }
  /// The number of chains these starts give with `options`.
  std::size_t num_chains(const SampleOptions& options) const {
    return (function || (jitter && !per_chain)) ? options.num_chains : positions.size();
  }
  /// True when starts are random (and so redrawn when not finite).
  bool random(double radius) const { return function || (jitter && radius > 0.0); }
  /// Chain c's given (or centre) position.
  const Vec& position(std::size_t c) const { return per_chain || !jitter ? positions[c] : positions[0]; }

  bool per_chain = false;  ///< with `jitter`: one position per chain
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
  /// Quantities derived from each kept state (e.g. a mixed composition's
  /// discrete blocks), [chain, draw, quantity], named by derived_names;
  /// they are also rows of the summary.
  diagnostics::Draws derived;
  std::vector<std::string> derived_names;
  /// A mixed composition's other blocks at each kept draw, [chain][draw]
  /// (empty for other kernels).
  std::vector<std::vector<typename detail::OthersOfState<State>::type>> others;
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
  /// Divergent sampling transitions of the kept rows (computed here, from
  /// the kernel's infos; thinned-out transitions included).
  std::size_t num_divergent = 0;
  /// Log density evaluations that threw std::domain_error or were not
  /// finite, warmup and sampling, over the kept rows: each rejected a
  /// proposal (a NUTS leaf) and the chain went on.
  std::uint64_t num_rejected_evaluations = 0;
  /// Log density evaluations of Pathfinder's initialisation, for the whole
  /// run (0 without SampleOptions::pathfinder_init; not in `accounting`).
  std::uint64_t pathfinder_evaluations = 0;
  /// Per-row accounting: gradient evaluations, divergences, tree-depth
  /// saturations, rejections, adapted step size and metric, times.
  std::vector<ChainAccounting> accounting;
  /// Per-draw scalar statistics (lp, acceptance_rate, ...), [row, draw, stat].
  SampleStats sample_stats;
  /// What looks wrong (R-hat, ESS, divergences, tree depth, E-BFMI, a
  /// stuck chain); also printed under the summary table.
  std::vector<RunWarning> warnings;
  /// A callback stopped the run before num_samples (see `sample`).
  bool stopped = false;
  /// The summary table (R-hat, ESS, quantiles), or why it could not be
  /// computed (e.g. fewer than 4 draws).
  absl::StatusOr<diagnostics::Summary> summary = absl::UnknownError("no summary");

  /// The warmup draws, with SampleOptions::save_warmup (rows as
  /// `chains`; empty otherwise).
  WarmupDraws<Info> warmup;

  /// Chains that succeeded (rows).
  std::size_t num_chains() const { return positions.shape(0); }
  /// Kept draws per chain.
  std::size_t num_draws() const { return positions.shape(1); }
};

}  // namespace nutshell
