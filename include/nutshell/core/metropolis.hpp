// The Metropolis-Hastings accept/reject step, shared by the kernels whose
// correction is a plain MH test on a log acceptance ratio (mala, barker,
// rmh, and irmh through rmh).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "nutshell/core/key.hpp"

namespace nutshell {

/// The MH test of a proposal with log acceptance ratio `log_ratio`, its
/// uniform drawn from `key`: records min(1, exp(log_ratio)) as
/// `info.acceptance_rate` (the adaptation statistic) and the decision as
/// `info.is_accepted`, and returns the decision. A proposal that must not be
/// taken (a non-finite one) is passed as -inf; a NaN ratio (inf - inf, say)
/// is rejected the same way, because a ratio that cannot be computed must
/// never let its proposal into the chain.
template <class Info>
bool metropolis_accept(const Key& key, double log_ratio, Info& info) {
  if (std::isnan(log_ratio)) log_ratio = -std::numeric_limits<double>::infinity();
  info.acceptance_rate = std::min(1.0, std::exp(log_ratio));
  // uniform() is in (0, 1), so a rate of 0 never accepts.
  info.is_accepted = uniform(key) < info.acceptance_rate;
  return info.is_accepted;
}

}  // namespace nutshell
