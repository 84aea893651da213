#include "nutshell/diagnostics/sorted_draws.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "nutshell/diagnostics/quantile.hpp"
#include "nutshell/diagnostics/transforms.hpp"

namespace nutshell::diagnostics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::uint64_t kDrawMask = 0xffffffffULL;
constexpr std::size_t kExcluded = std::numeric_limits<std::size_t>::max();

// Sizes a scratch array to n entries whose old contents are not needed:
// growing past its capacity reallocates without copying them (a plain
// resize copied the old entries, a tenth of a check). The new capacity is
// twice n: a fresh array costs a page fault per 4 KiB page touched (about
// 5 us each on this VM, so a convergence check on fresh buffers took 2.5x
// one on warm ones), and with room for the next check or two (the draws
// grow by half at each by default) only the pages past the last check's
// size are new. The unused capacity is address space, not memory.
template <class V>
void size_for_overwrite(V& v, std::size_t n) {
  if (n > v.capacity()) {
    v.clear();
    v.reserve(2 * n + 1024);
  }
  v.resize(n);
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

// posterior's rhat, ess_bulk and ess_tail of one parameter from its sorted
// draws, composed as diagnostics.cpp composes them (see the file comment of
// sorted_draws.hpp).
RankDiagnostics values_of(const UninitVector<double>& v,
                          const UninitVector<std::uint64_t>& tags, const SplitLayout& split,
                          std::span<const double> scores, SortedScratch& s) {
  const std::size_t n_all = v.size();
  const std::size_t num_split = 2 * split.m * split.half;
  size_for_overwrite(s.z, num_split);
  size_for_overwrite(s.z_folded, num_split);
  size_for_overwrite(s.indicator, num_split);
  const ChainsView z{s.z.data(), 2 * split.m, split.half};
  const ChainsView z_folded{s.z_folded.data(), 2 * split.m, split.half};
  const ChainsView indicator{s.indicator.data(), 2 * split.m, split.half};
  // Bulk: ranks of the split chains' draws. Every draw is written and the
  // excluded middle draws overwritten by the next (no branch per draw).
  size_for_overwrite(s.values, n_all + 1);
  size_for_overwrite(s.dest, n_all + 1);
  size_for_overwrite(s.position, n_all);
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
  z_scale_sorted(ranked, dest, s.z.data(), scores);
  // Folded: |x - median of all draws|, in ascending order by walking out
  // from the median (each side is monotone in the rounded difference too).
  const double med = median_sorted(v);
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
  z_scale_sorted(ranked, dest, s.z_folded.data(), scores);
  RankDiagnostics out{kNaN, kNaN, kNaN};
  const RhatEss bulk = rhat_ess_unchecked(z, s.workspace);
  const double tail_rhat = rhat_unchecked(z_folded, s.workspace);
  if (!std::isnan(bulk.rhat) && !std::isnan(tail_rhat)) out.rhat = std::max(bulk.rhat, tail_rhat);
  out.ess_bulk = bulk.ess;
  // Tail: ESS of the split indicators x <= quantile, a prefix of v.
  if (std::abs(v.back() - v.front()) < std::numeric_limits<double>::epsilon()) return out;
  double ess[2];
  const double probs[2] = {0.05, 0.95};
  for (int q = 0; q < 2; ++q) {
    const double threshold = quantile_sorted(v, probs[q]);
    std::fill(s.indicator.begin(), s.indicator.end(), 0.0);
    for (std::size_t i = 0; i < n_all && v[i] <= threshold; ++i) {
      const std::size_t p = s.position[i];
      if (p != kExcluded) s.indicator.data()[p] = 1.0;
    }
    ess[q] = ess_unchecked(indicator, s.workspace);
  }
  if (!std::isnan(ess[0]) && !std::isnan(ess[1])) out.ess_tail = std::min(ess[0], ess[1]);
  return out;
}

// Unsigned keys in the order of the doubles: + 0.0 maps -0.0 to +0.0,
// which compare equal and must tie.
std::uint64_t sort_key(double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v + 0.0);
  return (bits >> 63) ? ~bits : bits | (std::uint64_t{1} << 63);
}
// The double of a key (a -0.0 comes back as +0.0: equal, and every use
// of the sorted draws compares them or takes |x - median|).
double value_of_key(std::uint64_t key) {
  return std::bit_cast<double>((key >> 63) ? key & ~(std::uint64_t{1} << 63) : ~key);
}

