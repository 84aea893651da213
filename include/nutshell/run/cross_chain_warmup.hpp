// Many-chain warmups: ChEES (jittered HMC) and MEADS (GHMC), all chains in
// lockstep on threads.
//
// Each iteration every chain makes one transition on a pool of threads
// (chain c's iteration-i key is fold_in(chain_keys[c], i), whichever thread
// runs it), reports a cross_chain::ChainStatistics, and the reports are
// combined by `Combine` (cross_chain.hpp: chain order; an all-gather for a
// distributed run) before the adaptation's pure `update` reads them. So the
// result is bitwise the same for any thread count, and a distributed
// combinator needs nothing but its own `Combine`.
//
//   auto r = chees_warmup(kernel, densities, states, chain_keys, jitter_key,
//                         CheesOptions{}, num_steps, num_threads);
//   auto r = meads_warmup(kernel, densities, states, chain_keys, shuffle_key,
//                         MeadsOptions{}, num_steps, num_threads);
//   // r->states: each chain's last state; r->parameters: the sampling parameters
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/chees_adaptation.hpp"
#include "nutshell/adaptation/cross_chain.hpp"
#include "nutshell/adaptation/meads_adaptation.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/run/lockstep_pool.hpp"
#include "nutshell/run/pmap.hpp"

