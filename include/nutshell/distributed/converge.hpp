// Sampling until converged across ranks: the MPI chain backend of
// run/converge_loop.hpp. Each rank runs its own chains (owned_chains, each
// keyed as in `sample`), block after block; after each block every rank's
// positions are allgathered, so every rank holds the same draws of every
// chain, computes the same verdict and stops at the same block, whatever
// the numbers of ranks and threads. The joined run is then gathered to
// rank 0 as distributed::sample gathers.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <cstddef>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/distributed/chain_piece.hpp"
#include "nutshell/distributed/executor.hpp"
#include "nutshell/distributed/merge.hpp"
#include "nutshell/distributed/sample.hpp"
#include "nutshell/distributed/wire.hpp"
#include "nutshell/run/converge.hpp"
#include "nutshell/run/converge_loop.hpp"
#include "nutshell/run/resume.hpp"
#include "nutshell/run/sample.hpp"

namespace nutshell::distributed {

namespace detail {
/// Every rank's rows of one block, in increasing chain order, on every rank.
inline absl::StatusOr<BlockPositions> allgather_block(const std::vector<std::string>& all) {
  struct Row {
    std::size_t chain;
    const double* data;
  };
  std::vector<std::vector<double>> bufs(all.size());
  std::vector<Row> rows;
  std::size_t draws = 0, dim = 0;
  bool have = false, stopped = false;
  for (std::size_t r = 0; r < all.size(); ++r) {
    Reader in(all[r]);
    stopped |= in.u64() != 0;
    const std::size_t m = in.u64(), n = in.u64(), d = in.u64();
    std::vector<double> chains = in.f64s();
    bufs[r] = in.f64s();
    if (auto s = in.status(absl::StrCat("rank ", r, "'s block")); !s.ok()) return s;
    if (m == 0) continue;
    if (chains.size() != m || bufs[r].size() != m * n * d)
      return absl::DataLossError(absl::StrCat("rank ", r, "'s block: sizes disagree"));
    if (have && (n != draws || d != dim))
      return absl::InternalError(absl::StrCat("rank ", r, "'s block has ", n, " draws of dimension ", d,
                                              ", another rank's ", draws, " of ", dim));
    have = true, draws = n, dim = d;
    for (std::size_t i = 0; i < m; ++i)
      rows.push_back({static_cast<std::size_t>(chains[i]), bufs[r].data() + i * n * d});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.chain < b.chain; });
  BlockPositions out;
  out.stopped = stopped;
  out.positions = diagnostics::Draws::from_shape({rows.size(), draws, dim});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.chains.push_back(rows[i].chain);
    if (draws * dim) std::copy(rows[i].data, rows[i].data + draws * dim, &out.positions(i, 0, 0));
  }
  return out;
}
}  // namespace detail

/// The chain backend of run_until_converged on executor E (see the file
/// comment): this rank's chains by `sample` with SampleOptions::chains,
/// then `resume`; gather is an allgather.
template <ChainExecutor E, class K, class G, class Callback = NoCallback>
struct ExecutorBackend {
  using Result = DrawsOf<K, G>;

  const E* exec;
  Key key;
  K kernel;
  G logdensity;
  InitialPositions initial;
  SampleOptions options;              ///< num_samples and chains are set per block
  std::vector<std::size_t> mine;      ///< this rank's chains
  detail::ContinueCallback<Callback> callback;

  absl::StatusOr<Result> first_block(std::size_t num_samples) {
    SampleOptions o = options;
    o.num_samples = num_samples;
    o.summarize = false;  // finish_run summarises the joined blocks once
    o.chains = mine;
    return agree(nutshell::sample(key, kernel, logdensity, initial, o, callback));
  }
  absl::StatusOr<Result> next_block(const Result& previous, std::size_t num_samples) {
    SampleOptions o = options;
    o.num_samples = num_samples;
    o.summarize = false;  // finish_run summarises the joined blocks once
    return agree(nutshell::resume(previous.checkpoints, kernel, logdensity, o, callback));
  }
  /// A block fails on every rank when it fails on one (e.g. all of a rank's
  /// chains failed), so no rank waits in a gather for one that left the loop.
  absl::StatusOr<Result> agree(absl::StatusOr<Result> block) const {
    Writer w;
    w.u64(static_cast<std::uint64_t>(block.status().code()));
    w.str(std::string(block.status().message()));
    const std::vector<std::string> all = exec->allgather(w.take());
    for (std::size_t r = 0; r < all.size(); ++r) {
      Reader in(all[r]);
      const auto code = static_cast<absl::StatusCode>(in.u64());
      const std::string message = in.str();
      if (code != absl::StatusCode::kOk)
        return absl::Status(code, absl::StrCat("rank ", r, ": ", message));
    }
    return block;
  }
  absl::StatusOr<BlockPositions> gather(BlockPositions local) {
    Writer w;
    w.u64(local.stopped ? 1 : 0);
    const auto& p = local.positions;
    const std::size_t m = local.chains.size();
    w.u64(m);
    w.u64(m ? p.shape(1) : 0);
    w.u64(m ? p.shape(2) : 0);
    std::vector<double> chains(local.chains.begin(), local.chains.end());
    w.f64s(chains);
    w.f64s(m ? p.data() : nullptr, m ? p.size() : 0);
    return detail::allgather_block(exec->allgather(w.take()));
  }
};