// Sorts scratch's (keys, tags) pairs by key, ties in their order (a stable
// sort), in place in scratch.keys and scratch.tags. Sorting the pairs
// themselves, not an index into them, saves the gathers of an index sort.
//
// How: least-significant-digit radix on 8-bit digits of the keys' high 32
// bits only (sign, exponent and 20 bits of mantissa; a digit every key
// shares is skipped), then each run of equal high halves is sorted by the
// low halves, stably: insertion sort for short runs, std::stable_sort for
// long ones (draws equal in their high 32 bits are rare, about one pair in
// 10^6 of a normal sample, so the runs are nearly all of length 1). Half
// the radix passes of sorting all 64 bits, the same order.
void sort_pairs(SortedScratch& s) {
  const std::size_t n = s.keys.size();
  auto insertion_sort = [&](std::size_t from, std::size_t to) {
    std::uint64_t* keys = s.keys.data();
    std::uint64_t* tags = s.tags.data();
    for (std::size_t i = from + 1; i < to; ++i) {
      const std::uint64_t key = keys[i], tag = tags[i];
      std::size_t j = i;
      for (; j > from && keys[j - 1] > key; --j) keys[j] = keys[j - 1], tags[j] = tags[j - 1];
      keys[j] = key, tags[j] = tag;
    }
  };
  if (n <= 64) return insertion_sort(0, n);
  constexpr int kBits = 8, kFirst = 4, kPasses = 8;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  std::size_t counts[kPasses][kBuckets] = {};
  for (std::size_t i = 0; i < n; ++i)
    for (int p = kFirst; p < kPasses; ++p)
      ++counts[p][(s.keys[i] >> (p * kBits)) & (kBuckets - 1)];
  size_for_overwrite(s.keys_next, n);
  size_for_overwrite(s.tags_next, n);
  for (int p = kFirst; p < kPasses; ++p) {
    std::size_t* count = counts[p];
    const int shift = p * kBits;
    if (count[(s.keys[0] >> shift) & (kBuckets - 1)] == n) continue;
    std::size_t offset = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::size_t c = count[b];
      count[b] = offset;
      offset += c;
    }
    const std::uint64_t* from_keys = s.keys.data();
    const std::uint64_t* from_tags = s.tags.data();
    std::uint64_t* to_keys = s.keys_next.data();
    std::uint64_t* to_tags = s.tags_next.data();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t dest = count[(from_keys[i] >> shift) & (kBuckets - 1)]++;
      to_keys[dest] = from_keys[i];
      to_tags[dest] = from_tags[i];
    }
    s.keys.swap(s.keys_next);
    s.tags.swap(s.tags_next);
  }
  // Runs of equal high halves, by their low halves.
  const std::uint64_t* keys = s.keys.data();
  for (std::size_t i = 0; i + 1 < n;) {
    if ((keys[i] >> 32) != (keys[i + 1] >> 32)) {
      ++i;
      continue;
    }
    std::size_t j = i + 2;
    bool tied = keys[i] == keys[i + 1];
    while (j < n && (keys[j] >> 32) == (keys[i] >> 32)) tied = tied && keys[j] == keys[i], ++j;
    if (tied) {
      // Exact ties (discrete draws) are in order already.
    } else if (j - i <= 32) {
      insertion_sort(i, j);
    } else {
      std::vector<std::pair<std::uint64_t, std::uint64_t>> run(j - i);
      for (std::size_t r = i; r < j; ++r) run[r - i] = {s.keys[r], s.tags[r]};
      std::stable_sort(run.begin(), run.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t r = i; r < j; ++r) s.keys[r] = run[r - i].first, s.tags[r] = run[r - i].second;
    }
    keys = s.keys.data();
    i = j;
  }
}

}  // namespace

void sort_draws(std::span<const BlockView> blocks, std::size_t k, TaggedDraws& out,
                SortedScratch& s) {
  std::size_t total = 0;
  for (const BlockView& b : blocks) total += b.rows * b.draws;
  size_for_overwrite(s.keys, total);
  size_for_overwrite(s.tags, total);
  std::size_t at = 0;
  for (const BlockView& b : blocks) {
    const double* x = b.data + k;
    for (std::size_t r = 0; r < b.rows; ++r)
      for (std::size_t j = 0; j < b.draws; ++j, ++at, x += b.dim) {
        s.keys[at] = sort_key(*x);
        s.tags[at] = draw_tag(r, b.first_draw + j);
      }
  }
  sort_pairs(s);
  size_for_overwrite(out.values, total);
  for (std::size_t i = 0; i < total; ++i) out.values[i] = value_of_key(s.keys[i]);
  out.tags.swap(s.tags);
}

std::vector<std::size_t> argsort_radix(std::span<const double> v) {
  SortedScratch s;
  s.keys.resize(v.size());
  s.tags.resize(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) s.keys[i] = sort_key(v[i]), s.tags[i] = i;
  sort_pairs(s);
  return std::vector<std::size_t>(s.tags.begin(), s.tags.end());
}

void rank_normal_scores(std::size_t count, std::span<double> out) {
  for (std::size_t r = 0; r < count; ++r) out[r] = rank_normal_score(r + 1, count);
}

RankDiagnostics rank_diagnostics_sorted(const TaggedDraws& sorted, std::size_t chains,
                                        std::size_t draws, std::span<const double> scores,
                                        SortedScratch& s) {
  const SplitLayout split{chains, draws / 2, draws - draws / 2};
  return values_of(sorted.values, sorted.tags, split, scores, s);
}

}  // namespace nutshell::diagnostics
