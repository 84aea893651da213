// `sample` over an executor: the chains are spread over the ranks (and
// over threads within each rank), each keyed exactly as `sample` keys it,
// and gathered to rank 0, so the result is bitwise a single-process
// `sample`'s with the same key, whatever the numbers of ranks and threads.
// communicator.hpp gives the MPI form, distributed::sample(comm, ...).
#pragma once

#include <algorithm>
#include <stdexcept>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/distributed/chain_files.hpp"
#include "nutshell/distributed/chain_piece.hpp"
#include "nutshell/distributed/cross_chain.hpp"
#include "nutshell/distributed/executor.hpp"
#include "nutshell/distributed/merge.hpp"
#include "nutshell/distributed/wire.hpp"
#include "nutshell/run/resume.hpp"
#include "nutshell/run/sample.hpp"

namespace nutshell::distributed {

/// What a distributed run adds to SampleOptions.
struct Options {
  /// Sampling steps between a chain's checkpoint files (a multiple of
  /// SampleOptions::thinning); 0 writes none. Each rank writes its own
  /// chains' files (chain_files.hpp), after warmup plus the first interval,
  /// then after every further interval.
  std::size_t checkpoint_interval = 0;
  /// The directory of the checkpoint files (it must exist and be shared by
  /// the ranks, or each rank's part of it kept, across a restart). A call
  /// whose chains have files there continues them: a job that lost a rank
  /// is started again with the same arguments.
  std::string checkpoint_dir;
};

namespace detail {
template <class State, class Params, class Info>
std::string pieces_bytes(const std::vector<ChainPiece<State, Params, Info>>& pieces) {
  Writer w;
  w.u64(pieces.size());
  for (const auto& p : pieces) write(w, p);
  return w.take();
}

template <class State, class Params, class Info>
absl::Status read_pieces(const std::string& bytes, int rank,
                         std::vector<ChainPiece<State, Params, Info>>& out) {
  Reader r(bytes);
  const std::uint64_t n = r.u64();
  if (auto s = r.status(absl::StrCat("rank ", rank, "'s chains")); !s.ok()) return s;
  for (std::uint64_t i = 0; i < n; ++i) {
    auto p = read_piece<State, Params, Info>(r);
    if (!p.ok())
      return absl::Status(p.status().code(), absl::StrCat("rank ", rank, ": ", p.status().message()));
    out.push_back(*std::move(p));
  }
  return absl::OkStatus();
}

/// The step callback the segments run with: the user's, whose stop is not
/// honoured (a stop at different steps on different ranks has no
/// rank-independent meaning).
template <class Callback>
struct ContinueCallback {
  const Callback* user;
  template <class E>
  Control operator()(const E& e) const {
    auto c = nutshell::detail::invoke_callback(*user, e);
    if (!c.ok()) throw std::runtime_error(std::string(c.status().message()));  // fails the chain
    return Control::kContinue;
  }
};

/// True for the warmups whose chains adapt together (every rank's chains
/// take part in every iteration).
inline bool lockstep_warmup(const SampleOptions& o) {
  return o.warmup == Warmup::kChees || o.warmup == Warmup::kMeads;
}

/// True on every rank when `mine` is true on any.
template <ChainExecutor E>
bool on_any_rank(const E& exec, bool mine) {
  for (const std::string& b : exec.allgather(std::string(1, mine ? '1' : '0')))
    if (b == "1") return true;
  return false;
}

/// Runs this process's chains `mine` (all steps, in checkpointed segments
/// when asked) and returns their pieces in that order.
template <ChainExecutor E, class K, class G, class Callback>
auto run_mine(const E& exec, const Key& key, const K& kernel, const G& g, const InitialPositions& initial,
              const SampleOptions& options, const Options& dopts, const Callback& callback,
              const std::vector<std::size_t>& mine, std::size_t num_chains) {
  const int rank = exec.rank();
  using D = DrawsOf<K, G>;
  using State = typename adaptation::KernelTypes<K, G>::State;
  using Params = typename adaptation::KernelTypes<K, G>::Params;
  using Info = typename adaptation::KernelTypes<K, G>::Info;
  using Piece = ChainPiece<State, Params, Info>;
  std::vector<Piece> pieces(mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i) pieces[i].chain = mine[i], pieces[i].rank = rank;
  if (mine.empty()) return pieces;  // more ranks than chains
  auto cb = [&] {
    if constexpr (std::is_same_v<Callback, NoCallback>) return NoCallback{};
    else return ContinueCallback<Callback>{&callback};
  }();
  const std::size_t interval = dopts.checkpoint_interval;
  SampleOptions o = options;
  o.summarize = false;  // rank 0 summarises the merged chains (merge.hpp)
  if (interval == 0) {
    o.chains = mine;
    absl::StatusOr<D> d = nutshell::sample(key, kernel, g, initial, o, cb);
    return pieces_from_draws(d, mine, rank);
  }
  const RunFingerprint run = RunFingerprint::of(key, num_chains, options);
  auto save = [&](Piece& p) {
    if (!p.status.ok()) return;
    if (auto s = save_piece(dopts.checkpoint_dir, run, p); !s.ok())
      p.status = nutshell::distributed::detail::on_rank(s, p.chain, rank);
  };
  // Chains with a file continue from it; the others start (warmup and the
  // first interval).
  std::vector<std::size_t> fresh, fresh_at;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    auto p = load_piece<State, Params, Info>(dopts.checkpoint_dir, run, mine[i]);
    if (p.ok()) {
      pieces[i] = *std::move(p);
      pieces[i].rank = rank;
    } else if (absl::IsNotFound(p.status())) {
      fresh.push_back(mine[i]);
      fresh_at.push_back(i);
    } else {
      pieces[i].status = nutshell::distributed::detail::on_rank(p.status(), mine[i], rank);
    }
  }
  // A lockstep warmup needs every rank's chains in every iteration: when
  // any chain anywhere starts afresh, every rank warms all of its chains
  // up again (the same states, bitwise) and keeps its restored pieces.
  if (lockstep_warmup(options) && on_any_rank(exec, !fresh.empty())) {
    std::vector<std::size_t> keep_at;
    for (std::size_t i = 0; i < mine.size(); ++i)
      if (std::find(fresh_at.begin(), fresh_at.end(), i) == fresh_at.end()) keep_at.push_back(i);
    std::vector<Piece> kept;
    for (std::size_t i : keep_at) kept.push_back(std::move(pieces[i]));
    fresh = mine;
    fresh_at.clear();
    for (std::size_t i = 0; i < mine.size(); ++i) fresh_at.push_back(i);
    o.chains = fresh;
    o.num_samples = std::min(interval, options.num_samples);
    absl::StatusOr<D> d = nutshell::sample(key, kernel, g, initial, o, cb);
    auto got = pieces_from_draws(d, fresh, rank);
    for (std::size_t j = 0; j < fresh.size(); ++j) pieces[j] = std::move(got[j]);
    for (std::size_t k = 0; k < keep_at.size(); ++k) pieces[keep_at[k]] = std::move(kept[k]);
    for (std::size_t j = 0; j < fresh.size(); ++j)
      if (std::find(keep_at.begin(), keep_at.end(), j) == keep_at.end()) save(pieces[j]);
    fresh.clear();
  }
  if (!fresh.empty()) {
    o.chains = fresh;
    o.num_samples = std::min(interval, options.num_samples);
    absl::StatusOr<D> d = nutshell::sample(key, kernel, g, initial, o, cb);
    auto got = pieces_from_draws(d, fresh, rank);
    for (std::size_t j = 0; j < fresh.size(); ++j) {
      pieces[fresh_at[j]] = std::move(got[j]);
      save(pieces[fresh_at[j]]);
    }
  }
  o.chains.reset();
  // Then segment after segment, the chains furthest behind first, so chains
  // restored at different points run in groups that share a length.
  for (;;) {
    std::uint64_t at = options.num_samples;
    for (const auto& p : pieces)
      if (p.status.ok()) at = std::min<std::uint64_t>(at, p.end.next_step);
    if (at >= options.num_samples) break;
    std::vector<std::size_t> group, group_at;
    std::vector<checkpoint::ChainCheckpoint<State, Params>> cps;
    for (std::size_t i = 0; i < pieces.size(); ++i)
      if (pieces[i].status.ok() && pieces[i].end.next_step == at) {
        group.push_back(pieces[i].chain);
        group_at.push_back(i);
        cps.push_back(pieces[i].end);
      }
    o.num_samples = static_cast<std::size_t>(std::min<std::uint64_t>(interval, options.num_samples - at));
    absl::StatusOr<D> d = nutshell::resume(cps, kernel, g, o, cb);
    auto got = pieces_from_draws(d, group, rank);
    for (std::size_t j = 0; j < group.size(); ++j) {
      append(pieces[group_at[j]], std::move(got[j]));
      save(pieces[group_at[j]]);
    }
  }
  return pieces;
}
}  // namespace detail

