#include "nutshell/run/converge_state.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/quantile.hpp"
#include "nutshell/diagnostics/transforms.hpp"
#include "nutshell/diagnostics/unchecked.hpp"

namespace nutshell {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uint64_t kDrawMask = 0xffffffffULL;
constexpr std::size_t kExcluded = std::numeric_limits<std::size_t>::max();

// Runs f(k) for every parameter k, thread i taking k = i, i + t, ...: the
// parameters are independent, so the results do not depend on t.
template <class F>
void for_each_dimension(std::size_t d, std::size_t num_threads, F f) {
  const std::size_t t = std::max<std::size_t>(1, std::min(num_threads, d));
  auto work = [&](std::size_t first) {
    for (std::size_t k = first; k < d; k += t) f(k);
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < t; ++i) threads.emplace_back(work, i);
  work(0);
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

// Where draw `tag` of m chains of n draws goes in split_chains' [2m, n/2]
// layout (first halves, then second halves; the middle draw of an odd n is
// dropped: kExcluded). Without branches on the half: in sorted order the
// halves alternate at random, so a branch would be mispredicted half the
// time.
struct SplitLayout {
  std::size_t m, half, second_start;
  std::size_t operator()(std::uint64_t tag) const {
    const std::size_t c = static_cast<std::size_t>(tag >> 32);
    const std::size_t j = static_cast<std::size_t>(tag & kDrawMask);
    if (j - half < second_start - half) return kExcluded;  // j == half, n odd
    const std::size_t second = j >= half;
    return (c + second * m) * half + (j - second * second_start);
  }
};

struct Values {
  double rhat = kNaN, bulk = kNaN, tail = kNaN;
};

// Per-thread scratch of one check.
struct Scratch {
  detail::UninitVector<double> values;
  detail::UninitVector<std::size_t> dest;
  detail::UninitVector<std::size_t> position;  // split position of each sorted draw
  diagnostics::ChainDraws z, z_folded, indicator;
};

// posterior's rhat, ess_bulk and ess_tail of one parameter from its sorted
// draws, composed as diagnostics.cpp composes them (see the file comment of
// converge_state.hpp).
Values values_of(const detail::UninitVector<double>& v,
                 const detail::UninitVector<std::uint64_t>& tags,
                 const SplitLayout& split, const std::vector<double>& scores, Scratch& s) {
  const std::size_t n_all = v.size();
  // Bulk: ranks of the split chains' draws. Every draw is written and the
  // excluded middle draws overwritten by the next (no branch per draw).
  s.values.resize(n_all + 1);
  s.dest.resize(n_all + 1);
  s.position.resize(n_all);
  std::size_t count = 0;
  for (std::size_t i = 0; i < n_all; ++i) {
    const std::size_t p = split(tags[i]);
    s.position[i] = p;
    s.values[count] = v[i];
    s.dest[count] = p;
    count += p != kExcluded;
  }
  const std::span<const double> ranked(s.values.data(), count);
  const std::span<const std::size_t> dest(s.dest.data(), count);
  diagnostics::z_scale_sorted(ranked, dest, s.z.data(), scores);
  // Folded: |x - median of all draws|, in ascending order by walking out
  // from the median (each side is monotone in the rounded difference too).
  const double med = diagnostics::median_sorted(v);
  std::size_t left = static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), med) - v.begin());
  std::size_t right = left;
  count = 0;
  auto emit = [&](std::size_t i, double folded) {
    const std::size_t p = s.position[i];
    s.values[count] = folded;
    s.dest[count] = p;
    count += p != kExcluded;
  };
  // Both sides left: which one is nearer the median is a coin toss, so
  // select without a branch.
  while (left > 0 && right < n_all) {
    const double fl = std::abs(v[left - 1] - med), fr = std::abs(v[right] - med);
    const bool take_left = fl <= fr;
    const std::size_t i = take_left ? left - 1 : right;
    left -= take_left;
    right += !take_left;
    emit(i, take_left ? fl : fr);
  }
  while (left > 0) --left, emit(left, std::abs(v[left] - med));
  while (right < n_all) emit(right, std::abs(v[right] - med)), ++right;
  diagnostics::z_scale_sorted(ranked, dest, s.z_folded.data(), scores);
  Values out;
  const double bulk_rhat = diagnostics::rhat_unchecked(s.z);
  const double tail_rhat = diagnostics::rhat_unchecked(s.z_folded);
  if (!std::isnan(bulk_rhat) && !std::isnan(tail_rhat)) out.rhat = std::max(bulk_rhat, tail_rhat);
  out.bulk = diagnostics::ess_unchecked(s.z);
  // Tail: ESS of the split indicators x <= quantile, a prefix of v.
  if (std::abs(v.back() - v.front()) < std::numeric_limits<double>::epsilon()) return out;
  double ess[2];
  const double probs[2] = {0.05, 0.95};
  for (int q = 0; q < 2; ++q) {
    const double threshold = diagnostics::quantile_sorted(v, probs[q]);
    std::fill(s.indicator.begin(), s.indicator.end(), 0.0);
    for (std::size_t i = 0; i < n_all && v[i] <= threshold; ++i) {
      const std::size_t p = s.position[i];
      if (p != kExcluded) s.indicator.data()[p] = 1.0;
    }
    ess[q] = diagnostics::ess_unchecked(s.indicator);
  }
  if (!std::isnan(ess[0]) && !std::isnan(ess[1])) out.tail = std::min(ess[0], ess[1]);
  return out;
}

