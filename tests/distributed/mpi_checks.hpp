// The checks the MPI test programs (mpi_*_main.cpp, started by mpi_test.sh
// under mpirun) share: failures counted per rank and printed with the rank,
// a distributed run compared bitwise with the single-process run rank 0
// does too, and the main() of the programs with modes
// check | kill <dir> | resume <dir>.
#pragma once

#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "nutshell/distributed/communicator.hpp"
#include "tests/distributed/same_draws.hpp"

namespace nutshell::testing {

/// The number of failed expectations on this rank (the exit status).
inline int mpi_failures = 0;

/// Counts and prints a failure of `what` on `rank` unless `ok`.
inline void expect(bool ok, const std::string& what, int rank) {
  if (ok) return;
  std::fprintf(stderr, "rank %d: FAILED: %s\n", rank, what.c_str());
  ++mpi_failures;
}

/// Both runs succeed and are bitwise the same run (`label` prefixes the
/// messages): a distributed run against the single-process one, on rank 0.
template <class D>
void expect_same_run(const absl::StatusOr<D>& distributed, const absl::StatusOr<D>& whole,
                     const std::string& label, int rank) {
  expect(distributed.ok() && whole.ok(), label + ": both runs succeed", rank);
  if (!distributed.ok() || !whole.ok()) return;
  const std::string diff = draws_difference(*distributed, *whole);
  expect(diff.empty(), label + ": bitwise the single-process run, differs in: " + diff, rank);
}

/// The main() of a program with modes `check` (the default) and
/// `kill <dir>` / `resume <dir>` (a checkpointed run, killed on rank 1, then
/// resumed): runs the mode and returns the exit status (0 when every
/// expectation held on this rank).
template <class Check, class Checkpointed>
int mpi_modes_main(int argc, char** argv, const char* program, const distributed::Communicator& comm,
                   const Check& check, const Checkpointed& checkpointed) {
  const std::string mode = argc > 1 ? argv[1] : "check";
  if (mode == "check") check(comm);
  else if ((mode == "kill" || mode == "resume") && argc > 2) checkpointed(comm, argv[2], mode == "kill");
  else expect(false, std::string("usage: ") + program + " check | kill <dir> | resume <dir>", comm.rank());
  if (comm.rank() == 0 && mpi_failures == 0)
    std::printf("%s: OK on %d ranks\n", mode.c_str(), comm.num_ranks());
  return mpi_failures == 0 ? 0 : 1;
}

}  // namespace nutshell::testing