/// `sample` with the chains spread over executor `exec`'s ranks (see the
/// file comment): the same arguments, plus `dopts` (checkpoints). Every
/// rank calls it with the same arguments. Rank 0 receives the whole run,
/// bitwise a single-process `sample(key, kernel, logdensity, initial,
/// options)` except for timings and the Infos' vectors (only their scalar
/// members travel); a failed chain is named with its rank in `status` and
/// `chain_status` and every other chain's draws arrive. Another rank
/// receives the Draws of its own chains only (NotFound when it ran none).
/// A checkpoint_interval writes per-chain files; called again after a
/// lost rank, the run continues from them, bitwise as an unbroken run.
/// The callback sees every step of this rank's chains; its stop is not
/// honoured. Not for mixed compositions (their starts are not positions).
template <ChainExecutor E, class K, class F, class Callback = NoCallback>
  requires nutshell::detail::KernelFor<K, std::decay_t<F>>
auto sample_on(const E& exec, const Key& key, K kernel, F&& logdensity, InitialPositions initial,
               const SampleOptions& options = {}, const Options& dopts = {},
               const Callback& callback = {}) -> absl::StatusOr<DrawsOf<K, std::decay_t<F>>> {
  using G = std::decay_t<F>;
  using Types = adaptation::KernelTypes<K, G>;
  using Piece = ChainPiece<typename Types::State, typename Types::Params, typename Types::Info>;
  static_assert(nutshell::detail::PositionInitializable<K, G>,
                "distributed::sample starts chains from positions (not a mixed composition)");
  G g(std::forward<F>(logdensity));
  const int rank = exec.rank(), size = exec.num_ranks();
  const std::size_t n = initial.num_chains(options);
  absl::Status bad;
  if (options.chains)
    bad = absl::InvalidArgumentError("options.chains is set by distributed::sample: leave it unset");
  else if (dopts.checkpoint_interval > 0 &&
           (options.thinning == 0 || dopts.checkpoint_interval % options.thinning != 0))
    bad = absl::InvalidArgumentError("checkpoint_interval must be a multiple of thinning");
  else if (dopts.checkpoint_interval > 0 && dopts.checkpoint_dir.empty())
    bad = absl::InvalidArgumentError("checkpoint_interval needs a checkpoint_dir");
  else if (detail::lockstep_warmup(options) && n < static_cast<std::size_t>(size))
    bad = absl::InvalidArgumentError(absl::StrCat("a lockstep warmup over ", size,
                                                  " ranks needs at least ", size, " chains, got ", n));
  const std::vector<std::size_t> mine = owned_chains(rank, size, n);
  std::vector<Piece> pieces;
  if (bad.ok()) {
    SampleOptions o = options;
    o.progress_bar = options.progress_bar && rank == 0;
    if (detail::lockstep_warmup(options)) o.cross_chain_exchange = CrossChainExchange<E>{&exec};
    pieces = detail::run_mine(exec, key, kernel, g, initial, o, dopts, callback, mine, n);
  }
  // Every rank takes part in the gather, even after an error, so no rank
  // waits for one that gave up.
  std::vector<std::string> all = exec.gather(detail::pieces_bytes(pieces));
  if (!bad.ok()) return bad;
  if (rank != 0) {
    if (mine.empty())
      return absl::NotFoundError(absl::StrCat("rank ", rank, " of ", size, " ran none of the ", n,
                                              " chains; the draws are on rank 0"));
    return merge(std::move(pieces), mine, options);  // rows: this rank's chains
  }
  std::vector<Piece> everything;
  for (std::size_t r = 0; r < all.size(); ++r)
    if (auto s = detail::read_pieces(all[r], static_cast<int>(r), everything); !s.ok()) return s;
  std::vector<std::size_t> chains(n);
  for (std::size_t c = 0; c < n; ++c) chains[c] = c;
  return merge(std::move(everything), chains, options);
}

}  // namespace nutshell::distributed