namespace nutshell {

/// What a many-chain warmup returns.
template <class State, class Params>
struct CrossChainWarmupResult {
  std::vector<State> states;               ///< each chain's last warmup state
  Params parameters;                       ///< the sampling parameters (all chains)
  std::vector<std::size_t> num_divergent;  ///< per chain, over the warmup
  std::vector<std::size_t> num_steps;      ///< per chain: transitions made (MEADS freezes some)
};

namespace detail {
/// Runs `step(c)` for every chain on `pool` and returns the first failure
/// in chain order (so the error too is thread-count free). `status` is
/// the caller's scratch (one per chain), reused so that a lockstep
/// iteration allocates nothing.
template <class Step>
absl::Status lockstep(LockstepPool& pool, std::vector<absl::Status>& status, const Step& step,
                      const std::vector<std::size_t>& ids = {}) {
  const std::size_t num_chains = status.size();
  auto task = [&](std::size_t c) {
    try {
      status[c] = step(c);
    } catch (...) {
      status[c] = chain_exception_status(c);
    }
  };
  pool.run(num_chains, task);
  for (std::size_t c = 0; c < num_chains; ++c)
    if (!status[c].ok())
      return absl::Status(status[c].code(),
                          absl::StrCat("cross-chain warmup: chain ", ids.empty() ? c : ids[c], ": ",
                                       status[c].message()));
  return absl::OkStatus();
}

/// The chains' reports combined in chain order into `all`: through the
/// combinator's allocation-free form `combine(span, all) -> Status` when
/// it has one (LocalCombine does), else its gathering form (a copy).
template <class Combine>
absl::Status combine_into(const Combine& combine,
                          const std::vector<adaptation::cross_chain::ChainStatistics>& stats,
                          std::vector<adaptation::cross_chain::ChainStatistics>& all) {
  using adaptation::cross_chain::ChainStatistics;
  if constexpr (requires { combine(std::span<const ChainStatistics>(stats), all); }) {
    return combine(std::span<const ChainStatistics>(stats), all);
  } else {
    absl::StatusOr<std::vector<ChainStatistics>> r;
    if constexpr (requires { combine(stats, absl::OkStatus()); }) r = combine(stats, absl::OkStatus());
    else r = combine(stats);
    if (!r.ok()) return r.status();
    all = *std::move(r);
    return absl::OkStatus();
  }
}

/// Keeps GHMC's persistent momentum whitened across a change of metric:
/// MEADS changes a chain's scale s (inverse mass s^2) at every iteration,
/// and the momentum, N(0, diag(1 / s_old^2)), would otherwise be out of
/// equilibrium under the new one. Works in whitened coordinates, where the
/// momentum is N(0, I) whatever s is (as the paper's Algorithm 3 does):
/// p <- p s_old / s_new; `scale` becomes s_new.
inline void rescale_momentum(Vec& momentum, Vec& scale, const Metric& metric) {
  const Vec& d = metric.inverse_mass_diagonal();
  for (std::size_t i = 0; i < momentum.size(); ++i) {
    const double s_new = std::sqrt(d(i));
    momentum(i) *= scale(i) / s_new;
    scale(i) = s_new;
  }
}

}  // namespace detail

/// The share of a many-chain warmup's chains one call runs (a distributed
/// run's: distributed/cross_chain.hpp). Default: every chain, the states
/// given being chains 0..n-1.
struct LockstepChains {
  std::size_t num_chains = 0;        ///< chains in all, over every process (0: the states given)
  std::vector<std::size_t> chains;   ///< global index of each state given, increasing (empty: 0..n-1)
};

namespace detail {
/// `subset` checked against `m` states, with its defaults filled in.
inline absl::StatusOr<LockstepChains> resolve_chains(const LockstepChains& subset, std::size_t m,
                                                     std::size_t densities, std::size_t keys) {
  LockstepChains out = subset;
  if (out.num_chains == 0) out.num_chains = m;
  if (out.chains.empty() && out.num_chains == m)
    for (std::size_t c = 0; c < m; ++c) out.chains.push_back(c);
  if (out.num_chains < 2)
    return absl::InvalidArgumentError("a cross-chain warmup needs at least 2 chains");
  if (out.chains.size() != m || densities != m || keys != m || m == 0)
    return absl::InvalidArgumentError(absl::StrCat("cross-chain warmup: ", m, " states, ", densities,
                                                   " densities, ", keys, " keys, ",
                                                   out.chains.size(), " chain indices"));
  for (std::size_t j = 0; j < m; ++j)
    if (out.chains[j] >= out.num_chains || (j > 0 && out.chains[j] <= out.chains[j - 1]))
      return absl::InvalidArgumentError("cross-chain warmup: chain indices must increase and be < num_chains");
  return out;
}

/// The reports of every chain, or the failure of any process: a combine
/// that spans processes carries this process's `status` in the same
/// collective (ExchangeCombine); an in-process one needs no agreement.
template <class Combine>
absl::StatusOr<std::vector<adaptation::cross_chain::ChainStatistics>> combine_reports(
    const Combine& combine, const std::vector<adaptation::cross_chain::ChainStatistics>& stats,
    absl::Status status) {
  if constexpr (requires { combine(stats, status); }) {
    return combine(stats, std::move(status));
  } else {
    if (!status.ok()) return status;
    return combine(stats);
  }
}

/// `status` once every process has heard of it (see ExchangeCombine): a
/// process that fails makes this one exchange and leaves; every other one
/// meets the failure at its next exchange, and every warmup ends in one,
/// so none is left waiting.
template <class Combine>
absl::Status agree(const Combine& combine, absl::Status status) {
  if constexpr (requires { combine.agree(status); }) return combine.agree(std::move(status));
  else return status;
}
}  // namespace detail

/// ChEES: `num_steps` lockstep transitions of jittered HMC on every chain
/// (`densities[c]` is chain c's own copy of the log density), tuning the
/// step size, trajectory length and (optionally) a diagonal metric.
template <class F, class Combine = adaptation::cross_chain::LocalCombine>
absl::StatusOr<CrossChainWarmupResult<dynamic_hmc::State, dynamic_hmc::Params>> chees_warmup(
    const dynamic_hmc::Kernel& kernel, std::vector<F>& densities,
    std::vector<dynamic_hmc::State> states, const std::vector<Key>& chain_keys,
    const Key& jitter_key, const adaptation::CheesOptions& options, std::size_t num_steps,
    std::size_t num_threads = 0, const Combine& combine = {}, const LockstepChains& subset = {}) {
  using adaptation::cross_chain::ChainStatistics;
  const std::size_t n = states.size();  // this call's chains (all of them by default)
  auto ids = detail::resolve_chains(subset, n, densities.size(), chain_keys.size());
  if (!ids.ok()) return detail::agree(combine, ids.status());
  if (auto s = options.validate(); !s.ok()) return s;
  dynamic_hmc::Kernel k = kernel;
  k.max_num_steps = options.max_leapfrog_steps;
  const adaptation::Chees chees{options};
  adaptation::CheesState a = chees.init(states[0].position.size());
  // Every chain starts the shared jitter sequence at the same index.
  for (auto& st : states) st.random_generator_arg = a.random_generator_arg;
  std::vector<dynamic_hmc::State> next(n);
  std::vector<dynamic_hmc::Info> infos(n);
  std::vector<dynamic_hmc::Workspace> ws(n);
  std::vector<ChainStatistics> stats(n), all;
  std::vector<absl::Status> status(n);
  detail::LockstepPool pool(num_threads, n);
  dynamic_hmc::Params p;
  std::uint64_t seen_version = ~std::uint64_t{0};
  CrossChainWarmupResult<dynamic_hmc::State, dynamic_hmc::Params> out;
  out.num_divergent.assign(n, 0);
  out.num_steps.assign(n, num_steps);
  for (std::size_t i = 0; i < num_steps; ++i) {
    chees.params_into(a, p, seen_version);
    p.jitter_key = jitter_key;
    auto step = [&](std::size_t c) -> absl::Status {
      auto r = k.step_into(fold_in(chain_keys[c], i), states[c], densities[c], p, next[c],
                           infos[c], ws[c]);
      if (!r.ok()) return r;
      ChainStatistics& st = stats[c];
      st.chain = ids->chains[c];
      ops::copy(states[c].position, st.position);
      if (options.adapt_low_rank) ops::copy(states[c].logdensity_grad, st.logdensity_grad);
      ops::copy(infos[c].proposal_position, st.proposal_position);
      ops::copy(infos[c].proposal_velocity, st.proposal_velocity);
      st.acceptance_rate = infos[c].acceptance_rate;
      st.is_divergent = infos[c].is_divergent;
      return absl::OkStatus();
    };
    if (auto s = detail::lockstep(pool, status, step, ids->chains); !s.ok())
      return detail::agree(combine, s);
    for (std::size_t c = 0; c < n; ++c) out.num_divergent[c] += infos[c].is_divergent ? 1 : 0;
    if (auto s = detail::combine_into(combine, stats, all); !s.ok()) return s;
    a = chees.update(std::move(a), all, jitter_key);
    std::swap(states, next);
  }
  if (auto s = detail::agree(combine, absl::OkStatus()); !s.ok()) return s;
  out.parameters = chees.final(a);
  out.parameters.jitter_key = jitter_key;
  out.states = std::move(states);
  return out;
}

/// MEADS: `num_steps` lockstep iterations of GHMC over folds of chains,
/// tuning each fold's step size, damping and diagonal scale.
template <class Noise, class F, class Combine = adaptation::cross_chain::LocalCombine>
absl::StatusOr<CrossChainWarmupResult<ghmc::State, ghmc::Params>> meads_warmup(
    const ghmc::Kernel<Noise>& kernel, std::vector<F>& densities, std::vector<ghmc::State> states,
    const std::vector<Key>& chain_keys, const Key& shuffle_key,
    const adaptation::MeadsOptions& options, std::size_t num_steps, std::size_t num_threads = 0,
    const Combine& combine = {}, const LockstepChains& subset = {}) {
  using adaptation::cross_chain::ChainStatistics;
  const std::size_t n = states.size();  // this call's chains (all of them by default)
  auto ids = detail::resolve_chains(subset, n, densities.size(), chain_keys.size());
  if (!ids.ok()) return detail::agree(combine, ids.status());
  if (auto s = options.validate(ids->num_chains); !s.ok()) return s;
  const adaptation::Meads meads{options};
  adaptation::MeadsState a = meads.init(ids->num_chains);
  std::vector<ghmc::State> next(n);
  std::vector<ghmc::Info> infos(n);
  std::vector<ghmc::Workspace> ws(n);
  std::vector<ChainStatistics> stats(n), all;
  std::vector<absl::Status> status(n);
  detail::LockstepPool pool(num_threads, n);
  CrossChainWarmupResult<ghmc::State, ghmc::Params> out;
  out.num_divergent.assign(n, 0);
  out.num_steps.assign(n, 0);
  for (std::size_t c = 0; c < n; ++c) {
    stats[c].chain = ids->chains[c];
    stats[c].position = states[c].position;
    stats[c].logdensity_grad = states[c].logdensity_grad;
  }
  // Each chain's momentum scale so far: ghmc::init drew N(0, I).
  std::vector<Vec> scale(n);
  for (std::size_t c = 0; c < n; ++c) scale[c] = xt::ones<double>({states[c].position.size()});
  std::vector<std::uint64_t> version(n, 0);  // the shared metric each momentum is drawn under
  for (std::size_t i = 0; i < num_steps; ++i) {
    if (auto s = detail::combine_into(combine, stats, all); !s.ok()) return s;
    a = meads.update(std::move(a), all, fold_in(shuffle_key, i));
    auto s = detail::lockstep(pool, status, [&](std::size_t c) -> absl::Status {
      ChainStatistics& st = stats[c];
      const std::size_t global = ids->chains[c];  // folds are over global indices
      if (meads.moves(a, global)) {
        const ghmc::Params& p = meads.params_of(a, global);
        if (!a.has_low_rank) {
          detail::rescale_momentum(states[c].momentum, scale[c], p.inverse_mass_matrix);
        } else if (version[c] != a.metric_version) {
          // A new shared metric: a full momentum refresh under it (GHMC
          // with alpha = 1, a valid move), with a key no step uses.
          p.inverse_mass_matrix.sample_momentum(fold_in(chain_keys[c], num_steps + i),
                                                states[c].momentum);
          version[c] = a.metric_version;
        }
        auto r = kernel.step_into(fold_in(chain_keys[c], i), states[c], densities[c], p, next[c],
                                  infos[c], ws[c]);
        if (!r.ok()) return r;
        std::swap(states[c], next[c]);
        st.active = true;
      } else {
        st.active = false;
      }
      ops::copy(states[c].position, st.position);
      ops::copy(states[c].logdensity_grad, st.logdensity_grad);
      return absl::OkStatus();
    }, ids->chains);
    if (!s.ok()) return detail::agree(combine, s);
    for (std::size_t c = 0; c < n; ++c)
      if (stats[c].active) {
        out.num_steps[c] += 1;
        out.num_divergent[c] += infos[c].is_divergent ? 1 : 0;
      }
  }
  if (num_steps == 0) {
    if (auto s = detail::combine_into(combine, stats, all); !s.ok()) return s;
    a = meads.update(std::move(a), all, shuffle_key);
  }
  if (auto s = detail::agree(combine, absl::OkStatus()); !s.ok()) return s;
  out.parameters = meads.final(a);
  for (std::size_t c = 0; c < n; ++c) {
    if (!a.has_low_rank)
      detail::rescale_momentum(states[c].momentum, scale[c], out.parameters.inverse_mass_matrix);
    else if (version[c] != a.metric_version)
      out.parameters.inverse_mass_matrix.sample_momentum(fold_in(chain_keys[c], 2 * num_steps),
                                                          states[c].momentum);
  }
  out.states = std::move(states);
  return out;
}

}  // namespace nutshell
