// The one adapter from `sample`'s result (Draws<State, Params, Info>) to
// io::RunData. It reads Draws by member detection (Info's stats, Params'
// step size and metric, optional timing and warmup members), so it keeps
// working as Draws grows.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/io/info_stats.hpp"
#include "nutshell/io/run_data.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell::io {

/// Maps an unconstrained draw (what the sampler moved) to the constrained
/// parameter values (flat, row-major per parameter), e.g. log_tau -> tau.
using Constrain = std::function<void(std::span<const double> unconstrained, std::span<double> out)>;

/// What Draws does not know about the model.
struct RunInfo {
  std::string model_name = "model";
  /// The parameters, constrained; empty: one vector `x` over the sampled
  /// dimensions (or the scalars named by SampleOptions::names, if passed
  /// as `names`).
  std::vector<Parameter> parameters;
  /// Used when `parameters` is empty: one scalar per name.
  std::vector<std::string> names;
  /// Unconstrained -> constrained; empty: the identity (then the
  /// parameters' total size must be the sampled dimension).
  Constrain constrain;
  std::uint64_t seed = 0;
  std::size_t num_warmup = 0;
  std::size_t num_samples = 0;
  std::size_t thin = 1;
  /// Stan's engine name; empty: guessed from Info (nuts, static, or the
  /// word "unknown").
  std::string engine;
  /// Per-chain seconds, when the caller timed the run (Draws may time it
  /// itself; then those are used).
  std::vector<double> warmup_seconds, sampling_seconds;
};

namespace detail {
template <class D>
std::vector<double> draws_seconds(const D& d, bool warmup) {
  if constexpr (requires { d.timing[0].warmup_seconds; d.timing[0].sampling_seconds; }) {
    std::vector<double> out;
    for (const auto& t : d.timing) out.push_back(warmup ? t.warmup_seconds : t.sampling_seconds);
    return out;
  } else {
    return {};
  }
}
}  // namespace detail

