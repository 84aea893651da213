// posterior's rank-normalised R-hat, bulk ESS and tail ESS of one parameter
// computed from its draws sorted once, bit for bit the values of rhat(),
// ess_bulk() and ess_tail() (diagnostics.hpp), which rank, fold and select
// the same draws three times over.
//
// Used by summary() (one sort per parameter of the table) and by the
// convergence check of sample_until_converged (run/converge_state.hpp).
//
// From the sorted draws, tagged with (chain, draw): the median and the
// 5% / 95% quantiles are read off directly; the split chains' ranks are the
// sorted order minus the middle draw of each odd-length chain; the folded
// draws |x - median| come out in order from a two-pointer walk outward from
// the median. So nothing is sorted twice. The split, rank-normalised chains
// then go through the same R-hat and ESS code as the public functions
// (unchecked.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "nutshell/diagnostics/unchecked.hpp"

namespace nutshell::diagnostics {

/// std::allocator whose resize leaves new doubles and integers
/// uninitialised: these arrays are always written before they are read,
/// and zeroing them first was a tenth of a convergence check.
template <class T>
struct UninitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) {}
  template <class U>
  void construct(U* p) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <class T>
using UninitVector = std::vector<T, UninitAllocator<T>>;

/// One parameter's draws ascending by value, each with its tag
/// (chain << 32 | draw); ties in the order they were added.
struct TaggedDraws {
  UninitVector<double> values;
  UninitVector<std::uint64_t> tags;
};

/// The tag of draw `draw` of chain `chain` (both < 2^32).
constexpr std::uint64_t draw_tag(std::size_t chain, std::size_t draw) {
  return (static_cast<std::uint64_t>(chain) << 32) | static_cast<std::uint64_t>(draw);
}

/// Buffers of sort_draws and rank_diagnostics_sorted, reusable across
/// calls and sizes (one per thread); they carry no values between calls.
struct SortedScratch {
  UninitVector<std::uint64_t> keys, keys_next, tags, tags_next;
  UninitVector<double> values;
  UninitVector<std::size_t> dest, position;
  UninitVector<double> z, z_folded, indicator;
  Workspace workspace;
};

/// Row-major [rows, draws, dim] draws; draw j of row r is chain r's draw
/// first_draw + j.
struct BlockView {
  const double* data = nullptr;
  std::size_t rows = 0, draws = 0, dim = 0, first_draw = 0;
};

/// Parameter k's draws in `blocks` (all with the same rows), sorted
/// ascending into `out` with their tags, ties in block, row, draw order (a
/// stable sort; a -0.0 is stored as +0.0, which it ties with). Draws must be
/// finite. About 15 ns per draw: keys and tags gathered, then a radix sort
/// of the keys' high halves (see the .cpp).
void sort_draws(std::span<const BlockView> blocks, std::size_t k, TaggedDraws& out,
                SortedScratch& s);

/// The positions of `v` (finite) in ascending order of value, ties in
/// position order, -0.0 tying with +0.0, by the radix sort of sort_draws:
/// argsort() (transforms.hpp) for more than 64 draws.
std::vector<std::size_t> argsort_radix(std::span<const double> v);

/// rank_normal_score(r + 1, count) for r in [0, count): the scores of the
/// untied ranks of `count` split draws, one table for every parameter.
void rank_normal_scores(std::size_t count, std::span<double> out);

/// rhat(), ess_bulk() and ess_tail() of one parameter.
struct RankDiagnostics {
  double rhat, ess_bulk, ess_tail;
};

/// The values of one parameter whose `chains` x `draws` draws are `sorted`
/// (from sort_draws; tags draw_tag(c, j) with c < chains, j < draws).
/// `scores` must be rank_normal_scores(2 * chains * (draws / 2)).
RankDiagnostics rank_diagnostics_sorted(const TaggedDraws& sorted, std::size_t chains,
                                        std::size_t draws, std::span<const double> scores,
                                        SortedScratch& s);

}  // namespace nutshell::diagnostics
