#include "nutshell/run/converge_state.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <limits>
#include <span>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/quantile.hpp"
#include "nutshell/diagnostics/sorted_draws.hpp"
#include "nutshell/diagnostics/transforms.hpp"
#include "nutshell/run/converge_concat.hpp"

namespace nutshell {
namespace {

constexpr std::uint64_t kDrawMask = 0xffffffffULL;

// Runs f(i) on threads i = 0 .. t-1 (0 on the calling thread).
template <class F>
void on_threads(std::size_t t, F f) {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < t; ++i) threads.emplace_back(f, i);
  f(0);
  for (auto& th : threads) th.join();
}

// Index of the worst entry (largest when `largest`), NaN counting as worst.
std::size_t worst(const std::vector<double>& v, bool largest, double& value) {
  std::size_t at = 0;
  value = v[0];
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double x = v[i];
    if (std::isnan(x)) {
      value = x;
      return i;
    }
    if (largest ? x > value : x < value) value = x, at = i;
  }
  return at;
}

}  // namespace

absl::Status ConvergenceChecker::drop_chains(const std::vector<std::size_t>& chains) {
  // The row of chains_ holding each chain of the block (the joined draws
  // match blocks to earlier ones the same way).
  auto rows = detail::match_rows(chains_, chains);
  if (!rows.ok()) return rows.status();
  const std::vector<std::size_t>& old_row = *rows;
  bool identity = chains.size() == chains_.size();
  for (std::size_t r = 0; r < chains.size() && identity; ++r) identity = old_row[r] == r;
  if (identity) return absl::OkStatus();
  // Chains fail rarely: copy the kept rows of every block.
  for (Block& b : blocks_) {
    const std::size_t n = b.draws.shape(1), row_size = n * dim_;
    auto kept = diagnostics::Draws::from_shape({chains.size(), n, dim_});
    for (std::size_t r = 0; r < chains.size(); ++r)
      std::copy_n(b.draws.data() + old_row[r] * row_size, row_size, kept.data() + r * row_size);
    b.draws = std::move(kept);
  }
  chains_ = chains;
  return absl::OkStatus();
}

absl::Status ConvergenceChecker::add(diagnostics::Draws block,
                                     const std::vector<std::size_t>& chains) {
  const std::size_t m = block.shape(0), b = block.shape(1), d = block.shape(2);
  if (chains.size() != m)
    return absl::InvalidArgumentError(
        absl::StrCat("block has ", m, " rows but ", chains.size(), " chain indices"));
  if (started_ && d != dim_ && m > 0)
    return absl::InvalidArgumentError(
        absl::StrCat("block has ", d, " dimensions, earlier blocks ", dim_));
  const double* x = block.data();
  const auto bad = std::find_if(x, x + block.size(), [](double v) { return !std::isfinite(v); });
  if (bad != x + block.size())
    return absl::InvalidArgumentError(
        absl::StrCat("draw ", bad - x, " (flat index) is not finite: ", *bad));
  if (num_draws_ + b > kDrawMask || m > kDrawMask)
    return absl::InvalidArgumentError("too many draws or chains for the convergence check");
  if (!started_) {
    dim_ = d;
    chains_ = chains;
    started_ = true;
  } else if (auto s = drop_chains(chains); !s.ok()) {
    return s;
  }
  ranked_complete_ = false;
  blocks_.push_back(Block{std::move(block), num_draws_});
  num_draws_ += b;
  return absl::OkStatus();
}

