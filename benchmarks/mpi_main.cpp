// MPI benchmarks for distributed::sample (issue 14). Run under mpirun:
//   mpirun -np 1 mpi_main efficiency      then  -np 2  (parallel efficiency:
//                                         the same 4 chains on 1 and 2 ranks,
//                                         1 thread per rank, an expensive density)
//   mpirun -np 2 mpi_main messages        (latency, bandwidth, gather of a
//                                         block of draws)
//   mpirun -np 1 mpi_main check           (R-hat + bulk/tail ESS over all
//                                         chains: the convergence check's cost)
// Prints one line per measurement; benchmarks/README.md has the table.
#include <mpi.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nutshell/core/key.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/distributed/communicator.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/converge_check.hpp"
#include "nutshell/run/sample.hpp"

namespace {

using namespace nutshell;

/// Logistic regression on N synthetic rows: a log density whose gradient
/// costs about N * d multiply-adds plus N exponentials (tens of
/// microseconds), the kind of model one spreads over machines.
struct Logistic {
  std::size_t n = 1000, d = 8;
  std::vector<double> x, y;
  Logistic() {
    x.resize(n * d);
    y.resize(n);
    Key k = make_key(99);
    for (std::size_t i = 0; i < n; ++i) {
      double eta = 0.0;
      for (std::size_t j = 0; j < d; ++j) {
        const double v = std::sin(0.37 * static_cast<double>(i * d + j) + 1.0);
        x[i * d + j] = v;
        eta += v * (0.5 - 0.1 * static_cast<double>(j));
      }
      y[i] = std::sin(1.7 * static_cast<double>(i)) < std::tanh(eta) ? 1.0 : 0.0;
    }
    (void)k;
  }
  std::size_t dimension() const { return d; }
  double operator()(const Vec& b, Vec& grad) const {
    double lp = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      lp -= 0.5 * b(j) * b(j);
      grad(j) = -b(j);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const double* xi = &x[i * d];
      double eta = 0.0;
      for (std::size_t j = 0; j < d; ++j) eta += xi[j] * b(j);
      // log sigmoid(eta) if y else log sigmoid(-eta), stably.
      const double s = y[i] > 0.5 ? eta : -eta;
      lp += -std::log1p(std::exp(-std::abs(s))) + std::min(s, 0.0);
      const double p = 1.0 / (1.0 + std::exp(-eta));
      const double r = y[i] - p;
      for (std::size_t j = 0; j < d; ++j) grad(j) += r * xi[j];
    }
    return lp;
  }
};

void efficiency(const distributed::Communicator& comm) {
  SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = 200;
  o.num_samples = 200;
  o.num_threads = 1;  // one thread per rank: ranks are the only parallelism
  o.progress_bar = false;
  Logistic model;
  comm.barrier();
  const double t0 = MPI_Wtime();
  const std::clock_t c0 = std::clock();
  auto d = distributed::sample(comm, make_key(1), nuts::Kernel{}, model, Vec(xt::zeros<double>({8})), o);
  const double t = MPI_Wtime() - t0;
  // CPU seconds of all ranks: on a machine shared with other jobs, wall
  // time measures the contention too; CPU time measures the work.
  double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC, cpu_all = 0.0;
  MPI_Reduce(&cpu, &cpu_all, 1, MPI_DOUBLE, MPI_SUM, 0, comm.handle());
  if (comm.rank() == 0) {
    std::uint64_t grads = 0;
    if (d.ok())
      for (const auto& a : d->accounting)
        grads += a.gradient_evaluations + a.gradient_evaluations_warmup + a.gradient_evaluations_step_size_search;
    std::printf("efficiency ranks=%d chains=4 wall_s=%.3f cpu_s_all_ranks=%.3f gradients=%llu status=%s\n",
                comm.num_ranks(), t, cpu_all,
                static_cast<unsigned long long>(grads), d.ok() ? "ok" : std::string(d.status().message()).c_str());
  }
}

