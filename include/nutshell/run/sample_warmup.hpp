// `sample`'s one dispatch point between its warmups (SampleOptions::warmup):
// window adaptation or nutpie's Fisher adaptation, run on the observed
// kernel so both fill the same accounting; and Pathfinder's starts
// (SampleOptions::pathfinder_init).
//
// Keys. Pathfinder runs once per call, before the chains, with
// split_one(k_0, 4) where k_0 = split_one(k, 0) is chain 0's key: index 4 of
// a chain key is used by nothing else (sample.hpp uses 0 to 3), so the
// default options draw exactly the numbers they drew before.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/adaptation/fisher_adaptation.hpp"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/run/sample_burn_in.hpp"
#include "nutshell/run/sample_init.hpp"
#include "nutshell/run/sample_microcanonical.hpp"
#include "nutshell/run/sample_types.hpp"
#include "nutshell/vi/pathfinder_init.hpp"

namespace nutshell::detail {

/// What either warmup hands to sampling.
template <class State, class Params>
struct WarmupResult {
  State state;        ///< the last warmup state
  Params parameters;  ///< the tuned step size and metric
};

/// Runs the warmup options.warmup names, options.num_warmup transitions of
/// `kernel` from `init` with key `key`, from the untuned parameters `base`
/// (window adaptation starts from base's metric when it has one).
template <class K, class CF>
auto run_warmup(const K& kernel, CF& f, const SampleOptions& options,
                typename adaptation::KernelTypes<K, CF>::Params base, const Key& key,
                typename adaptation::KernelTypes<K, CF>::State init)
    -> absl::StatusOr<WarmupResult<typename adaptation::KernelTypes<K, CF>::State,
                                   typename adaptation::KernelTypes<K, CF>::Params>> {
  if constexpr (has_microcanonical_warmup_v<K>) {  // MAMS, MCLMC: their own tuning
    auto r = run_microcanonical_warmup(kernel, f, options, key, std::move(init));
    if (!r.ok()) return r.status();
    return WarmupResult{std::move(r->first), std::move(r->second)};
  }
  if (options.warmup == Warmup::kWindow) {
    auto r = adaptation::window_adaptation(kernel, f, options.effective_adaptation(),
                                           std::move(base))
                 .run_from(key, std::move(init), options.num_warmup);
    if (!r.ok()) return r.status();
    return WarmupResult{std::move(r->state), std::move(r->parameters)};
  }
  if (options.warmup == Warmup::kNone) {  // burn-in with the untuned parameters
    base.step_size = options.adaptation.initial_step_size;
    if constexpr (adaptation::has_metric_v<decltype(base)>)
      if (base.inverse_mass_matrix.dim() == 0)
        base.inverse_mass_matrix = Metric::identity(init.position.size());
    if (auto s = burn_in(kernel, f, base, key, init, options.num_warmup); !s.ok()) return s;
    return WarmupResult{std::move(init), std::move(base)};
  }
  if constexpr (adaptation::FisherAdaptableKernel<K, CF>) {
    auto r = adaptation::fisher_adaptation(kernel, f, options.effective_fisher(), std::move(base))
                 .run_from(key, std::move(init), options.num_warmup);
    if (!r.ok()) return r.status();
    return WarmupResult{std::move(r->state), std::move(r->parameters)};
  } else {
    return absl::InvalidArgumentError(
        "the Fisher warmups need a kernel with a metric and a gradient in its state (hmc, nuts, "
        "...): use Warmup::kWindow with this kernel");
  }
}

/// Pathfinder's starts and metric for a `sample` call (empty when
/// options.pathfinder_init is off): one path from each chain's usual start
/// (jitter included), `num_chains` resampled draws as the new starts.
template <class K, class G, class InitFn>
absl::StatusOr<vi::PathfinderInit> pathfinder_starts(const Key& key, const K& kernel, G& g,
                                                     const InitialPositions& initial,
                                                     const SampleOptions& options,
                                                     std::size_t num_chains,
                                                     const InitFn& init_fn) {
  if (!options.pathfinder_init) return vi::PathfinderInit{};
  if constexpr (LogDensity<G>) {
    std::vector<Vec> starts;
    for (std::size_t c = 0; c < num_chains; ++c) {
      std::size_t redraws = 0;
      auto s = initial_state(kernel, g, initial, options, c, split_one(key, c), redraws, init_fn);
      if (!s.ok()) return s.status();
      starts.push_back(s->position);
    }
    vi::PathfinderInitOptions po;
    po.multipath.num_draws = std::max<std::size_t>(po.multipath.num_draws, num_chains);
    return vi::pathfinder_init(split_one(split_one(key, 0), 4), g, starts, num_chains, po);
  } else {
    return absl::InvalidArgumentError(
        "pathfinder_init needs a log density with a gradient (LogDensity)");
  }
}

}  // namespace nutshell::detail
