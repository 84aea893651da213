// MPI for nutshell: the job's environment and a communicator that is the
// executor of distributed drivers (executor.hpp), so a run spreads its
// chains over the ranks of `comm` with distributed::sample(comm, ...).
// This header, and //:mpi, are the only ones that need MPI: users who do
// not run across machines never link it.
#pragma once

#include <mpi.h>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nutshell/distributed/converge.hpp"
#include "nutshell/distributed/executor.hpp"
#include "nutshell/distributed/sample.hpp"

namespace nutshell::distributed {

/// MPI_Init_thread on construction (threads within a rank; only the
/// calling thread talks to MPI: MPI_THREAD_FUNNELED), MPI_Finalize on
/// destruction. One per program, in main; not needed when the program
/// initialises MPI itself.
class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  bool owns_ = false;
};

/// A communicator (not owned; MPI_COMM_WORLD by default) as an executor:
/// chains are spread over its ranks, results gathered over it. Its
/// collectives must be called by every rank, from the thread that
/// initialised MPI.
class Communicator {
 public:
  explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {}
  /// This process's rank.
  int rank() const;
  /// The number of ranks.
  int num_ranks() const;
  /// Every rank's bytes in rank order on rank 0; an empty vector elsewhere.
  /// Any size (sent in rounds of at most 1 GiB in all, MPI's counts
  /// being ints).
  std::vector<std::string> gather(std::string bytes) const;
  /// Every rank's bytes in rank order, on every rank.
  std::vector<std::string> allgather(std::string bytes) const;
  /// Waits for every rank.
  void barrier() const;
  /// The MPI handle.
  MPI_Comm handle() const { return comm_; }

 private:
  std::vector<std::string> collect(std::string bytes, bool everywhere) const;
  MPI_Comm comm_;
};

static_assert(ChainExecutor<Communicator>);

/// `sample` over the ranks of `comm` (see sample_on in sample.hpp): chain c
/// keyed split_one(key, c) as in `sample`, so rank 0's result is bitwise a
/// single-process run's whatever the numbers of ranks and threads
/// (options.num_threads threads per rank).
template <class K, class F, class Callback = NoCallback>
  requires nutshell::detail::KernelFor<K, std::decay_t<F>>
auto sample(const Communicator& comm, const Key& key, K kernel, F&& logdensity,
            InitialPositions initial, const SampleOptions& options = {}, const Options& dopts = {},
            const Callback& callback = {}) {
  return sample_on(comm, key, std::move(kernel), std::forward<F>(logdensity), std::move(initial),
                   options, dopts, callback);
}

/// `sample_until_converged` over the ranks of `comm` (converge.hpp): every
/// rank stops at the same block, the same as a single-process run's,
/// whatever the numbers of ranks and threads; rank 0 gets every chain.
template <class K, class F, class Callback = NoCallback>
  requires nutshell::detail::KernelFor<K, std::decay_t<F>>
auto sample_until_converged(const Communicator& comm, const Key& key, K kernel, F&& logdensity,
                            InitialPositions initial, const SampleOptions& options,
                            const ConvergenceOptions& convergence, const Callback& callback = {}) {
  return sample_until_converged_on(comm, key, std::move(kernel), std::forward<F>(logdensity),
                                   std::move(initial), options, convergence, callback);
}

}  // namespace nutshell::distributed