void messages(const distributed::Communicator& comm) {
  const int rank = comm.rank();
  if (comm.num_ranks() < 2) return;
  // Ping-pong between ranks 0 and 1: half the round trip.
  for (std::size_t bytes : {std::size_t{8}, std::size_t{1} << 20, std::size_t{16} << 20}) {
    std::vector<char> buf(bytes);
    const int reps = bytes <= 8 ? 20000 : 20;
    comm.barrier();
    const double t0 = MPI_Wtime();
    for (int i = 0; i < reps; ++i) {
      if (rank == 0) {
        MPI_Send(buf.data(), static_cast<int>(bytes), MPI_BYTE, 1, 0, comm.handle());
        MPI_Recv(buf.data(), static_cast<int>(bytes), MPI_BYTE, 1, 0, comm.handle(), MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buf.data(), static_cast<int>(bytes), MPI_BYTE, 0, 0, comm.handle(), MPI_STATUS_IGNORE);
        MPI_Send(buf.data(), static_cast<int>(bytes), MPI_BYTE, 0, 0, comm.handle());
      }
    }
    const double one_way = (MPI_Wtime() - t0) / (2.0 * reps);
    if (rank == 0)
      std::printf("pingpong bytes=%zu one_way_us=%.2f bandwidth_GBps=%.2f\n", bytes, 1e6 * one_way,
                  static_cast<double>(bytes) / one_way / 1e9);
  }
  // A block of draws per rank through Communicator::gather and allgather
  // (what the convergence loop and the final gather send): chains x 100
  // draws x 10 dimensions of doubles.
  for (std::size_t chains : {std::size_t{2}, std::size_t{16}, std::size_t{500}}) {
    const std::string block(chains * 100 * 10 * sizeof(double), 'x');
    for (bool all : {false, true}) {
      const int reps = chains <= 16 ? 2000 : 50;
      comm.barrier();
      const double t0 = MPI_Wtime();
      std::size_t got = 0;
      for (int i = 0; i < reps; ++i) got += all ? comm.allgather(block).size() : comm.gather(block).size();
      const double t = (MPI_Wtime() - t0) / reps;
      if (rank == 0)
        std::printf("%s ranks=%d chains_per_rank=%zu bytes_per_rank=%zu us=%.1f (%zu)\n",
                    all ? "allgather" : "gather", comm.num_ranks(), chains, block.size(), 1e6 * t, got);
    }
  }
}

void check_cost() {
  // The convergence check: max R-hat and min bulk and tail ESS over all
  // dimensions, on every chain's draws so far.
  for (std::size_t chains : {std::size_t{4}, std::size_t{256}, std::size_t{1000}}) {
    for (std::size_t draws : {std::size_t{100}, std::size_t{1000}}) {
      const std::size_t dim = 10;
      diagnostics::Draws x = diagnostics::Draws::from_shape({chains, draws, dim});
      for (std::size_t c = 0; c < chains; ++c)
        for (std::size_t i = 0; i < draws; ++i)
          for (std::size_t j = 0; j < dim; ++j)
            x(c, i, j) = std::sin(0.1 * static_cast<double>(c * 7919 + i * 31 + j));
      // The check every rank runs (check_convergence, one thread), then the
      // three public diagnostics it equals, called one by one.
      const auto t0 = std::chrono::steady_clock::now();
      auto v = check_convergence(x, ConvergenceOptions{}, 1);
      const auto t1 = std::chrono::steady_clock::now();
      auto r = diagnostics::rhat(x);
      auto b = diagnostics::ess_bulk(x);
      auto t = diagnostics::ess_tail(x);
      const auto t2 = std::chrono::steady_clock::now();
      const auto ms = [](auto a, auto b) { return 1e3 * std::chrono::duration<double>(b - a).count(); };
      std::printf("check chains=%zu draws=%zu dim=%zu ms=%.2f separately_ms=%.2f ok=%d\n", chains,
                  draws, dim, ms(t0, t1), ms(t1, t2), v.ok() && r.ok() && b.ok() && t.ok());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Environment env(&argc, &argv);
  distributed::Communicator comm;
  const std::string mode = argc > 1 ? argv[1] : "efficiency";
  if (mode == "efficiency") efficiency(comm);
  else if (mode == "messages") messages(comm);
  else if (mode == "check" && comm.rank() == 0) check_cost();
  return 0;
}
