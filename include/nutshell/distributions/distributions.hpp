// nutshell::distributions: log densities over double and ad::var (one tape
// node per call, constants dropped on request as Stan's propto) and random
// draws from keys, for the usual families. Names follow Stan
// (`normal_lpdf`, `poisson_log_lpmf`, `beta_rng`, ...); categories are
// 0-based. See checks.hpp for the error convention.
#pragma once

#include "nutshell/distributions/categorical.hpp"
#include "nutshell/distributions/checks.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/continuous_positive.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/distributions/multivariate.hpp"
#include "nutshell/distributions/rng_continuous.hpp"
#include "nutshell/distributions/rng_discrete.hpp"
#include "nutshell/distributions/rng_multivariate.hpp"
#include "nutshell/distributions/vectorise.hpp"

namespace nutshell {
/// Short alias: `dist::normal_lpdf(...)`.
namespace dist = distributions;
}  // namespace nutshell
