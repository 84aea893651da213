// The program mpi_test.sh starts (mpi_sample_test) under mpirun with 1, 2
// and 3 ranks.
//   check          bitwise equality with a single-process `sample` (rank 0
//                  runs that too), and a chain failing on rank 1 while the
//                  others finish;
//   kill <dir>     a checkpointed run in which rank 1 kills itself (SIGKILL)
//                  at sampling step 150, after its checkpoint at 100;
//   resume <dir>   the same call again: it continues from the files and is
//                  bitwise the unbroken run, without redoing the warmups of
//                  the checkpointed chains.
// Exit status 0 when every check holds (each rank checks its part).
#include <mpi.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "nutshell/distributed/communicator.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/distributed/mpi_checks.hpp"
#include "tests/support/gaussian.hpp"

namespace {

using namespace nutshell;
using testing::expect;
using testing::expect_same_run;
using testing::Gaussian;

SampleOptions options(std::size_t chains) {
  SampleOptions o;
  o.num_chains = chains;
  o.num_warmup = 150;
  o.num_samples = 300;
  o.num_threads = 2;
  o.progress_bar = false;
  return o;
}

void check(const distributed::Communicator& comm) {
  const int rank = comm.rank(), size = comm.num_ranks();
  auto g = Gaussian::correlated_2d();
  // Five chains: uneven over 2 and 3 ranks.
  auto d = distributed::sample(comm, make_key(40), nuts::Kernel{}, g, Vec{0.0, 0.0}, options(5));
  if (rank == 0) {
    auto whole = sample(make_key(40), nuts::Kernel{}, g, Vec{0.0, 0.0}, options(5));
    expect_same_run(d, whole, "five chains", rank);
  } else {
    expect(d.ok() && d->chains == distributed::owned_chains(rank, size, 5),
           "another rank gets its own chains", rank);
  }
  // Chain 1 (rank 1's when there are two ranks or more) cannot start.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Vec> starts = {Vec{0.1, 0.2}, Vec{nan, 0.0}, Vec{-0.3, 1.0}, Vec{0.5, 2.0}};
  auto f = distributed::sample(comm, make_key(41), nuts::Kernel{}, g, starts, options(4));
  if (rank == 0) {
    auto whole = sample(make_key(41), nuts::Kernel{}, g, starts, options(4));
    expect_same_run(f, whole, "a failed chain leaves the others", rank);
    if (f.ok()) {
      const std::string where = "chain 1 on rank " + std::to_string(size > 1 ? 1 : 0);
      expect(std::string(f->status.message()).find(where) != std::string::npos,
             "the status names " + where + ": " + std::string(f->status.message()), rank);
      expect(f->chains == std::vector<std::size_t>({0, 2, 3}), "the other chains arrive", rank);
    }
  }
}

void checkpointed(const distributed::Communicator& comm, const std::string& dir, bool kill) {
  const int rank = comm.rank();
  auto g = Gaussian::correlated_2d();
  distributed::Options dopts{.checkpoint_interval = 100, .checkpoint_dir = dir};
  unsigned long long warmup_steps = 0;  // counted on 1 thread per rank below
  SampleOptions o = options(6);
  o.num_threads = 1;
  auto cb = [&](const StepEvent<GradientState, nuts::Info>& e) {
    if (e.is_warmup) ++warmup_steps;
    if (kill && rank == 1 && !e.is_warmup && e.step == 150) std::raise(SIGKILL);
  };
  auto d = distributed::sample(comm, make_key(42), nuts::Kernel{}, g, Vec{0.0, 0.0}, o, dopts, cb);
  unsigned long long total = 0;
  MPI_Reduce(&warmup_steps, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, comm.handle());
  if (rank != 0) return;
  auto whole = sample(make_key(42), nuts::Kernel{}, g, Vec{0.0, 0.0}, o);
  expect_same_run(d, whole, "the resumed run against an unbroken one", rank);
  expect(total < 6 * o.num_warmup, "checkpointed chains do not warm up again (" +
                                       std::to_string(total) + " warmup steps)", rank);
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Environment env(&argc, &argv);
  distributed::Communicator comm;
  return testing::mpi_modes_main(argc, argv, "mpi_sample_main", comm, check, checkpointed);
}
