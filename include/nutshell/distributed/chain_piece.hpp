// One chain's outcome as one process holds it, and as it travels: its
// status, kept draws, per-draw statistics and infos, accounting and the
// checkpoint where it ended. Pieces are cut from a process's Draws, sent
// (wire.hpp) or saved (chain_files.hpp), appended segment after segment,
// and merged into one Draws on rank 0 (merge.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/distributed/wire.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/checkpoint.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell::distributed {

namespace detail {
/// Calls f(member) for each scalar member of an Info that the statistics,
/// the warnings and the output writers read (the names io/info_stats.hpp
/// and run/accounting.hpp detect). An Info's vectors (the momentum kept
/// with keep_info_vectors) are not sent: they are as large as the draws.
template <class Info, class Fn>
void for_each_info_scalar(Info& info, Fn&& f) {
#define NUTSHELL_INFO_SCALAR(name)                                                   \
  if constexpr (requires { info.name; }) {                                           \
    if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(info.name)>>) f(info.name); \
  }
  NUTSHELL_INFO_SCALAR(acceptance_rate)
  NUTSHELL_INFO_SCALAR(is_accepted)
  NUTSHELL_INFO_SCALAR(is_divergent)
  NUTSHELL_INFO_SCALAR(is_turning)
  NUTSHELL_INFO_SCALAR(energy)
  NUTSHELL_INFO_SCALAR(energy_error)
  NUTSHELL_INFO_SCALAR(num_trajectory_expansions)
  NUTSHELL_INFO_SCALAR(tree_depth)
  NUTSHELL_INFO_SCALAR(num_integration_steps)
  NUTSHELL_INFO_SCALAR(step_size)
#undef NUTSHELL_INFO_SCALAR
}

template <class Info>
std::size_t num_info_scalars() {
  Info probe{};
  std::size_t n = 0;
  for_each_info_scalar(probe, [&](auto&) { ++n; });
  return n;
}

/// "chain <c>: msg" (pmap's form) or "msg" -> "chain <c> on rank <r>: msg".
inline absl::Status on_rank(const absl::Status& s, std::size_t chain, int rank) {
  std::string m(s.message());
  const std::string prefix = "chain ";
  if (m.rfind(prefix, 0) == 0) {
    const std::size_t colon = m.find(": ");
    if (colon != std::string::npos &&
        m.find_first_not_of("0123456789", prefix.size()) == colon)
      m = m.substr(colon + 2);
  }
  return absl::Status(s.code(), absl::StrCat("chain ", chain, " on rank ", rank, ": ", m));
}
}  // namespace detail

/// One chain's outcome (see the file comment). Arrays are row-major, one
/// row per kept draw.
template <class State, class Params, class Info>
struct ChainPiece {
  std::size_t chain = 0;  ///< the chain's index in the run
  int rank = 0;           ///< the rank that ran it
  absl::Status status;    ///< OK, or why the chain failed (then nothing else is set)
  std::size_t dim = 0;
  std::vector<double> positions;  ///< [draw, dim]
  std::vector<double> logdensity; ///< [draw]
  std::vector<double> stats;      ///< [draw, stat] in stat_names<Info>() order
  std::vector<Info> infos;        ///< scalar members only (see for_each_info_scalar)
  ChainAccounting accounting;
  checkpoint::ChainCheckpoint<State, Params> end;  ///< where the chain stands

  /// Kept draws so far.
  std::size_t rows() const { return logdensity.size(); }
};

