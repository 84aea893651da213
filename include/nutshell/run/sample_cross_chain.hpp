// `sample`'s many-chain warmups (SampleOptions::warmup = Warmup::kChees
// with the dynamic_hmc kernel, Warmup::kMeads with ghmc): all chains adapt
// in lockstep (run/cross_chain_warmup.hpp) BEFORE the per-chain sampling,
// unlike the per-chain warmups, which run inside each chain's task.
//
// Keys. Chain c's start is made exactly as for the other warmups (from
// k_c = split_one(k, c)); its warmup transitions use split_one(k_c, 0)
// (step i: fold_in(that, i)); the shared keys come from chain 0's key
// k_0: MEADS's fold shuffles split_one(k_0, 5), ChEES's uniform jitter
// split_one(k_0, 6) (index 4 is Pathfinder's, 0 to 3 sample.hpp's). The
// sampling keys are unchanged, so sampling continues as after any warmup.
//
// Not seen by a step callback or the progress bar: the warmup transitions
// are not one chain's.
//
// Across processes (SampleOptions::cross_chain_exchange with `chains`, set
// by distributed::sample): each process starts and steps only its chains
// and the reports meet in the one combine (ExchangeCombine), so the tuned
// parameters and every chain's state are bitwise a single process's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/checkpoint.hpp"
#include "nutshell/run/cross_chain_warmup.hpp"
#include "nutshell/run/sample_init.hpp"
#include "nutshell/run/sample_types.hpp"
#include "nutshell/vi/pathfinder_init.hpp"

namespace nutshell::detail {

template <class K>
inline constexpr bool is_ghmc_kernel_v = false;
template <class Noise>
inline constexpr bool is_ghmc_kernel_v<ghmc::Kernel<Noise>> = true;

/// A many-chain warmup's outcome for `sample`: empty when options.warmup
/// is a per-chain warmup.
template <class State, class Params>
struct SampleCrossChain {
  std::optional<CrossChainWarmupResult<State, Params>> result;
  std::vector<std::uint64_t> evaluations;  ///< per chain, warmup transitions only
  std::vector<std::uint64_t> rejected;     ///< per chain, warmup transitions only
  double wall_seconds = 0.0;               ///< the whole lockstep warmup

  /// True when the chains start sampling from a many-chain warmup.
  bool active() const { return result.has_value(); }

  std::vector<std::size_t> chains;         ///< the global chain of each row above

