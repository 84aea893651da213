// The program mpi_test.sh starts (mpi_converge_test) under mpirun with 1, 2
// and 3 ranks: distributed::sample_until_converged on a Gaussian and on
// eight_schools_nc stops at the same draw as the single-process
// sample_until_converged (which rank 0 also runs), with bitwise the same
// draws, whatever the number of ranks; every rank reaches the same verdict.
#include <mpi.h>

#include <cstdio>
#include <string>

#include "nutshell/distributed/communicator.hpp"
#include "nutshell/distributed/converge.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/converge.hpp"
#include "tests/distributed/mpi_checks.hpp"
#include "tests/posteriors/eight_schools_nc.hpp"
#include "tests/support/gaussian.hpp"

namespace {

using namespace nutshell;

using testing::expect;

template <class F>
void one_model(const distributed::Communicator& comm, const std::string& name, const F& model,
               InitialPositions initial, SampleOptions o, const ConvergenceOptions& conv, Key key) {
  const int rank = comm.rank();
  auto d = distributed::sample_until_converged(comm, key, nuts::Kernel{}, model, initial, o, conv);
  expect(d.ok(), name + ": the distributed run succeeds", rank);
  // Every rank saw the same checks: compare the stop point over ranks.
  unsigned long long n = d.ok() ? d->verdict.num_draws : 0, lo = 0, hi = 0;
  MPI_Allreduce(&n, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm.handle());
  MPI_Allreduce(&n, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm.handle());
  expect(lo == hi, name + ": every rank stops at the same draw", rank);
  if (rank != 0 || !d.ok()) return;
  auto one = sample_until_converged(key, nuts::Kernel{}, model, initial, o, conv);
  expect(one.ok(), name + ": the single-process run succeeds", rank);
  if (!one.ok()) return;
  expect(one->reason == ConvergenceStop::kConverged, name + ": it converges", rank);
  expect(d->verdict.num_draws == one->verdict.num_draws,
         name + ": stops at draw " + std::to_string(d->verdict.num_draws) + ", single process at " +
             std::to_string(one->verdict.num_draws),
         rank);
  expect(d->history.size() == one->history.size(), name + ": as many checks", rank);
  expect(d->verdict.max_rhat == one->verdict.max_rhat, name + ": the same R-hat", rank);
  const std::string diff = testing::draws_difference(d->draws, one->draws);
  expect(diff.empty(), name + ": bitwise the single-process draws, differs in: " + diff, rank);
  std::printf("%s: stopped at %zu draws per chain on %d ranks (R-hat %.4f, ESS bulk %.0f tail %.0f)\n",
              name.c_str(), d->verdict.num_draws, comm.num_ranks(), d->verdict.max_rhat,
              d->verdict.min_ess_bulk, d->verdict.min_ess_tail);
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Environment env(&argc, &argv);
  distributed::Communicator comm;
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = 300;
  o.num_threads = 2;
  o.progress_bar = false;
  one_model(comm, "gaussian", testing::Gaussian::correlated_2d(), Vec{0.0, 0.0}, o,
            ConvergenceOptions{.min_ess_bulk = 400, .min_ess_tail = 400, .block_size = 50},
            make_key(7));
  auto schools = posteriors::EightSchoolsNc::load();
  expect(schools.ok(), "eight_schools_nc loads", comm.rank());
  if (schools.ok()) {
    o.num_warmup = 500;
    o.target_acceptance_rate = 0.95;
    one_model(comm, "eight_schools_nc", *schools, InitialPositions::uniform(schools->dim()), o,
              ConvergenceOptions{.min_ess_bulk = 400, .min_ess_tail = 400, .block_size = 100},
              make_key(11));
  }
  return testing::mpi_failures == 0 ? 0 : 1;
}
