// posterior's inner R-hat and ESS of chains taken as given (no splitting,
// no rank normalisation, no validation): the pieces the public diagnostics
// (diagnostics.hpp) are composed of, for callers that build the split,
// rank-normalised chains themselves (the incremental convergence check,
// run/converge_state.hpp) and must get the same bits.
//
// Why a workspace: the convergence check calls these four times per
// parameter per check on arrays that grow from check to check; fresh
// buffers each time were page faults and zero-fills, a fifth of a check.
// The workspace only holds buffers: no call reads what an earlier one left.
#pragma once

#include <cstddef>
#include <vector>

#include "nutshell/diagnostics/diagnostics.hpp"

namespace nutshell::diagnostics {

/// Row-major [chains, draws] doubles, not owned.
struct ChainsView {
  const double* data = nullptr;
  std::size_t chains = 0;
  std::size_t draws = 0;
};

/// Scratch buffers of the functions below, reusable across calls and sizes.
struct Workspace {
  std::vector<double> means, variances, lo, hi, lags, rho;
  std::vector<char> constant;
};

/// posterior's .rhat of `x` as given: NaN for (nearly) constant draws.
/// `x` must be finite with at least 2 draws per chain.
double rhat_unchecked(ChainsView x, Workspace& w);
/// posterior's .ess of `x` as given: NaN for (nearly) constant draws or
/// fewer than 3 draws per chain. `x` must be finite.
double ess_unchecked(ChainsView x, Workspace& w);

/// Both of the same chains, bitwise {rhat_unchecked, ess_unchecked}; the
/// chains' means and variances are computed once for the two.
struct RhatEss {
  double rhat, ess;
};
RhatEss rhat_ess_unchecked(ChainsView x, Workspace& w);

/// The same on an owned array (a workspace of its own).
double rhat_unchecked(const ChainDraws& x);
double ess_unchecked(const ChainDraws& x);

}  // namespace nutshell::diagnostics
