// Everything in nutshell, for users who would rather not pick headers.
// Each module can also be included (and depended on in Bazel) on its own:
// see ARCHITECTURE.md for the map.
#pragma once

#include "nutshell/core/algorithm.hpp"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/metropolis.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/core/validation.hpp"
#include "nutshell/core/vector_ops.hpp"

#include "nutshell/mcmc/barker.hpp"
#include "nutshell/mcmc/elliptical_slice.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/irmh.hpp"
#include "nutshell/mcmc/mala.hpp"
#include "nutshell/mcmc/mclmc.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/mcmc/nuts_tree.hpp"
#include "nutshell/mcmc/nuts_workspace.hpp"
#include "nutshell/mcmc/rmh.hpp"
#include "nutshell/mcmc/slice.hpp"

#include "nutshell/sgmcmc/gradient_estimator.hpp"
#include "nutshell/sgmcmc/sghmc.hpp"
#include "nutshell/sgmcmc/sgld.hpp"

#include "nutshell/compose/blocks.hpp"
#include "nutshell/compose/mixed.hpp"

#include "nutshell/adaptation/dual_averaging.hpp"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/adaptation/mass_matrix.hpp"
#include "nutshell/adaptation/mclmc_tuning.hpp"
#include "nutshell/adaptation/schedule.hpp"
#include "nutshell/adaptation/step_size.hpp"
#include "nutshell/adaptation/welford.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/adaptation/windowed.hpp"

#include "nutshell/run/callbacks.hpp"
#include "nutshell/run/checkpoint.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/progress.hpp"
#include "nutshell/run/resume.hpp"
#include "nutshell/run/run_chain.hpp"
#include "nutshell/run/sample.hpp"
#include "nutshell/run/sample_types.hpp"
#include "nutshell/run/scan.hpp"

#include "nutshell/diagnostics/autocovariance.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/diagnostics/moments.hpp"
#include "nutshell/diagnostics/quantile.hpp"
#include "nutshell/diagnostics/special_functions.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/diagnostics/transforms.hpp"


#include "nutshell/ad/ad.hpp"

#include "nutshell/distributions/distributions.hpp"
#include "nutshell/constraints/constraints.hpp"
#include "nutshell/model/layout.hpp"
#include "nutshell/model/param.hpp"
#include "nutshell/model/reader.hpp"
#include "nutshell/model/make_model.hpp"