/// Sampling until converged with the chains spread over executor `exec`'s
/// ranks (the file comment): `sample_until_converged`'s arguments, called
/// by every rank alike. Every rank checks the same draws of all chains and
/// stops at the same block; the stop point and, on rank 0, the draws (all
/// chains, gathered as distributed::sample gathers) are bitwise the
/// single-process `sample_until_converged`'s, whatever the numbers of
/// ranks and threads. Another rank's `draws` are its own chains. Needs at
/// least as many chains as ranks. The callback sees this rank's chains'
/// steps; its stop is not honoured.
template <ChainExecutor E, class K, class F, class Callback = NoCallback>
  requires nutshell::detail::KernelFor<K, std::decay_t<F>>
absl::StatusOr<ConvergedDraws<DrawsOf<K, std::decay_t<F>>>> sample_until_converged_on(
    const E& exec, const Key& key, K kernel, F&& logdensity, InitialPositions initial,
    const SampleOptions& options, const ConvergenceOptions& convergence, const Callback& callback = {}) {
  using G = std::decay_t<F>;
  using Types = adaptation::KernelTypes<K, G>;
  using Piece = ChainPiece<typename Types::State, typename Types::Params, typename Types::Info>;
  static_assert(nutshell::detail::PositionInitializable<K, G>,
                "distributed::sample_until_converged starts chains from positions");
  if (auto s = validate(convergence); !s.ok()) return s;
  if (options.chains)
    return absl::InvalidArgumentError("options.chains is set by distributed::sample_until_converged: leave it unset");
  const int rank = exec.rank(), size = exec.num_ranks();
  const std::size_t n = initial.num_chains(options);
  if (n < static_cast<std::size_t>(size))
    return absl::InvalidArgumentError(absl::StrCat("sample_until_converged over ", size, " ranks needs at least ",
                                                   size, " chains, got ", n));
  SampleOptions o = options;
  o.progress_bar = options.progress_bar && rank == 0;
  if (detail::lockstep_warmup(options)) o.cross_chain_exchange = CrossChainExchange<E>{&exec};
  ExecutorBackend<E, K, G, Callback> backend{&exec,   key, std::move(kernel), G(std::forward<F>(logdensity)),
                                             std::move(initial), o, owned_chains(rank, size, n),
                                             detail::ContinueCallback<Callback>{&callback}};
  std::ostream* progress = o.progress_bar && isatty(STDERR_FILENO) ? &std::cerr : nullptr;
  auto run = run_until_converged(backend, o, convergence, progress);
  // Every rank reached the same verdict; now the joined draws go to rank 0.
  std::vector<Piece> pieces;
  if (run.ok()) pieces = pieces_from_draws(absl::StatusOr<DrawsOf<K, G>>(run->draws), backend.mine, rank);
  std::vector<std::string> all = exec.gather(detail::pieces_bytes(pieces));
  if (!run.ok() || rank != 0) return run;
  std::vector<Piece> everything;
  for (std::size_t r = 0; r < all.size(); ++r)
    if (auto s = detail::read_pieces(all[r], static_cast<int>(r), everything); !s.ok()) return s;
  std::vector<std::size_t> chains(n);
  for (std::size_t c = 0; c < n; ++c) chains[c] = c;
  // The table of all chains from the last check's sorted columns (every
  // rank's checker held every chain), not a second sort at rank 0.
  auto merged = merge(std::move(everything), chains, options, run->ranked, run->verdict.num_chains,
                      run->verdict.num_draws);
  if (!merged.ok()) return merged.status();
  run->draws = *std::move(merged);
  return run;
}

}  // namespace nutshell::distributed
