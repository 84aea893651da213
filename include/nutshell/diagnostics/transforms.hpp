// The transformations of [chain, draw] draws that rank-normalised R-hat and
// ESS (Vehtari et al. 2021) are built from, as in R's `posterior`. Inputs
// are assumed finite (the diagnostics validate before calling these).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace nutshell::diagnostics {

/// Splits every chain in two halves so that within-chain trends show up as
/// between-chain differences: [C, N] -> [2C, floor(N/2)], the first halves
/// of all chains then the second halves. The middle draw of an odd-length
/// chain is dropped. A single draw is returned unchanged.
xt::xtensor<double, 2> split_chains(const xt::xtensor<double, 2>& x);

/// Rank normalisation (posterior's `z_scale`): each draw replaced by
/// Phi^-1((r - 3/8) / (S - 3/4 + 1)) where r is its rank among all S draws,
/// ties getting their average rank. Makes R-hat and ESS well defined for
/// heavy tails and invariant to monotone transformations.
xt::xtensor<double, 2> z_scale(const xt::xtensor<double, 2>& x);

/// The positions of `v` (finite) in ascending order of value, ties in
/// position order; -0.0 ties with +0.0.
std::vector<std::size_t> argsort(std::span<const double> v);

/// Rank normalisation from draws already sorted: `sorted` ascending (ties
/// adjacent), `dest[i]` the flat index in `out` of the draw with value
/// `sorted[i]`. Writes exactly z_scale's values (ranks are positions in
/// `sorted`, so the draws ranked are exactly those given); lets a caller
/// that keeps its draws sorted skip the sort. `scores_of_ranks`, if it has
/// one entry per draw, must be rank_normal_score(r, sorted.size()) for
/// r = 1, 2, ... (a table shared by threads); otherwise a per-thread table
/// is used.
void z_scale_sorted(std::span<const double> sorted, std::span<const std::size_t> dest,
                    double* out, std::span<const double> scores_of_ranks = {});

/// The rank-normal score of an untied rank r (1-based) among s draws,
/// Phi^-1((r - 3/8) / (s + 1/4)): the value z_scale gives it.
double rank_normal_score(std::size_t r, std::size_t s);

/// Folds draws around their median, |x - median(x)|, so that R-hat of the
/// result detects chains that differ in scale (tail R-hat).
xt::xtensor<double, 2> fold_draws(const xt::xtensor<double, 2>& x);

}  // namespace nutshell::diagnostics
