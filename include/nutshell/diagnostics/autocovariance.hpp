// Autocovariance of a chain at every lag, the building block of effective
// sample sizes.
#pragma once

#include <xtensor/xtensor.hpp>

namespace nutshell::diagnostics {

/// The biased (denominator n, as Geyer 1992 recommends) autocovariance of
/// `x` at lags 0..n-1, as posterior's `autocovariance`: all zeros for a
/// constant sequence. Computed by FFT in O(n log n).
xt::xtensor<double, 1> autocovariance(const xt::xtensor<double, 1>& x);

/// Row-wise autocovariance of `chains` shaped [chain, draw]: the result has
/// the same shape, row c holding the autocovariance of chain c.
xt::xtensor<double, 2> autocovariance(const xt::xtensor<double, 2>& chains);

}  // namespace nutshell::diagnostics
