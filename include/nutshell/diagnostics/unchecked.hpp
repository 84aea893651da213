// posterior's inner R-hat and ESS of chains taken as given (no splitting,
// no rank normalisation, no validation): the pieces the public diagnostics
// (diagnostics.hpp) are composed of, for callers that build the split,
// rank-normalised chains themselves (the incremental convergence check,
// run/converge_state.hpp) and must get the same bits.
#pragma once

#include "nutshell/diagnostics/diagnostics.hpp"

namespace nutshell::diagnostics {

/// posterior's .rhat of `x` [chain, draw] as given: NaN for (nearly)
/// constant draws. `x` must be finite with at least 2 draws per chain.
double rhat_unchecked(const ChainDraws& x);

/// posterior's .ess of `x` [chain, draw] as given: NaN for (nearly)
/// constant draws or fewer than 3 draws per chain. `x` must be finite.
double ess_unchecked(const ChainDraws& x);

}  // namespace nutshell::diagnostics
