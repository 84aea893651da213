// The diagnostics report: one self-contained HTML page (inline SVG and CSS,
// no external script, font or request) with the warnings, the summary
// table, a trace plot and a rank plot of every scalar (all chains,
// divergent transitions marked in red), an energy plot with E-BFMI per
// chain, and step size and tree depth per chain. Each scalar sits in a
// <details> block: the first ReportOptions::open_scalars are open, the
// others collapsed to one summary line, so a 100-dimensional model gives
// a page that reads top to bottom.
//
// Written from RunData, so from a run (io::from_draws) or from Stan CSV
// files (io::read_stan_csv), CmdStan's included.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/io/run_data.hpp"

namespace nutshell::io {

/// What the report shows.
struct ReportOptions {
  std::string title;              ///< empty: "<model name>: MCMC diagnostics"
  std::size_t open_scalars = 12;  ///< scalars whose plots are open at first
  std::size_t max_trace_points = 500;  ///< per chain; longer chains are thinned in the plot only
  std::size_t rank_bins = 20;
  /// Warning thresholds (posterior's and Stan's recommendations).
  double max_rhat = 1.01;
  double min_ess_per_chain = 100.0;
  double min_ebfmi = 0.3;
  std::size_t max_tree_depth = 10;  ///< a draw at this depth hit the limit
};

/// The checks the report lists at its top, as plain sentences.
std::vector<std::string> report_warnings(const RunData& run, const ReportOptions& options = {});

/// E-BFMI of each chain (NaN without an `energy` stat):
/// sum (E_i - E_{i-1})^2 / sum (E_i - mean E)^2.
std::vector<double> ebfmi(const RunData& run);

/// The number of <svg> plots the report of `run` holds: trace and rank
/// per scalar, one energy plot per chain (when energy is known), the
/// step-size and the tree-depth plots (when known).
std::size_t report_plot_count(const RunData& run);

/// The page as a string.
absl::StatusOr<std::string> render_report(const RunData& run, const ReportOptions& options = {});

/// Writes the page to `path` atomically (`path.tmp`, then renamed).
absl::Status write_report(const RunData& run, const std::string& path, const ReportOptions& options = {});

}  // namespace nutshell::io
