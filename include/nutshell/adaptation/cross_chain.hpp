// What one chain contributes to a cross-chain (many-chain) adaptation step,
// and the ONE place where the chains' contributions are combined.
//
// ChEES and MEADS tune from statistics over all chains at once: the
// harmonic mean of the acceptance rates, centred positions, the proposal's
// velocity, the gradients of a fold. Every chain reports a ChainStatistics
// after its transition; `Combine` turns the chains' reports into the full,
// chain-ordered list every adaptation update reads. Both adaptations then
// reduce that list in chain order, so the result is bitwise the same
// whatever thread (or process) produced which report.
//
// Why a gather and not a sum: the ChEES gradient needs each chain's
// deviation from the cross-chain means (two passes), and MEADS needs the
// chains of one fold; neither is a fixed-size sufficient statistic. A
// combinator that carries chains across machines (MPI) therefore implements
// `Combine` as an all-gather of these records (positions in chain order) and
// reuses every reduction below unchanged: there is no second implementation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/types.hpp"

namespace nutshell::adaptation::cross_chain {

/// One chain's report after one lockstep transition. Vectors a method does
/// not need stay empty (MEADS fills no proposal, ChEES no gradient).
struct ChainStatistics {
  std::size_t chain = 0;     ///< global chain index (the sort key of Combine)
  Vec position;              ///< the position the transition started from
  Vec logdensity_grad;       ///< the gradient there (MEADS)
  Vec proposal_position;     ///< the trajectory's end before the test (ChEES)
  Vec proposal_velocity;     ///< M^-1 p there (ChEES)
  double acceptance_rate = 0.0;
  bool is_divergent = false;
  bool active = true;        ///< false: this chain did not move (a frozen MEADS fold)
};

/// The combinator of one process: its chains are all the chains, so
/// combining is putting the reports in chain order. A distributed
/// combinator has the same signature and all-gathers the reports first.
struct LocalCombine {
  /// All chains' reports in chain order; an error when a chain index is
  /// missing or repeated.
  absl::StatusOr<std::vector<ChainStatistics>> operator()(
      std::vector<ChainStatistics> local) const {
    std::vector<ChainStatistics> all(local.size());
    std::vector<bool> seen(local.size(), false);
    for (auto& s : local) {
      if (s.chain >= all.size() || seen[s.chain])
        return absl::InternalError(absl::StrCat("cross-chain combine: chain index ", s.chain,
                                                " missing or repeated"));
      seen[s.chain] = true;
      const std::size_t c = s.chain;
      all[c] = std::move(s);
    }
    return all;
  }

  /// The allocation-free form: `all` (the caller's, reused from one
  /// iteration to the next) becomes every chain's report in chain order,
  /// copied into its buffers. Same errors as above.
  absl::Status operator()(std::span<const ChainStatistics> local,
                          std::vector<ChainStatistics>& all) const {
    constexpr std::size_t kUnset = static_cast<std::size_t>(-1);
    if (all.size() != local.size()) all.resize(local.size());
    for (auto& a : all) a.chain = kUnset;
    for (const auto& s : local) {
      if (s.chain >= all.size() || all[s.chain].chain != kUnset)
        return absl::InternalError(absl::StrCat("cross-chain combine: chain index ", s.chain,
                                                " missing or repeated"));
      ChainStatistics& a = all[s.chain];
      a.chain = s.chain;
      copy_vec(s.position, a.position);
      copy_vec(s.logdensity_grad, a.logdensity_grad);
      copy_vec(s.proposal_position, a.proposal_position);
      copy_vec(s.proposal_velocity, a.proposal_velocity);
      a.acceptance_rate = s.acceptance_rate;
      a.is_divergent = s.is_divergent;
      a.active = s.active;
    }
    return absl::OkStatus();
  }

 private:
  static void copy_vec(const Vec& src, Vec& dst) {
    if (dst.size() != src.size()) dst.resize({src.size()});
    std::copy(src.begin(), src.end(), dst.begin());
  }
};

/// One chain's report as plain numbers, for a combinator that moves
/// reports between processes: the transport sees a chain index and a span
/// of doubles, never ChainStatistics, so a statistic added to
/// ChainStatistics (and to pack/unpack below, the one list of its fields)
/// crosses machines with no change to the transport.
struct ChainRecord {
  std::size_t chain = 0;        ///< global chain index
  std::vector<double> values;   ///< pack(statistics)
};

namespace detail {
// The fields that travel, in one list used by both directions: a Vec is
// its length then its entries; a scalar one double.
template <class S, class Visit>
void for_each_field(S& s, Visit&& visit) {
  visit(s.position);
  visit(s.logdensity_grad);
  visit(s.proposal_position);
  visit(s.proposal_velocity);
  visit(s.acceptance_rate);
  visit(s.is_divergent);
  visit(s.active);
}
}  // namespace detail

/// `s` as doubles (exactly: unpack gives back the same bits).
inline std::vector<double> pack(const ChainStatistics& s) {
  std::vector<double> out;
  detail::for_each_field(s, [&out](const auto& f) {
    using T = std::decay_t<decltype(f)>;
    if constexpr (std::is_same_v<T, Vec>) {
      out.push_back(static_cast<double>(f.size()));
      out.insert(out.end(), f.data(), f.data() + f.size());
    } else {
      out.push_back(static_cast<double>(f));
    }
  });
  return out;
}

/// The report pack(s) came from, for chain `chain`; an error when
/// `values` is not one.
inline absl::StatusOr<ChainStatistics> unpack(std::size_t chain, std::span<const double> values) {
  ChainStatistics s;
  s.chain = chain;
  std::size_t at = 0;
  bool bad = false;
  detail::for_each_field(s, [&](auto& f) {
    using T = std::decay_t<decltype(f)>;
    if (bad || at >= values.size()) {
      bad = true;
      return;
    }
    if constexpr (std::is_same_v<T, Vec>) {
      const double len = values[at++];
      if (!(len >= 0.0) || len > static_cast<double>(values.size() - at)) {
        bad = true;
        return;
      }
      f = Vec::from_shape({static_cast<std::size_t>(len)});
      if (f.size()) std::memcpy(f.data(), values.data() + at, f.size() * sizeof(double));
      at += f.size();
    } else if constexpr (std::is_same_v<T, bool>) {
      f = values[at++] != 0.0;
    } else {
      f = static_cast<T>(values[at++]);
    }
  });
  if (bad || at != values.size())
    return absl::DataLossError(absl::StrCat("cross-chain combine: chain ", chain,
                                            "'s record is malformed"));
  return s;
}

/// A combinator over processes built on one collective, `exchange`:
/// exchange(records, status) gives every process's records (any order)
/// and fails on every process when any process's status is an error.
/// Every lockstep iteration makes exactly one exchange on every process,
/// so a failure on one process (a chain that throws, a start that cannot
/// be made) ends the warmup on all of them instead of leaving them waiting.
/// distributed/cross_chain.hpp gives the exchange over an executor (MPI).
template <class Exchange>
struct ExchangeCombine {
  Exchange exchange;

