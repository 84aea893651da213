// Where the chains of a multi-chain call run: the one place a driver learns
// which chains are its own and how their results meet.
//
// A driver over chains (distributed::sample, the convergence loop, any
// future cross-chain combinator) is written once against an executor:
//   * owned_chains(e, n): the chains this process runs, each keyed
//     split_one(key, c) exactly as `sample` keys chain c, and run on this
//     process's threads by pmap (PmapOptions::chains, SampleOptions::chains);
//   * e.gather(bytes): every process's bytes, in rank order, on rank 0
//     (empty elsewhere); e.allgather(bytes): the same on every rank, for
//     decisions every rank must take identically (when to stop).
// LocalExecutor is one process (no MPI: gathering is the identity); the
// MPI executor (communicator.hpp) spreads chains over ranks. Because a
// chain's draws depend only on the key and its index, the split never
// changes a result.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nutshell::distributed {

/// What a driver needs of an executor (see the file comment).
template <class E>
concept ChainExecutor = requires(const E& e, std::string bytes) {
  { e.rank() } -> std::convertible_to<int>;
  { e.num_ranks() } -> std::convertible_to<int>;
  { e.gather(std::move(bytes)) } -> std::same_as<std::vector<std::string>>;
  { e.allgather(std::move(bytes)) } -> std::same_as<std::vector<std::string>>;
};

/// The chains of 0..num_chains-1 that rank `rank` of `num_ranks` runs:
/// round robin (c % num_ranks == rank), so every rank gets chains from the
/// whole range and ranks differ by at most one chain.
inline std::vector<std::size_t> owned_chains(int rank, int num_ranks, std::size_t num_chains) {
  std::vector<std::size_t> out;
  if (num_ranks <= 0 || rank < 0) return out;
  for (std::size_t c = static_cast<std::size_t>(rank); c < num_chains;
       c += static_cast<std::size_t>(num_ranks))
    out.push_back(c);
  return out;
}

/// The chains executor `e` runs on this process.
template <ChainExecutor E>
std::vector<std::size_t> owned_chains(const E& e, std::size_t num_chains) {
  return owned_chains(e.rank(), e.num_ranks(), num_chains);
}

/// One process: every chain is its own, and gathering returns its bytes.
struct LocalExecutor {
  int rank() const { return 0; }
  int num_ranks() const { return 1; }
  /// This process's bytes (it is rank 0).
  std::vector<std::string> gather(std::string bytes) const { return {std::move(bytes)}; }
  /// This process's bytes.
  std::vector<std::string> allgather(std::string bytes) const { return {std::move(bytes)}; }
};

}  // namespace nutshell::distributed
