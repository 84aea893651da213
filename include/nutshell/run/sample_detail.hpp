// The parts `sample` and `resume` share: sampling from a checkpoint and the
// assembly of per-chain outcomes into Draws. How chains start is in
// sample_init.hpp; the observed kernel (progress, callback and counting
// around any kernel) in warmup_observer.hpp.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/callbacks.hpp"
#include "nutshell/run/checkpoint.hpp"
#include "nutshell/run/progress.hpp"
#include "nutshell/run/run_chain.hpp"
#include "nutshell/run/sample_init.hpp"
#include "nutshell/run/sample_types.hpp"
#include "nutshell/run/warnings.hpp"
#include "nutshell/run/warmup_observer.hpp"
#include "nutshell/run/warmup_record.hpp"

namespace nutshell::detail {

template <class State>
using OthersOf = OthersOfState<State>;

/// What else to keep per draw: quantities derived from the state (e.g. a
/// mixed composition's discrete blocks as numbers), with their names.
template <class State>
struct Extras {
  std::function<Vec(const State&)> derive;
  std::vector<std::string> names;
};

template <class State, class Params, class Info>
struct ChainOutcome {
  checkpoint::ChainCheckpoint<State, Params> start;  ///< where sampling started
  checkpoint::ChainCheckpoint<State, Params> end;    ///< where it ended
  /// The kept positions: rows [0, num_rows) of the shared [chain, draw,
  /// dim] array at `slot` when `in_shared` (the common case: each chain
  /// writes its draws straight into the result, so a run's peak memory is
  /// about the draws it returns), else of `own`.
  bool in_shared = false;
  std::size_t slot = 0;
  Mat own;
  std::size_t num_rows = 0;
  std::size_t dim = 0;
  std::vector<double> logdensity;
  std::vector<Info> infos;
  ChainAccounting accounting;
  std::vector<typename OthersOf<State>::type> others;  ///< per kept draw (mixed only)
  Mat derived;                                          ///< [draw, quantity]
  WarmupRecorder<Info> warmup;                          ///< with save_warmup
};

/// Sampling from a checkpoint: the part `sample` and `resume` share. `f`
/// is the chain's counting density.
template <class K, class CF, class Callback>
auto sample_from(const checkpoint::ChainCheckpoint<typename adaptation::KernelTypes<K, CF>::State,
                                                   typename adaptation::KernelTypes<K, CF>::Params>&
                     start,
                 const K& kernel, CF& f, const SampleOptions& options, ProgressBar* progress,
                 SharedStop* stop, const Callback& callback, ChainAccounting acc,
                 const Extras<typename adaptation::KernelTypes<K, CF>::State>& extras,
                 diagnostics::Draws* shared, std::size_t slot)
    -> absl::StatusOr<ChainOutcome<typename adaptation::KernelTypes<K, CF>::State,
                                   typename adaptation::KernelTypes<K, CF>::Params,
                                   typename adaptation::KernelTypes<K, CF>::Info>> {
  using Types = adaptation::KernelTypes<K, CF>;
  using State = typename Types::State;
  using Info = typename Types::Info;
  using Others = typename OthersOf<State>::type;
  ChainOutcome<State, typename Types::Params, Info> out;
  out.start = start;
  const std::size_t num_derived = extras.names.size();
  ChainObserver<K, CF> observer(kernel, static_cast<std::size_t>(start.chain), f.counters);
  const auto& hooks = observer.hooks;
  BoundSampler<ObservedKernel<K, CF>, CF, typename Types::Params> alg(f, start.params,
                                                                     observer.kernel);
  ChainOptions o;
  o.thinning = options.thinning;
  o.first_step = start.next_step;
  o.chain = static_cast<std::size_t>(start.chain);
  o.progress = progress;
  o.stop = stop;
  o.keep_info_vectors = options.keep_info_vectors;
  const EvalCounters before = *f.counters;
  PhaseClock clock;
  const std::size_t dim = start.state.position.size();
  const std::size_t capacity = options.num_samples / options.thinning;
  double* base = nullptr;
  if (shared != nullptr && shared->dimension() == 3 && slot < shared->shape(0) &&
      shared->shape(1) == capacity && shared->shape(2) == dim) {
    out.in_shared = true;
    out.slot = slot;
    base = capacity * dim != 0 ? &(*shared)(slot, 0, 0) : nullptr;
  } else {
    out.own = Mat::from_shape({capacity, dim});
    base = out.own.data();
  }
  out.dim = dim;
  std::size_t rows = 0;
  bool wrong_size = false;
  struct Kept {
    double logdensity;
    Others others;
    Vec derived;
  };
  auto run = run_chain(
      start.key, alg, start.state, options.num_samples,
      [&](const State& s, const Info&) {
        if (s.position.size() == dim && rows < capacity)
          std::copy(s.position.begin(), s.position.end(), base + (rows++) * dim);
        else
          wrong_size = true;
        Kept k{state_logdensity(s), {}, {}};
        if constexpr (!std::is_same_v<Others, std::monostate>) k.others = s.others;
        if (extras.derive) k.derived = extras.derive(s);
        return k;
      },
      o, callback);
  acc.sampling_wall_seconds = clock.wall_seconds();
  acc.sampling_cpu_seconds = clock.cpu_seconds();
  if (!run.ok()) return run.status();
  acc.gradient_evaluations = f.counters->evaluations - before.evaluations;
  acc.num_rejected_evaluations = f.counters->rejected - before.rejected;
  acc.num_divergent = hooks.divergent;
  acc.num_max_tree_depth = hooks.saturated;
  if constexpr (requires { static_cast<double>(start.params.step_size); })
    acc.step_size = static_cast<double>(start.params.step_size);
  else if constexpr (requires { static_cast<double>(start.params.step_size(start.state.step)); })
    acc.step_size = static_cast<double>(start.params.step_size(start.state.step));  // a schedule
  if constexpr (adaptation::has_metric_v<typename Types::Params>)
    acc.inverse_mass_matrix = start.params.inverse_mass_matrix;
  out.accounting = std::move(acc);
  if (wrong_size) return absl::InternalError("the kernel changed the dimension of the position");
  const std::size_t n = run->values.size();
  out.num_rows = n;
  out.derived = Mat::from_shape({n, num_derived});
  out.logdensity.resize(n);
  if constexpr (!std::is_same_v<Others, std::monostate>) out.others.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Kept& k = run->values[i];
    if (k.derived.size() != num_derived)
      return absl::InvalidArgumentError(absl::StrCat("the derived quantities have ", k.derived.size(),
                                                     " entries but ", num_derived, " names"));
    if (num_derived) std::copy(k.derived.begin(), k.derived.end(), &out.derived(i, 0));
    out.logdensity[i] = k.logdensity;
    if constexpr (!std::is_same_v<Others, std::monostate>) out.others.push_back(std::move(k.others));
  }
  out.infos = std::move(run->infos);
  out.end = start;
  out.end.state = std::move(run->final_state);
  out.end.next_step = run->next_step;
  return out;
}