/// The pieces of the chains `group` (in that order) from the Draws a
/// `sample` or `resume` over those chains returned on `rank`. A chain
/// without a row failed: with its chain_status when that lines up with
/// `group`, else with the call's status. A failed call fails every chain
/// of the group with its status.
template <class State, class Params, class Info>
std::vector<ChainPiece<State, Params, Info>> pieces_from_draws(
    const absl::StatusOr<Draws<State, Params, Info>>& draws, const std::vector<std::size_t>& group,
    int rank) {
  std::vector<ChainPiece<State, Params, Info>> out(group.size());
  for (std::size_t i = 0; i < group.size(); ++i) {
    auto& p = out[i];
    p.chain = group[i];
    p.rank = rank;
    if (!draws.ok()) {
      p.status = detail::on_rank(draws.status(), group[i], rank);
      continue;
    }
    if (std::find(draws->chains.begin(), draws->chains.end(), group[i]) != draws->chains.end())
      continue;
    absl::Status why = draws->status.ok() ? absl::DataLossError("lost") : draws->status;
    if (draws->chain_status.size() == group.size() && !draws->chain_status[i].ok())
      why = draws->chain_status[i];
    p.status = detail::on_rank(why, group[i], rank);
  }
  if (!draws.ok()) return out;
  const auto& d = *draws;
  const std::size_t n = d.num_draws(), dim = d.positions.shape(2);
  const std::size_t k = d.sample_stats.names.size();
  for (std::size_t r = 0; r < d.chains.size(); ++r) {
    std::size_t i = 0;
    while (i < group.size() && group[i] != d.chains[r]) ++i;
    if (i == group.size()) continue;  // not one of ours: cannot happen
    auto& p = out[i];
    p.dim = dim;
    p.positions.assign(&d.positions(r, 0, 0), &d.positions(r, 0, 0) + n * dim);
    p.logdensity.assign(&d.logdensity(r, 0), &d.logdensity(r, 0) + n);
    if (n * k) p.stats.assign(&d.sample_stats.values(r, 0, 0), &d.sample_stats.values(r, 0, 0) + n * k);
    p.infos.resize(n);
    std::vector<double> vals;
    for (std::size_t j = 0; j < n; ++j) {
      // Copy the scalar members only, so what stays here is what travels.
      vals.clear();
      detail::for_each_info_scalar(d.infos[r][j],
                                   [&](const auto& v) { vals.push_back(static_cast<double>(v)); });
      std::size_t q = 0;
      detail::for_each_info_scalar(p.infos[j], [&](auto& v) {
        v = static_cast<std::remove_reference_t<decltype(v)>>(vals[q++]);
      });
    }
    p.accounting = d.accounting[r];
    p.end = d.checkpoints[r];
  }
  return out;
}

/// Appends a later segment of the same chain (from resume): its draws
/// follow, its counts add, its checkpoint replaces; the warmup's figures,
/// step size and metric stay.
template <class State, class Params, class Info>
void append(ChainPiece<State, Params, Info>& p, ChainPiece<State, Params, Info>&& later) {
  if (!later.status.ok()) {
    p = std::move(later);
    p.positions.clear();
    p.logdensity.clear();
    p.stats.clear();
    p.infos.clear();
    return;
  }
  p.positions.insert(p.positions.end(), later.positions.begin(), later.positions.end());
  p.logdensity.insert(p.logdensity.end(), later.logdensity.begin(), later.logdensity.end());
  p.stats.insert(p.stats.end(), later.stats.begin(), later.stats.end());
  for (auto& info : later.infos) p.infos.push_back(std::move(info));
  auto& a = p.accounting;
  const auto& b = later.accounting;
  a.gradient_evaluations += b.gradient_evaluations;
  a.num_divergent += b.num_divergent;
  a.num_max_tree_depth += b.num_max_tree_depth;
  a.num_rejected_evaluations += b.num_rejected_evaluations;
  a.sampling_wall_seconds += b.sampling_wall_seconds;
  a.sampling_cpu_seconds += b.sampling_cpu_seconds;
  p.end = std::move(later.end);
}

