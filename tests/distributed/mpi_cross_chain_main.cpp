// The program mpi_test.sh starts (mpi_cross_chain_test) under mpirun with 1, 2
// and 3 ranks: the lockstep (many-chain) warmups, ChEES and MEADS, with each
// rank running its own chains and the cross-chain statistics meeting in
// the one combine (an allgather).
//   check          distributed::sample with Warmup::kChees and kMeads is
//                  bitwise the single-process `sample` (rank 0 runs that
//                  too); MEADS's folds straddle the ranks; a chain that
//                  cannot start on rank 1 fails the run on every rank (no
//                  rank left waiting), as it fails `sample`;
//                  sample_until_converged with ChEES stops where a single
//                  process stops, bitwise.
//   kill <dir>     a checkpointed ChEES run in which rank 1 kills itself
//                  at sampling step 150, after its checkpoint at 100;
//   resume <dir>   the same call again: bitwise the unbroken run (the
//                  script deletes one chain's file first, so the lockstep
//                  warmup runs again on every rank for that one chain).
#include <mpi.h>

#include <csignal>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "nutshell/distributed/communicator.hpp"
#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/run/converge.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/distributed/mpi_checks.hpp"
#include "tests/support/gaussian.hpp"

namespace {

using namespace nutshell;
using testing::expect;
using testing::expect_same_run;
using testing::Gaussian;

SampleOptions options(std::size_t chains, Warmup warmup) {
  SampleOptions o;
  o.num_chains = chains;
  o.num_warmup = 120;
  o.num_samples = 200;
  o.num_threads = 2;
  o.progress_bar = false;
  o.warmup = warmup;
  return o;
}

// Distributed and single-process runs of the same call, compared on rank 0.
template <class K>
void same_as_one_process(const distributed::Communicator& comm, const std::string& name, K kernel,
                         const SampleOptions& o, Key key) {
  const int rank = comm.rank(), size = comm.num_ranks();
  auto g = Gaussian::correlated_2d();
  auto d = distributed::sample(comm, key, kernel, g, Vec{0.0, 0.0}, o);
  expect(d.ok(), name + ": the distributed run succeeds: " + std::string(d.status().message()), rank);
  if (rank != 0) {
    expect(d.ok() && d->chains == distributed::owned_chains(rank, size, o.num_chains),
           name + ": another rank gets its own chains", rank);
    return;
  }
  auto whole = sample(key, kernel, g, Vec{0.0, 0.0}, o);
  expect_same_run(d, whole, name, rank);
  // The run must have been tuned by the lockstep warmup (not the default).
  if (d.ok()) expect(d->accounting[0].gradient_evaluations_warmup > 0, name + ": warmup ran", rank);
}

void check(const distributed::Communicator& comm) {
  const int rank = comm.rank(), size = comm.num_ranks();
  // ChEES over five chains: uneven over 2 and 3 ranks.
  same_as_one_process(comm, "chees", dynamic_hmc::Kernel{}, options(5, Warmup::kChees), make_key(50));
  // MEADS, 8 chains in 4 folds of 2: chains 2k and 2k+1 start in fold k,
  // and round-robin ownership puts them on different ranks (2 or 3 ranks),
  // so every fold straddles ranks; the folds are reshuffled every 4
  // iterations after that.
  SampleOptions m = options(8, Warmup::kMeads);
  m.meads.num_folds = 4;
  if (size > 1)
    for (std::size_t k = 0; k < 4; ++k)
      expect(distributed::owned_chains(0, size, 8).size() < 8 &&
                 (2 * k) % static_cast<std::size_t>(size) != (2 * k + 1) % static_cast<std::size_t>(size),
             "fold " + std::to_string(k) + " straddles ranks", rank);
  same_as_one_process(comm, "meads", ghmc::build_kernel(), m, make_key(51));
  // Six chains in 2 folds of 3 over 2 or 3 ranks: folds of odd size.
  m = options(6, Warmup::kMeads);
  m.meads.num_folds = 2;
  same_as_one_process(comm, "meads-6x2", ghmc::build_kernel(), m, make_key(52));

  // Chain 1 (rank 1's with two ranks or more) cannot start: the lockstep
  // cannot run without it, on any rank.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Vec> starts = {Vec{0.1, 0.2}, Vec{nan, 0.0}, Vec{-0.3, 1.0}, Vec{0.5, 2.0}};
  auto g = Gaussian::correlated_2d();
  auto f = distributed::sample(comm, make_key(53), dynamic_hmc::Kernel{}, g, starts,
                               options(4, Warmup::kChees));
  expect(!f.ok(), "a chain that cannot start fails the lockstep run on every rank", rank);
  if (rank == 0) {
    auto whole = sample(make_key(53), dynamic_hmc::Kernel{}, g, starts, options(4, Warmup::kChees));
    expect(!whole.ok(), "and the single-process run", rank);
  }

  // Sampling until converged, ChEES-tuned: the same stop, bitwise.
  SampleOptions c = options(4, Warmup::kChees);
  const ConvergenceOptions conv{.min_ess_bulk = 300, .min_ess_tail = 300, .block_size = 50};
  auto u = distributed::sample_until_converged(comm, make_key(54), dynamic_hmc::Kernel{}, g,
                                               Vec{0.0, 0.0}, c, conv);
  expect(u.ok(), "until-converged ChEES run succeeds", rank);
  if (rank == 0 && u.ok()) {
    auto one = sample_until_converged(make_key(54), dynamic_hmc::Kernel{}, g, Vec{0.0, 0.0}, c, conv);
    expect(one.ok() && one->verdict.num_draws == u->verdict.num_draws,
           "until-converged ChEES stops where one process stops", rank);
    if (one.ok()) {
      const std::string diff = testing::draws_difference(u->draws, one->draws);
      expect(diff.empty(), "until-converged ChEES bitwise, differs in: " + diff, rank);
    }
  }
}

void checkpointed(const distributed::Communicator& comm, const std::string& dir, bool kill) {
  const int rank = comm.rank();
  auto g = Gaussian::correlated_2d();
  distributed::Options dopts{.checkpoint_interval = 100, .checkpoint_dir = dir};
  SampleOptions o = options(6, Warmup::kChees);
  o.num_samples = 300;
  o.num_threads = 1;
  auto cb = [&](const auto& e) {
    if (kill && rank == 1 && !e.is_warmup && e.step == 150) std::raise(SIGKILL);
  };
  auto d = distributed::sample(comm, make_key(55), dynamic_hmc::Kernel{}, g, Vec{0.0, 0.0}, o, dopts, cb);
  if (rank != 0) return;
  auto whole = sample(make_key(55), dynamic_hmc::Kernel{}, g, Vec{0.0, 0.0}, o);
  expect_same_run(d, whole, "the resumed ChEES run against an unbroken one", rank);
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Environment env(&argc, &argv);
  distributed::Communicator comm;
  return testing::mpi_modes_main(argc, argv, "mpi_cross_chain_main", comm, check, checkpointed);
}
