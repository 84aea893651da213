// SampleOptions::save_warmup (CmdStan's save_warmup=1): the warmup draws
// and their per-draw statistics, kept apart from the sampling draws (the
// summary and warnings never see them), every thinning-th warmup
// transition as CmdStan keeps them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "nutshell/core/types.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/run_chain.hpp"

namespace nutshell {

/// What `sample` keeps of the warmup with SampleOptions::save_warmup
/// (Draws::warmup; empty arrays otherwise).
template <class Info>
struct WarmupDraws {
  /// Kept warmup positions, [chain, draw, dimension] (rows as Draws::chains).
  diagnostics::Draws positions;
  /// Log density of each kept warmup draw, [chain, draw].
  diagnostics::ChainDraws logdensity;
  /// Their infos (scalars only unless keep_info_vectors), [chain][draw].
  std::vector<std::vector<Info>> infos;
  /// Per-draw statistics with Draws::sample_stats' names; step_size is the
  /// step size each warmup transition used (it changes as it adapts).
  SampleStats sample_stats;
  /// Kept warmup draws per chain.
  std::size_t num_draws() const { return positions.dimension() == 3 ? positions.shape(1) : 0; }
};

namespace detail {

/// The log density a state caches, as Draws::logdensity keeps it: the
/// log-likelihood for elliptical slice (its state caches nothing else),
/// NaN for the stochastic-gradient kernels (they never evaluate it).
template <class State>
double state_logdensity(const State& s) {
  if constexpr (requires { s.logdensity; })
    return static_cast<double>(s.logdensity);
  else if constexpr (requires { s.loglikelihood; })
    return static_cast<double>(s.loglikelihood);
  else
    return std::numeric_limits<double>::quiet_NaN();
}

/// One chain's warmup as it runs: filled by the observed kernel after each
/// warmup transition (ObservedKernel::Hooks::record).
template <class Info>
struct WarmupRecorder {
  std::size_t thinning = 1;
  std::size_t capacity = 0;  ///< rows kept at most (num_warmup / thinning)
  std::uint64_t seen = 0;
  std::size_t dim = 0;
  std::vector<double> positions;  ///< row-major [draw, dim]
  std::vector<double> logdensity, step_size;
  std::vector<Info> infos;
  bool keep_info_vectors = false;

  /// Sized for SampleOptions `o` (thinning, num_warmup, keep_info_vectors).
  template <class Options>
  void start(const Options& o) {
    thinning = o.thinning;
    capacity = o.num_warmup / o.thinning;
    keep_info_vectors = o.keep_info_vectors;
  }

  /// Notes a warmup transition that ended in `state` with `info`, run with
  /// step size `step_size` (NaN for a kernel without one).
  template <class State>
  void push(const State& state, const Info& info, double h) {
    if (++seen % thinning != 0 || infos.size() >= capacity) return;
    if (infos.empty()) {
      dim = state.position.size();
      positions.reserve(capacity * dim);
      logdensity.reserve(capacity);
      step_size.reserve(capacity);
      infos.reserve(capacity);
    }
    if (state.position.size() != dim) return;
    positions.insert(positions.end(), state.position.begin(), state.position.end());
    logdensity.push_back(state_logdensity(state));
    step_size.push_back(h);
    infos.push_back(info);
    if (!keep_info_vectors) strip_info_vectors(infos.back());
  }
};

/// The step size a warmup transition ran with, or NaN.
template <class Params>
double params_step_size(const Params& p) {
  if constexpr (requires { static_cast<double>(p.step_size); })
    return static_cast<double>(p.step_size);
  else
    return std::numeric_limits<double>::quiet_NaN();
}

/// Assembles the chains' recorders (`rows` of them, in Draws order) into
/// `out`, each cut to the shortest.
template <class Info>
void assemble_warmup(std::vector<WarmupRecorder<Info>*> rows, WarmupDraws<Info>& out) {
  const std::size_t m = rows.size();
  std::size_t n = rows.empty() ? 0 : rows[0]->infos.size();
  std::size_t dim = rows.empty() ? 0 : rows[0]->dim;
  for (auto* r : rows) {
    n = std::min(n, r->infos.size());
    if (r->dim != dim) n = 0;
  }
  out.positions = diagnostics::Draws::from_shape({m, n, dim});
  out.logdensity = diagnostics::ChainDraws::from_shape({m, n});
  out.sample_stats.names = stat_names<Info>();
  const std::size_t k = out.sample_stats.names.size();
  out.sample_stats.values = xt::xtensor<double, 3>::from_shape({m, n, k});
  out.infos.clear();
  for (std::size_t c = 0; c < m; ++c) {
    auto& r = *rows[c];
    for (std::size_t i = 0; i < n; ++i) {
      std::copy(r.positions.begin() + static_cast<std::ptrdiff_t>(i * dim),
                r.positions.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim),
                &out.positions(c, i, 0));
      out.logdensity(c, i) = r.logdensity[i];
      write_stats(r.infos[i], r.logdensity[i], r.step_size[i], &out.sample_stats.values(c, i, 0));
    }
    r.infos.resize(n);
    out.infos.push_back(std::move(r.infos));
  }
}

}  // namespace detail
}  // namespace nutshell