absl::StatusOr<ConvergenceVerdict> ConvergenceChecker::check(const ConvergenceOptions& options,
                                                             std::size_t num_threads,
                                                             bool stop_at_first_failure) {
  if (auto s = validate(options); !s.ok()) return s;
  const std::size_t m = chains_.size(), n = num_draws_, d = dim_;
  if (m == 0) return absl::InvalidArgumentError("draws have no chain");
  if (n < diagnostics::kMinDraws)
    return absl::InvalidArgumentError(absl::StrCat(
        "diagnostics need at least ", diagnostics::kMinDraws, " draws per chain, got ", n));
  if (d == 0) return absl::InvalidArgumentError("draws have no dimension");
  std::vector<double> rhat(d), bulk(d), tail(d);
  ranked_.resize(d);
  ranked_complete_ = false;
  // One thread for a small check: starting a thread costs about as much as
  // checking a few thousand draws (tens of microseconds here).
  constexpr std::size_t kValuesPerThread = std::size_t{1} << 15;
  const std::size_t t = m * n * d < kValuesPerThread
                            ? 1
                            : std::max<std::size_t>(1, std::min(num_threads, d));
  if (scratch_.size() < t) scratch_.resize(t);
  if (sorted_.size() < t) sorted_.resize(t);
  std::vector<diagnostics::BlockView> views;
  views.reserve(blocks_.size());
  for (const Block& b : blocks_)
    views.push_back({b.draws.data(), b.draws.shape(0), b.draws.shape(1), d, b.first_draw});
  const std::size_t num_split = 2 * m * (n / 2);
  std::vector<double>& scores = scores_;
  scores.resize(num_split);
  const std::span<const double> table(scores);
  // Check order: the previous check's first failure, then by index.
  std::vector<std::size_t> order(d);
  const std::size_t lead = first_failed_ < d ? first_failed_ : 0;
  order[0] = lead;
  for (std::size_t k = 0, p = 1; k < d; ++k)
    if (k != lead) order[p++] = k;
  auto passes = [&](std::size_t k) {
    return rhat[k] < options.max_rhat && bulk[k] >= options.min_ess_bulk &&
           tail[k] >= options.min_ess_tail;  // false for NaN
  };
  // One parallel region (threads started once per check): first the
  // rank-normal scores of the untied ranks, shared by every parameter (bulk
  // and folded), then the parameters. Threads take the next position in
  // `order`; with the early exit none starts a position past a known
  // failure, so every position before the first failure is evaluated
  // whatever the number of threads.
  std::atomic<std::size_t> next{0}, first_failure{d};
  std::barrier scores_done(static_cast<std::ptrdiff_t>(t));
  on_threads(t, [&](std::size_t thread) {
    for (std::size_t r = thread * num_split / t; r < (thread + 1) * num_split / t; ++r)
      scores[r] = diagnostics::rank_normal_score(r + 1, num_split);
    scores_done.arrive_and_wait();
    for (std::size_t p = next++; p < d; p = next++) {
      if (stop_at_first_failure && p > first_failure.load()) break;
      const std::size_t k = order[p];
      diagnostics::sort_draws(views, k, sorted_[thread], scratch_[thread]);
      const diagnostics::RankDiagnostics v =
          diagnostics::rank_diagnostics_sorted(sorted_[thread], m, n, table, scratch_[thread]);
      rhat[k] = v.rhat, bulk[k] = v.ess_bulk, tail[k] = v.ess_tail;
      const std::span<const double> sorted(sorted_[thread].values);
      ranked_[k] = {diagnostics::median_sorted(sorted), diagnostics::quantile_sorted(sorted, 0.05),
                    diagnostics::quantile_sorted(sorted, 0.95), v.rhat, v.ess_bulk, v.ess_tail};
      if (passes(k)) continue;
      std::size_t seen = first_failure.load();
      while (p < seen && !first_failure.compare_exchange_weak(seen, p)) {
      }
    }
  });

  ConvergenceVerdict v;
  v.num_chains = m;
  v.num_draws = n;
  v.parameters_checked = d;
  const std::size_t failed = first_failure.load();
  if (failed < d) first_failed_ = order[failed];
  ranked_complete_ = !(stop_at_first_failure && failed < d);
  if (stop_at_first_failure && failed < d) {
    const std::size_t k = order[failed];
    v.partial = true;
    v.parameters_checked = failed + 1;
    v.max_rhat = rhat[k], v.min_ess_bulk = bulk[k], v.min_ess_tail = tail[k];
    v.worst_rhat_index = v.worst_ess_bulk_index = v.worst_ess_tail_index = k;
    return v;
  }
  v.worst_rhat_index = worst(rhat, true, v.max_rhat);
  v.worst_ess_bulk_index = worst(bulk, false, v.min_ess_bulk);
  v.worst_ess_tail_index = worst(tail, false, v.min_ess_tail);
  v.converged = v.max_rhat < options.max_rhat && v.min_ess_bulk >= options.min_ess_bulk &&
                v.min_ess_tail >= options.min_ess_tail;
  return v;
}

}  // namespace nutshell