// Merges the sorted b into the sorted a in place (a's draws first among
// ties), from the back, so a grows without a second array, and without a
// branch on which side is larger (a coin toss).
void merge_into(detail::UninitVector<double>& a, detail::UninitVector<std::uint64_t>& a_tags,
                const std::vector<double>& b, const std::vector<std::uint64_t>& b_tags) {
  std::size_t i = a.size(), j = b.size(), out = i + j;
  a.resize(out);
  a_tags.resize(out);
  while (i > 0 && j > 0) {
    // Select by indexing, not `?:`, which gcc compiled to a branch (half
    // the catch-up, mispredicted half the time).
    const double v[2] = {a[i - 1], b[j - 1]};
    const std::uint64_t t[2] = {a_tags[i - 1], b_tags[j - 1]};
    const std::size_t take_b = !(v[1] < v[0]);
    --out;
    a[out] = v[take_b];
    a_tags[out] = t[take_b];
    j -= take_b;
    i -= 1 - take_b;
  }
  while (j > 0) --j, --out, a[out] = b[j], a_tags[out] = b_tags[j];
}

}  // namespace

absl::Status ConvergenceChecker::drop_chains(const std::vector<std::size_t>& chains,
                                             std::size_t num_threads) {
  std::unordered_map<std::size_t, std::size_t> row_of;
  for (std::size_t r = 0; r < chains_.size(); ++r) row_of[chains_[r]] = r;
  constexpr std::uint64_t kGone = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::uint64_t> new_row(chains_.size(), kGone);
  bool identity = chains.size() == chains_.size();
  for (std::size_t r = 0; r < chains.size(); ++r) {
    auto it = row_of.find(chains[r]);
    if (it == row_of.end())
      return absl::InternalError(
          absl::StrCat("block has chain ", chains[r], " that no earlier block had"));
    new_row[it->second] = r;
    identity = identity && it->second == r;
  }
  if (identity) return absl::OkStatus();
  // Pending blocks are in the old rows: merge them everywhere first (chains
  // fail rarely, so this is not worth a per-block row map).
  for_each_dimension(sorted_.size(), num_threads, [&](std::size_t k) { catch_up(k); });
  pending_base_ += pending_.size();
  pending_.clear();
  for (Sorted& s : sorted_) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      const std::uint64_t row = new_row[s.tags[i] >> 32];
      if (row == kGone) continue;
      s.values[out] = s.values[i];
      s.tags[out] = (row << 32) | (s.tags[i] & kDrawMask);
      ++out;
    }
    s.values.resize(out);
    s.tags.resize(out);
  }
  chains_ = chains;
  return absl::OkStatus();
}

absl::Status ConvergenceChecker::add(const diagnostics::Draws& block,
                                     const std::vector<std::size_t>& chains,
                                     std::size_t num_threads) {
  const std::size_t m = block.shape(0), b = block.shape(1), d = block.shape(2);
  if (chains.size() != m)
    return absl::InvalidArgumentError(
        absl::StrCat("block has ", m, " rows but ", chains.size(), " chain indices"));
  if (started_ && d != sorted_.size() && m > 0)
    return absl::InvalidArgumentError(absl::StrCat("block has ", d, " dimensions, earlier blocks ",
                                                   sorted_.size()));
  const double* x = block.data();
  const auto bad = std::find_if(x, x + block.size(), [](double v) { return !std::isfinite(v); });
  if (bad != x + block.size())
    return absl::InvalidArgumentError(
        absl::StrCat("draw ", bad - x, " (flat index) is not finite: ", *bad));
  if (num_draws_ + b > kDrawMask || m > kDrawMask)
    return absl::InvalidArgumentError("too many draws or chains for the convergence check");
  if (!started_) {
    sorted_.assign(d, Sorted{});
    chains_ = chains;
    started_ = true;
  } else if (auto s = drop_chains(chains, num_threads); !s.ok()) {
    return s;
  }
  // Kept whole until every parameter has merged it (catch_up).
  pending_.push_back(Pending{block, num_draws_});
  num_draws_ += b;
  return absl::OkStatus();
}