/// Builds a RunData from `sample`'s result: constrained draws, lp and the
/// stats Info carries (step_size from each chain's Params when Info lacks
/// it), each chain's step size and inverse metric, chain ids (1-based).
template <class State, class Params, class Info>
absl::StatusOr<RunData> from_draws(const Draws<State, Params, Info>& d, const RunInfo& info = {}) {
  RunData run;
  run.model_name = info.model_name;
  run.seed = info.seed;
  run.num_warmup = info.num_warmup;
  run.num_samples = info.num_samples;
  run.thin = info.thin;
  run.engine = !info.engine.empty() ? info.engine
               : !guess_engine<Info>().empty() ? guess_engine<Info>() : "unknown";
  const std::size_t m = d.num_chains(), n = d.num_draws(), dim = d.positions.shape(2);
  run.parameters = !info.parameters.empty() ? info.parameters : scalar_parameters(dim, info.names);
  const std::size_t out_dim = run.flat_size();
  if (!info.constrain && out_dim != dim)
    return absl::InvalidArgumentError("the parameters' size differs from the sampled dimension and no constrain function is given");
  run.draws = xt::xtensor<double, 3>::from_shape({m, n, out_dim});
  std::vector<double> u(dim);
  for (std::size_t c = 0; c < m; ++c)
    for (std::size_t i = 0; i < n; ++i) {
      if (info.constrain) {
        for (std::size_t j = 0; j < dim; ++j) u[j] = d.positions(c, i, j);
        info.constrain(std::span<const double>(u), std::span<double>(&run.draws(c, i, 0), out_dim));
      } else {
        for (std::size_t j = 0; j < dim; ++j) run.draws(c, i, j) = d.positions(c, i, j);
      }
    }
  // Stats: lp from Draws::logdensity, the rest from Info.
  const auto names = info_stat_names<State, Info>();
  std::vector<double> row(names.size());
  for (const auto& name : names)
    run.stats.push_back(SampleStat{name, xt::xtensor<double, 2>::from_shape({m, n})});
  for (std::size_t c = 0; c < m; ++c)
    for (std::size_t i = 0; i < n; ++i) {
      State s{};
      if constexpr (requires { s.logdensity; }) s.logdensity = d.logdensity(c, i);
      info_stat_values<State, Info>(s, d.infos[c][i], row.data());
      for (std::size_t k = 0; k < names.size(); ++k) run.stats[k].values(c, i) = row[k];
    }
  if constexpr (requires(const Params& p) { double(p.step_size); }) {
    if (!run.stat("step_size")) {
      SampleStat s{"step_size", xt::xtensor<double, 2>::from_shape({m, n})};
      for (std::size_t c = 0; c < m; ++c)
        for (std::size_t i = 0; i < n; ++i) s.values(c, i) = d.params[c].step_size;
      // CmdStan's order: after acceptance_rate (or lp).
      std::size_t at = 0;
      while (at < run.stats.size() && (run.stats[at].name == "lp" || run.stats[at].name == "acceptance_rate")) ++at;
      run.stats.insert(run.stats.begin() + static_cast<std::ptrdiff_t>(at), std::move(s));
    }
  }
  // The warmup draws (SampleOptions::save_warmup), with the same stats:
  // Draws::warmup's per-draw statistics (step_size as each warmup
  // transition used it), the others from the warmup infos.
  if (const std::size_t nw = d.warmup.num_draws(); nw > 0 && d.warmup.positions.shape(0) == m) {
    run.warmup_draws = xt::xtensor<double, 3>::from_shape({m, nw, out_dim});
    for (std::size_t c = 0; c < m; ++c)
      for (std::size_t i = 0; i < nw; ++i) {
        for (std::size_t j = 0; j < dim; ++j) u[j] = d.warmup.positions(c, i, j);
        if (info.constrain)
          info.constrain(std::span<const double>(u),
                         std::span<double>(&run.warmup_draws(c, i, 0), out_dim));
        else
          for (std::size_t j = 0; j < dim; ++j) run.warmup_draws(c, i, j) = u[j];
      }
    for (const auto& st : run.stats)
      run.warmup_stats.push_back(SampleStat{st.name, xt::xtensor<double, 2>::from_shape({m, nw})});
    for (std::size_t c = 0; c < m; ++c)
      for (std::size_t i = 0; i < nw; ++i) {
        State s{};
        if constexpr (requires { s.logdensity; }) s.logdensity = d.warmup.logdensity(c, i);
        info_stat_values<State, Info>(s, d.warmup.infos[c][i], row.data());
        for (auto& w : run.warmup_stats) {
          const long at = d.warmup.sample_stats.index(w.name);
          double v = std::numeric_limits<double>::quiet_NaN();
          if (at >= 0)
            v = d.warmup.sample_stats.values(c, i, static_cast<std::size_t>(at));
          else
            for (std::size_t k = 0; k < names.size(); ++k)
              if (names[k] == w.name) v = row[k];
          w.values(c, i) = v;
        }
      }
  }
  for (std::size_t c = 0; c < m; ++c) {
    ChainAdaptation a;
    if constexpr (requires(const Params& p) { double(p.step_size); }) a.step_size = d.params[c].step_size;
    if constexpr (requires(const Params& p) { p.inverse_mass_matrix.kind(); }) {
      const auto& metric = d.params[c].inverse_mass_matrix;
      const auto& diag = metric.inverse_mass_diagonal();
      a.inverse_metric_diagonal.assign(diag.begin(), diag.end());
      if (metric.kind() == Metric::Kind::kDense) {
        const auto& mm = metric.inverse_mass_matrix();
        a.inverse_metric_dense.assign(mm.begin(), mm.end());
      }
    }
    run.adaptation.push_back(std::move(a));
    run.chain_ids.push_back(static_cast<std::uint64_t>(d.chains[c]) + 1);
  }
  run.warmup_seconds = info.warmup_seconds;
  run.sampling_seconds = info.sampling_seconds;
  if (auto w = detail::draws_seconds(d, true); w.size() == m) run.warmup_seconds = w;
  if (auto s = detail::draws_seconds(d, false); s.size() == m) run.sampling_seconds = s;
  if (auto s = validate(run); !s.ok()) return s;
  return run;
}

}  // namespace nutshell::io
