// The transformations of [chain, draw] draws that rank-normalised R-hat and
// ESS (Vehtari et al. 2021) are built from, as in R's `posterior`. Inputs
// are assumed finite (the diagnostics validate before calling these).
#pragma once

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

/// Folds draws around their median, |x - median(x)|, so that R-hat of the
/// result detects chains that differ in scale (tail R-hat).
xt::xtensor<double, 2> fold_draws(const xt::xtensor<double, 2>& x);

}  // namespace nutshell::diagnostics