  /// Every process's reports, in chain order (see LocalCombine).
  absl::StatusOr<std::vector<ChainStatistics>> operator()(const std::vector<ChainStatistics>& local,
                                                          absl::Status status = absl::OkStatus()) const {
    std::vector<ChainRecord> mine;
    mine.reserve(local.size());
    for (const auto& s : local) mine.push_back({s.chain, pack(s)});
    auto all = exchange(std::move(mine), std::move(status));
    if (!all.ok()) return all.status();
    std::vector<ChainStatistics> stats;
    stats.reserve(all->size());
    for (const auto& r : *all) {
      auto s = unpack(r.chain, r.values);
      if (!s.ok()) return s.status();
      stats.push_back(*std::move(s));
    }
    return LocalCombine{}(std::move(stats));
  }

  /// `status` unless another process failed (an exchange without reports).
  absl::Status agree(absl::Status status) const {
    auto all = exchange({}, std::move(status));
    return all.ok() ? absl::OkStatus() : all.status();
  }
};

/// Mean over `rows` of the vectors `get(stat)`, in chain order (NaN
/// entries skipped per coordinate: a failed proposal says nothing).
template <class Get>
Vec mean_of(std::span<const ChainStatistics> stats, std::span<const std::size_t> rows, Get get,
            std::span<const double> weights = {}) {
  const std::size_t dim = get(stats[rows[0]]).size();
  Vec mean = Vec::from_shape({dim});
  Vec wsum = Vec::from_shape({dim});
  mean.fill(0.0);
  wsum.fill(0.0);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const Vec& x = get(stats[rows[k]]);
    const double w = weights.empty() ? 1.0 : weights[k];
    for (std::size_t i = 0; i < dim; ++i)
      if (std::isfinite(x(i))) {
        mean(i) += w * x(i);
        wsum(i) += w;
      }
  }
  for (std::size_t i = 0; i < dim; ++i) mean(i) = wsum(i) > 0.0 ? mean(i) / wsum(i) : 0.0;
  return mean;
}

/// Per-coordinate standard deviation over `rows` of `get(stat)` (the
/// population form, as numpy's std), in chain order.
template <class Get>
Vec sd_of(std::span<const ChainStatistics> stats, std::span<const std::size_t> rows, Get get) {
  const Vec mean = mean_of(stats, rows, get);
  Vec sd = Vec::from_shape({mean.size()});
  sd.fill(0.0);
  for (std::size_t r : rows) {
    const Vec& x = get(stats[r]);
    for (std::size_t i = 0; i < mean.size(); ++i) sd(i) += (x(i) - mean(i)) * (x(i) - mean(i));
  }
  for (std::size_t i = 0; i < mean.size(); ++i)
    sd(i) = std::sqrt(sd(i) / static_cast<double>(rows.size()));
  return sd;
}

/// Largest eigenvalue of (1/n) X^T X for the rows x_k = f(k) (n of them,
/// dimension d), estimated as MEADS does (Hoffman and Sountsov 2022):
/// the ratio of unbiased estimates of tr(S^2) and tr(S), which is stable
/// where the sample maximum eigenvalue is noisy.
template <class Row>
double maximum_eigenvalue(std::size_t n, Row row) {
  if (n < 2) return 0.0;
  double trace = 0.0, off = 0.0;
  for (std::size_t a = 0; a < n; ++a) {
    const Vec& xa = row(a);
    double d = 0.0;
    for (std::size_t i = 0; i < xa.size(); ++i) d += xa(i) * xa(i);
    trace += d;
    for (std::size_t b = 0; b < n; ++b) {
      if (b == a) continue;
      const Vec& xb = row(b);
      double s = 0.0;
      for (std::size_t i = 0; i < xa.size(); ++i) s += xa(i) * xb(i);
      off += s * s;
    }
  }
  const double nn = static_cast<double>(n);
  const double lambda = trace / nn;
  const double lambda_sq = off / (nn * (nn - 1.0));
  return lambda > 0.0 ? lambda_sq / lambda : 0.0;
}

}  // namespace nutshell::adaptation::cross_chain
