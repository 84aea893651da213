// The warnings `sample` attaches to its result, as data, with Stan's and
// ArviZ's thresholds: R-hat, ESS, divergences, tree depth, E-BFMI, and a
// chain stuck in a minor mode.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/run/accounting.hpp"

namespace nutshell {

/// One warning: a stable code (for programs) and a sentence (for people).
struct RunWarning {
  /// "rhat", "ess_bulk", "ess_tail", "divergences", "tree_depth", "ebfmi",
  /// "stuck_chain", "rejected_evaluations".
  std::string code;
  std::string message;
};

/// Thresholds of the warnings (Stan's and ArviZ's defaults).
struct WarningThresholds {
  double max_rhat = 1.01;
  /// Bulk and tail ESS below this many per chain warn.
  double min_ess_per_chain = 100.0;
  /// A fraction of sampling transitions at the maximum tree depth above this warns.
  double max_tree_depth_fraction = 0.01;
  double min_ebfmi = 0.3;
  /// A chain whose mean log density is further than this many pooled
  /// within-chain sds of lp from the median of the other chains' means is
  /// reported as stuck. Calibration: for well-mixed chains the difference
  /// of means has sd ~ sqrt(2 / ESS) pooled sds, i.e. 0.14 at ESS 100, so
  /// 0.5 is 3.5 of those; a chain in a mode of weight w against one of
  /// weight W sits log(W / w) lower, which for a 0.8 / 0.2 mixture in one
  /// dimension (lp sd 0.71) is 2 sds.
  double stuck_chain_sds = 0.5;
};

/// Computes the warnings of a run: `summary` of the positions (may be
/// null), `lp` [chain, draw], `stats` the per-draw statistics, and
/// `accounting` one entry per row. `num_sampling_steps` is the sampling
/// transitions per chain (for the tree-depth fraction).
std::vector<RunWarning> run_warnings(const diagnostics::Summary* summary,
                                     const diagnostics::ChainDraws& lp, const SampleStats& stats,
                                     const std::vector<ChainAccounting>& accounting,
                                     std::size_t num_sampling_steps,
                                     const WarningThresholds& thresholds = {});

/// E-BFMI of one chain's energies (Betancourt 2016): the mean squared
/// change of energy between draws over the energy's variance. NaN with
/// fewer than 2 draws or constant energies.
double ebfmi(const double* energy, std::size_t n, std::size_t stride = 1);

/// The warnings as lines under a "Warnings:" header (empty when none).
std::string format_warnings(const std::vector<RunWarning>& warnings);

}  // namespace nutshell