void ConvergenceChecker::catch_up(std::size_t k) {
  Sorted& s = sorted_[k];
  const std::size_t first = s.merged - pending_base_;
  if (first == pending_.size()) return;
  // The pending draws of parameter k in block, row, draw order, sorted in
  // chunks that the 8-bit radix sort takes (the 11-bit one, beyond, is
  // slowed by its scattered writes), each merged into the draws so far in
  // place. Ties keep the earlier draws first at every merge: the order of
  // a stable sort of all draws so far, as block by block (and ties share a
  // rank anyway).
  constexpr std::size_t kChunk = (std::size_t{1} << 16) - 1;
  const std::size_t d = sorted_.size();
  std::size_t total = s.values.size();
  for (std::size_t p = first; p < pending_.size(); ++p) total += pending_[p].block.size() / d;
  s.values.reserve(total);
  s.tags.reserve(total);
  std::vector<double> values, chunk;
  std::vector<std::uint64_t> tags, chunk_tags;  // reused by every chunk
  for (std::size_t p = first; p < pending_.size(); ++p) {
    const diagnostics::Draws& block = pending_[p].block;
    const std::size_t b = block.shape(1), size = block.shape(0) * b;
    const double* x = block.data();
    for (std::size_t start = 0; start < size; start += kChunk) {
      const std::size_t len = std::min(kChunk, size - start);
      values.resize(len);
      tags.resize(len);
      for (std::size_t j = 0; j < len; ++j) {
        const std::size_t i = start + j;
        values[j] = x[i * d + k];
        tags[j] = (static_cast<std::uint64_t>(i / b) << 32) | (pending_[p].first_draw + i % b);
      }
      const std::vector<std::size_t> order = diagnostics::argsort(values);
      chunk.resize(len);
      chunk_tags.resize(len);
      for (std::size_t j = 0; j < len; ++j) {
        chunk[j] = values[order[j]];
        chunk_tags[j] = tags[order[j]];
      }
      merge_into(s.values, s.tags, chunk, chunk_tags);
    }
  }
  s.merged = pending_base_ + pending_.size();
}

absl::StatusOr<ConvergenceVerdict> ConvergenceChecker::check(const ConvergenceOptions& options,
                                                             std::size_t num_threads,
                                                             bool stop_at_first_failure) {
  if (auto s = validate(options); !s.ok()) return s;
  const std::size_t m = chains_.size(), n = num_draws_, d = sorted_.size();
  if (m == 0) return absl::InvalidArgumentError("draws have no chain");
  if (n < diagnostics::kMinDraws)
    return absl::InvalidArgumentError(absl::StrCat(
        "diagnostics need at least ", diagnostics::kMinDraws, " draws per chain, got ", n));
  if (d == 0) return absl::InvalidArgumentError("draws have no dimension");
  const SplitLayout split{m, n / 2, n - n / 2};
  std::vector<double> rhat(d), bulk(d), tail(d);
  const std::size_t t = std::max<std::size_t>(1, std::min(num_threads, d));
  std::vector<Scratch> scratch(t);
  for (Scratch& s : scratch) {
    s.z = diagnostics::ChainDraws::from_shape({2 * m, split.half});
    s.z_folded = diagnostics::ChainDraws::from_shape({2 * m, split.half});
    s.indicator = diagnostics::ChainDraws::from_shape({2 * m, split.half});
  }
  // The rank-normal scores of the untied ranks, shared by every parameter
  // (bulk and folded) and computed once, by all threads.
  const std::size_t num_split = 2 * m * split.half;
  std::vector<double> scores(num_split);
  for_each_dimension(t, t, [&](std::size_t part) {
    for (std::size_t r = part; r < num_split; r += t)
      scores[r] = diagnostics::rank_normal_score(r + 1, num_split);
  });
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
  // Threads take the next position in `order`; with the early exit none
  // starts a position past a known failure, so every position before the
  // first failure is evaluated whatever the number of threads.
  std::atomic<std::size_t> next{0}, first_failure{d};
  for_each_dimension(t, t, [&](std::size_t thread) {
    for (std::size_t p = next++; p < d; p = next++) {
      if (stop_at_first_failure && p > first_failure.load()) break;
      const std::size_t k = order[p];
      catch_up(k);
      const Values v = values_of(sorted_[k].values, sorted_[k].tags, split, scores,
                                 scratch[thread]);
      rhat[k] = v.rhat, bulk[k] = v.bulk, tail[k] = v.tail;
      if (passes(k)) continue;
      std::size_t seen = first_failure.load();
      while (p < seen && !first_failure.compare_exchange_weak(seen, p)) {
      }
    }
  });
  // Blocks every parameter has merged are not needed any more.
  std::size_t all_merged = sorted_[0].merged;
  for (const Sorted& s : sorted_) all_merged = std::min(all_merged, s.merged);
  for (; pending_base_ < all_merged; ++pending_base_) pending_.pop_front();

  ConvergenceVerdict v;
  v.num_chains = m;
  v.num_draws = n;
  v.parameters_checked = d;
  const std::size_t failed = first_failure.load();
  if (failed < d) first_failed_ = order[failed];
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