/// Assembles per-chain outcomes into Draws. After a stop at `limit` steps,
/// every chain keeps the draws of its first `limit` steps, and a chain that
/// went further (or whose last step was not a kept one) has its checkpoint
/// moved back to its last kept draw, the state recomputed from that
/// position (a GradientState is a function of its position for a
/// deterministic density), so arrays and checkpoints always agree. Chains
/// whose dimension differs from the first successful one's are failed (the
/// arrays need one), never read out of bounds.
template <class K, class F, class State, class Params, class Info, class Restart>
absl::StatusOr<Draws<State, Params, Info>> assemble(
    std::vector<absl::StatusOr<ChainOutcome<State, Params, Info>>>& chains, const K& kernel,
    F logdensity, const SampleOptions& options, const SharedStop& stop,
    const std::vector<std::string>& derived_names, const Restart& restart,
    diagnostics::Draws* shared) {
  Draws<State, Params, Info> d;
  d.stopped = stop.requested();
  std::size_t keep = std::numeric_limits<std::size_t>::max();
  if (d.stopped) keep = static_cast<std::size_t>(stop.limit()) / options.thinning;
  std::size_t dim = 0;
  bool have_dim = false;
  for (std::size_t c = 0; c < chains.size(); ++c) {
    if (!chains[c].ok()) continue;
    const std::size_t n = chains[c]->dim;
    if (!have_dim) dim = n, have_dim = true;
    if (n != dim)
      chains[c] = absl::InvalidArgumentError(absl::StrCat(
          "chain ", c, ": its position has dimension ", n, " but an earlier chain's has ", dim));
  }
  d.status = aggregate_status(chains);
  std::vector<std::size_t> rows;  // indices into `chains`
  for (std::size_t c = 0; c < chains.size(); ++c) {
    d.chain_status.push_back(chains[c].ok() ? absl::OkStatus() : chains[c].status());
    if (!chains[c].ok()) continue;
    rows.push_back(c);
    d.chains.push_back(static_cast<std::size_t>(chains[c]->start.chain));
    keep = std::min(keep, chains[c]->num_rows);
  }
  if (d.chains.empty()) return d.status;
  const std::size_t m = d.chains.size();
  // Every chain wrote its full run into the shared array: it is the result
  // as it is (no copy). Otherwise copy the rows that are kept.
  const bool whole = shared != nullptr && m == chains.size() && m == shared->shape(0) &&
                     keep == shared->shape(1) && dim == shared->shape(2) &&
                     std::all_of(chains.begin(), chains.end(), [](const auto& ch) { return ch->in_shared; });
  auto row = [&](const ChainOutcome<State, Params, Info>& ch, std::size_t i) -> const double* {
    return ch.in_shared ? &(*shared)(ch.slot, i, 0) : &ch.own(i, 0);
  };
  if (whole) {
    d.positions = std::move(*shared);
  } else {
    d.positions = diagnostics::Draws::from_shape({m, keep, dim});
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t i = 0; i < keep; ++i)
        std::copy(row(*chains[rows[r]], i), row(*chains[rows[r]], i) + dim, &d.positions(r, i, 0));
    if (shared != nullptr) *shared = diagnostics::Draws();  // free it now
  }
  d.logdensity = diagnostics::ChainDraws::from_shape({m, keep});
  const std::size_t nd = derived_names.size();
  d.derived_names = derived_names;
  d.derived = diagnostics::Draws::from_shape({m, keep, nd});
  d.sample_stats.names = stat_names<Info>();
  const std::size_t k = d.sample_stats.names.size();
  d.sample_stats.values = xt::xtensor<double, 3>::from_shape({m, keep, k});
  for (std::size_t r = 0; r < m; ++r) {
    auto& ch = *chains[rows[r]];
    for (std::size_t i = 0; i < keep; ++i) {
      d.logdensity(r, i) = ch.logdensity[i];
      for (std::size_t j = 0; j < nd; ++j) d.derived(r, i, j) = ch.derived(i, j);
      write_stats(ch.infos[i], ch.logdensity[i], ch.accounting.step_size,
                  &d.sample_stats.values(r, i, 0));
    }
    ch.infos.resize(keep);
    const std::uint64_t steps_done = ch.end.next_step - ch.start.next_step;
    if (d.stopped && steps_done != keep * options.thinning) {
      // Cut back to the last kept draw; count what the kept draws saw.
      std::size_t divergent = 0;
      for (const Info& info : ch.infos) divergent += info_is_divergent(info) ? 1 : 0;
      if (options.thinning == 1) ch.accounting.num_divergent = divergent;
      ch.end = ch.start;
      if (keep > 0) {
        Vec x = Vec::from_shape({dim});
        for (std::size_t j = 0; j < dim; ++j) x(j) = d.positions(r, keep - 1, j);
        auto s = restart(kernel, logdensity, x, ch, keep - 1);
        if (!s.ok()) return s.status();
        ch.end.state = *std::move(s);
        ch.end.next_step = ch.start.next_step + keep * options.thinning;
      }
    }
    d.num_divergent += ch.accounting.num_divergent;
    d.num_rejected_evaluations +=
        ch.accounting.num_rejected_evaluations + ch.accounting.num_rejected_evaluations_warmup;
    d.accounting.push_back(std::move(ch.accounting));
    ch.own = Mat();
    d.infos.push_back(std::move(ch.infos));
    if constexpr (!std::is_same_v<typename OthersOf<State>::type, std::monostate>) {
      ch.others.resize(keep);
      d.others.push_back(std::move(ch.others));
    }
    d.params.push_back(ch.end.params);
    d.checkpoints.push_back(std::move(ch.end));
  }
  if (options.save_warmup) {
    std::vector<WarmupRecorder<Info>*> warmup;
    for (std::size_t r = 0; r < m; ++r) warmup.push_back(&chains[rows[r]]->warmup);
    assemble_warmup(warmup, d.warmup);
  }
  if (!options.summarize) {
    d.summary = absl::UnknownError("not summarised: SampleOptions::summarize is false");
    return d;
  }
  if (nd == 0) {
    d.summary = diagnostics::summary(d.positions, d.num_divergent, options.names);
  } else {
    // The table shows the positions, then the derived quantities.
    diagnostics::Draws both = diagnostics::Draws::from_shape({m, keep, dim + nd});
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t i = 0; i < keep; ++i) {
        for (std::size_t j = 0; j < dim; ++j) both(r, i, j) = d.positions(r, i, j);
        for (std::size_t j = 0; j < nd; ++j) both(r, i, dim + j) = d.derived(r, i, j);
      }
    std::vector<std::string> names = options.names;
    if (names.empty())
      for (std::size_t j = 0; j < dim; ++j) names.push_back(absl::StrCat("x[", j, "]"));
    names.insert(names.end(), derived_names.begin(), derived_names.end());
    d.summary = diagnostics::summary(both, d.num_divergent, names);
  }
  d.warnings = run_warnings(d.summary.ok() ? &*d.summary : nullptr, d.logdensity, d.sample_stats,
                            d.accounting, keep * options.thinning, options.warnings);
  if (d.summary.ok())
    for (const auto& w : d.warnings) d.summary->warnings.push_back(w.message);
  return d;
}

}  // namespace nutshell::detail