/// Appends a piece to `w`.
template <class State, class Params, class Info>
void write(Writer& w, const ChainPiece<State, Params, Info>& p) {
  w.u64(p.chain);
  w.i64(p.rank);
  w.u64(static_cast<std::uint64_t>(p.status.code()));
  w.str(std::string(p.status.message()));
  if (!p.status.ok()) return;
  w.u64(p.dim);
  w.f64s(p.positions);
  w.f64s(p.logdensity);
  w.f64s(p.stats);
  std::vector<double> infos;
  infos.reserve(p.infos.size() * detail::num_info_scalars<Info>());
  for (const Info& info : p.infos)
    detail::for_each_info_scalar(info,
                                 [&](const auto& v) { infos.push_back(static_cast<double>(v)); });
  w.f64s(infos);
  const ChainAccounting& a = p.accounting;
  for (std::uint64_t v : {std::uint64_t(a.chain), a.gradient_evaluations_warmup,
                          a.gradient_evaluations_step_size_search, a.gradient_evaluations,
                          std::uint64_t(a.num_divergent_warmup), std::uint64_t(a.num_divergent),
                          std::uint64_t(a.num_max_tree_depth), a.num_rejected_evaluations_warmup,
                          a.num_rejected_evaluations, std::uint64_t(a.num_init_redraws)})
    w.u64(v);
  for (double v : {a.step_size, a.warmup_wall_seconds, a.warmup_cpu_seconds, a.sampling_wall_seconds,
                   a.sampling_cpu_seconds})
    w.f64(v);
  // The checkpoint in its own exact text form (hexadecimal floats).
  w.str(checkpoint::to_record(p.end).serialize());
}

/// Reads a piece written by `write`.
template <class State, class Params, class Info>
absl::StatusOr<ChainPiece<State, Params, Info>> read_piece(Reader& r) {
  ChainPiece<State, Params, Info> p;
  p.chain = r.u64();
  p.rank = static_cast<int>(r.i64());
  const auto code = static_cast<absl::StatusCode>(r.u64());
  const std::string message = r.str();
  if (auto s = r.status("a chain's outcome"); !s.ok()) return s;
  if (code != absl::StatusCode::kOk) {
    p.status = absl::Status(code, message);
    return p;
  }
  p.dim = r.u64();
  p.positions = r.f64s();
  p.logdensity = r.f64s();
  p.stats = r.f64s();
  const std::vector<double> infos = r.f64s();
  ChainAccounting& a = p.accounting;
  a.chain = r.u64();
  a.gradient_evaluations_warmup = r.u64();
  a.gradient_evaluations_step_size_search = r.u64();
  a.gradient_evaluations = r.u64();
  a.num_divergent_warmup = r.u64();
  a.num_divergent = r.u64();
  a.num_max_tree_depth = r.u64();
  a.num_rejected_evaluations_warmup = r.u64();
  a.num_rejected_evaluations = r.u64();
  a.num_init_redraws = r.u64();
  a.step_size = r.f64();
  a.warmup_wall_seconds = r.f64();
  a.warmup_cpu_seconds = r.f64();
  a.sampling_wall_seconds = r.f64();
  a.sampling_cpu_seconds = r.f64();
  const std::string cp = r.str();
  if (auto s = r.status("a chain's outcome"); !s.ok()) return s;
  const std::size_t n = p.logdensity.size(), nf = detail::num_info_scalars<Info>();
  if (p.positions.size() != n * p.dim || infos.size() != n * nf ||
      (n > 0 && p.stats.size() % n != 0))
    return absl::DataLossError(absl::StrCat("chain ", p.chain, ": its arrays disagree on the number of draws"));
  p.infos.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t q = i * nf;
    detail::for_each_info_scalar(p.infos[i], [&](auto& v) {
      v = static_cast<std::remove_reference_t<decltype(v)>>(infos[q++]);
    });
  }
  auto record = checkpoint::Record::parse(cp);
  if (!record.ok()) return record.status();
  auto end = checkpoint::from_record<State, Params>(*record, p.dim);
  if (!end.ok()) return end.status();
  p.end = *std::move(end);
  if constexpr (adaptation::has_metric_v<Params>) a.inverse_mass_matrix = p.end.params.inverse_mass_matrix;
  return p;
}

}  // namespace nutshell::distributed
