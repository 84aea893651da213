// Small inline-SVG plots for the report: pure functions from numbers to
// markup, no state. Private to lib/io.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace nutshell::io::svg {

/// The colour of chain c (a fixed palette, cycling).
const char* chain_color(std::size_t c);

/// Trace plot: one line per chain (thinned to max_points per chain),
/// divergent draws as red dots on their chain's line.
std::string trace(const std::vector<std::vector<double>>& chains,
                  const std::vector<std::vector<bool>>& divergent, std::size_t max_points,
                  const std::string& label);

/// Rank plot: per chain, the histogram of its draws' ranks among all
/// draws (bins), as a step line; uniform when the chains mix. The dashed
/// line is the uniform expectation.
std::string rank(const std::vector<std::vector<double>>& chains, std::size_t bins, const std::string& label);

/// Energy plot of one chain: histograms of E - mean(E) (marginal) and of
/// E_i - E_{i-1} (transition); E-BFMI in the title.
std::string energy(const std::vector<double>& e, double ebfmi, std::size_t chain);

/// Horizontal bars, one per chain (e.g. the step sizes).
std::string chain_bars(const std::vector<double>& values, const std::string& label);

/// Tree depth (or any small integer) histogram, grouped bars per chain.
std::string integer_histogram(const std::vector<std::vector<double>>& chains, const std::string& label);

/// Escapes &, <, >, " for HTML text and attributes.
std::string escape(const std::string& s);

}  // namespace nutshell::io::svg