  /// Hands chain c's warmup to its sampling start and accounting.
  template <class Start>
  void take(std::size_t c, Start& start, ChainAccounting& acc) const {
    const std::size_t j = static_cast<std::size_t>(
        std::lower_bound(chains.begin(), chains.end(), c) - chains.begin());
    start.state = result->states[j];
    start.params = result->parameters;
    acc.gradient_evaluations_warmup = evaluations[j];
    acc.num_divergent_warmup = result->num_divergent[j];
    acc.num_rejected_evaluations_warmup = rejected[j];
    acc.warmup_wall_seconds = wall_seconds;
  }
};

/// Runs the many-chain warmup options.warmup names (nothing for the
/// per-chain ones): starts as `sample` makes them (or Pathfinder's), then
/// options.num_warmup lockstep iterations on options.num_threads threads.
template <class K, class G, class InitFn>
auto cross_chain_warmup_for_sample(const Key& key, const K& kernel, const G& g,
                                   const InitialPositions& initial, const SampleOptions& options,
                                   std::size_t num_chains, const InitFn& init_fn,
                                   const vi::PathfinderInit& pathfinder)
    -> absl::StatusOr<SampleCrossChain<typename adaptation::KernelTypes<K, CountingDensity<G>>::State,
                                       typename adaptation::KernelTypes<K, CountingDensity<G>>::Params>> {
  using CF = CountingDensity<G>;
  using State = typename adaptation::KernelTypes<K, CF>::State;
  using Params = typename adaptation::KernelTypes<K, CF>::Params;
  SampleCrossChain<State, Params> out;
  if (options.warmup != Warmup::kChees && options.warmup != Warmup::kMeads) return out;
  constexpr bool chees = std::is_same_v<K, dynamic_hmc::Kernel>;
  constexpr bool meads = is_ghmc_kernel_v<K>;
  if (options.warmup == Warmup::kChees && !chees)
    return absl::InvalidArgumentError("Warmup::kChees tunes the dynamic_hmc kernel: pass dynamic_hmc::Kernel{}");
  if (options.warmup == Warmup::kMeads && !meads)
    return absl::InvalidArgumentError("Warmup::kMeads tunes the ghmc kernel: pass ghmc::build_kernel()");
  if constexpr (chees || meads) {
    // A distributed run's share (SampleOptions::cross_chain_exchange with
    // `chains`); otherwise every chain, whatever `chains` says, since the
    // lockstep needs them all.
    const bool shared = options.chains && options.cross_chain_exchange;
    LockstepChains subset;
    subset.num_chains = num_chains;
    if (shared) {
      subset.chains = *options.chains;
      std::sort(subset.chains.begin(), subset.chains.end());
    } else {
      for (std::size_t c = 0; c < num_chains; ++c) subset.chains.push_back(c);
    }
    const std::size_t m = subset.chains.size();
    const adaptation::cross_chain::ExchangeCombine<decltype(options.cross_chain_exchange)> exchange{
        options.cross_chain_exchange};
    std::vector<EvalCounters> counters(m);
    std::vector<CF> fs;
    fs.reserve(m);
    for (std::size_t j = 0; j < m; ++j) fs.push_back(CF{g, &counters[j]});
    std::vector<State> states;
    std::vector<Key> keys;
    absl::Status started;
    for (std::size_t j = 0; j < m && started.ok(); ++j) {
      const std::size_t c = subset.chains[j];
      const Key kc = split_one(key, c);
      std::size_t redraws = 0;
      auto s = pathfinder.positions.empty()
                   ? initial_state(kernel, fs[j], initial, options, c, kc, redraws, init_fn)
                   : absl::StatusOr<State>(init_fn(kernel, fs[j], pathfinder.positions[c], c, kc));
      if (!s.ok()) {
        started = s.status();
        break;
      }
      states.push_back(*std::move(s));
      keys.push_back(split_one(kc, 0));
    }
    // The other processes wait in the warmup's first exchange: tell them.
    if (!started.ok()) return shared ? agree(exchange, started) : started;
    const std::vector<EvalCounters> after_init = counters;
    const Key k0 = split_one(key, 0);
    PhaseClock clock;
    absl::StatusOr<CrossChainWarmupResult<State, Params>> r;
    auto run = [&](const auto& combine) {
      if constexpr (chees) {
        adaptation::CheesOptions o = options.chees;
        if (options.target_acceptance_rate) o.target_acceptance_rate = *options.target_acceptance_rate;
        r = chees_warmup(kernel, fs, std::move(states), keys, split_one(k0, 6), o,
                         options.num_warmup, options.num_threads, combine, subset);
      } else {
        r = meads_warmup(kernel, fs, std::move(states), keys, split_one(k0, 5), options.meads,
                         options.num_warmup, options.num_threads, combine, subset);
      }
    };
    if (shared) run(exchange);
    else run(adaptation::cross_chain::LocalCombine{});
    out.wall_seconds = clock.wall_seconds();
    if (!r.ok()) return r.status();
    out.result = *std::move(r);
    out.chains = subset.chains;
    for (std::size_t j = 0; j < m; ++j) {
      out.evaluations.push_back(counters[j].evaluations - after_init[j].evaluations);
      out.rejected.push_back(counters[j].rejected - after_init[j].rejected);
    }
  }
  return out;
}

}  // namespace nutshell::detail
