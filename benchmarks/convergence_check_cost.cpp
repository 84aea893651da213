// The cost of the convergence checks of `sample_until_converged` against
// its sampling time, on a cheap density (a 10-D standard Gaussian, NUTS,
// and the same plus ~2 microseconds of work per gradient) and on two
// posteriors with hand-written gradients (tests/posteriors:
// eight_schools_nc, 10-D, target acceptance 0.95; logistic_1000x25,
// 26-D), at 4 and at 256 chains, with the default ConvergenceOptions (block size,
// growth) and two kinds of run:
//   targets   the default targets (R-hat < 1.01, bulk and tail ESS >= 400):
//             the run stops when they are met;
//   long      unreachable targets, max_draws = 2000 draws per chain (1000
//             at 256 chains): every
//             block of a long run is checked (the worst case for the
//             checks' share).
//
//   bazel run //benchmarks:convergence_check_cost -- [--threads=0] [--seed=1]
//       [--chains=N] [--density=gaussian|gaussian2000|eight_schools_nc|logistic_1000x25]
//       [--run=targets|long]   (only those rows)
//       [--work=N]   (only the Gaussian with N extra operations per gradient:
//                     a sweep of the density's cost; 0 is gaussian)
//
// Outside `bazel run` set NUTSHELL_POSTERIORS_DIR to tests/posteriors/data.
//
// One markdown table on stdout: draws per chain, checks, wall seconds in
// the checks, in sampling (first_block / next_block: `sample` and `resume`,
// which skip their summaries: SampleOptions::summarize), in joining blocks and the
// final summary, the checks' share of the sampling time; the time
// diagnostics::summary of the joined draws takes (timed after the run: the
// run itself takes the table's sorted columns from its last check, so the
// checks do that work once for both) and the checks' share net of it; the sampling
// wall time per gradient evaluation (warmup included, all threads: what a
// gradient costs the run), and the parameters the checks evaluated (the
// early exit skips the rest) out of checks x dimension.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/converge.hpp"
#include "tests/posteriors/eight_schools_nc.hpp"
#include "tests/posteriors/logistic_1000x25.hpp"

namespace nutshell {
namespace {

/// A standard Gaussian in `dim` dimensions: the cheapest density NUTS can
/// run, so the checks' share of the time is the largest it gets.
/// `work` > 0 adds that many dependent floating-point operations per
/// evaluation (a stand-in for a costlier model, ~1 ns each).
struct StdGaussian {
  std::size_t dim = 10;
  int work = 0;
  double operator()(const Vec& x, Vec& grad) const {
    double s = 0.0;
    if (work > 0) {
      volatile double sink = 0.0;
      double a = x(0);
      for (int i = 0; i < work; ++i) a = a * 0.999999 + 1e-9;
      sink = a;
      (void)sink;
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      grad(i) = -x(i);
      s += x(i) * x(i);
    }
    return -0.5 * s;
  }
  std::size_t dimension() const { return dim; }
};

int run(int argc, char** argv) {
  std::size_t threads = 0;
  std::uint64_t seed = 1;
  long only_chains = -1;
  std::string only_run, only_density;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--threads=", 0) == 0) threads = std::strtoul(a.c_str() + 10, nullptr, 10);
    else if (a.rfind("--seed=", 0) == 0) seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    else if (a.rfind("--chains=", 0) == 0) only_chains = std::strtol(a.c_str() + 9, nullptr, 10);
    else if (a.rfind("--work=", 0) == 0)
      only_density = "gaussian" + std::to_string(std::strtol(a.c_str() + 7, nullptr, 10));
    else if (a.rfind("--density=", 0) == 0) only_density = a.substr(10);
    else if (a.rfind("--run=", 0) == 0) only_run = a.substr(6);
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  const ConvergenceOptions defaults{};
  auto schools = posteriors::EightSchoolsNc::load();
  auto logistic = posteriors::Logistic1000x25::load();
  if (!schools.ok() || !logistic.ok()) {
    std::fprintf(stderr, "posteriors: %s %s\n", std::string(schools.status().message()).c_str(),
                 std::string(logistic.status().message()).c_str());
    return 1;
  }
  std::printf("block_size %zu, block_growth %g, NUTS, 1000 warmup\n\n", defaults.block_size,
              defaults.block_growth);
  std::printf("| density | chains | run | draws/chain | checks | check s | sampling s | join s | "
              "check / sampling | summary s | (check - summary) / sampling | "
              "sampling ns / gradient | parameters checked |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> densities = {"gaussian", "gaussian2000", "eight_schools_nc",
                                        "logistic_1000x25"};
  // --work=N: the Gaussian with N extra operations per gradient (N = 0 is
  // "gaussian"), for a sweep of the density's cost.
  if (only_density == "gaussian0") only_density = "gaussian";
  if (only_density.rfind("gaussian", 0) == 0 && only_density != "gaussian" &&
      only_density != "gaussian2000")
    densities.push_back(only_density);
  for (const std::string& density : densities)
  for (std::size_t chains : {4u, 256u}) {
    for (bool long_run : {false, true}) {
      if ((only_chains >= 0 && static_cast<std::size_t>(only_chains) != chains) ||
          (!only_density.empty() && only_density != density) ||
          (!only_run.empty() && only_run != (long_run ? "long" : "targets")))
        continue;
      ConvergenceOptions conv = defaults;
      if (long_run) {
        conv.min_ess_bulk = 1e12;
        conv.max_draws = chains > 4 ? 1000 : 2000;
      }
      SampleOptions o{.num_chains = chains, .num_warmup = 1000, .num_threads = threads,
                      .progress_bar = false};
      auto report = [&](const auto& r) {
        if (!r.ok()) {
          std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
          return false;
        }
        // Sampling wall time per gradient (warmup included, all threads).
        double gradients = 0.0;
        for (const auto& a : r->draws.accounting)
          gradients += static_cast<double>(a.gradient_evaluations_warmup +
                                           a.gradient_evaluations_step_size_search +
                                           a.gradient_evaluations);
        // How far the early exit got: parameters evaluated over all checks.
        // What the run's summary table would cost without the last
        // check's sorted columns (diagnostics::summary of the joined draws,
        // timed here, outside the run).
        PhaseClock summarizing;
        auto table = diagnostics::summary(r->draws.positions);
        const double summary_seconds = summarizing.wall_seconds();
        if (!table.ok()) return false;
        std::size_t evaluated = 0;
        for (const auto& v : r->history) evaluated += v.parameters_checked;
        const std::size_t all = r->history.size() * r->draws.positions.shape(2);
        std::printf("| %s | %zu | %s | %zu | %zu | %.4f | %.3f | %.4f | %.2f%% | %.4f | %.2f%% | "
                    "%.0f | %zu / %zu |\n",
                    density.c_str(), chains, long_run ? "long (max_draws)" : "default targets",
                    r->draws.num_draws(), r->history.size(), r->check_seconds,
                    r->sampling_seconds, r->join_seconds,
                    100.0 * r->check_seconds / r->sampling_seconds, summary_seconds,
                    100.0 * (r->check_seconds - summary_seconds) / r->sampling_seconds,
                    1e9 * r->sampling_seconds / gradients, evaluated, all);
        std::fflush(stdout);
        return true;
      };
      bool ok = true;
      if (density.rfind("gaussian", 0) == 0) {
        const int work = density == "gaussian" ? 0 : std::atoi(density.c_str() + 8);
        ok = report(sample_until_converged(make_key(seed), nuts::Kernel{}, StdGaussian{10, work},
                                           InitialPositions::uniform(10), o, conv));
      } else if (density == "eight_schools_nc") {
        o.target_acceptance_rate = 0.95;
        ok = report(sample_until_converged(make_key(seed), nuts::Kernel{}, *schools,
                                           InitialPositions::uniform(schools->dim()), o, conv));
      } else {
        ok = report(sample_until_converged(make_key(seed), nuts::Kernel{}, *logistic,
                                           InitialPositions::uniform(logistic->dim()), o, conv));
      }
      if (!ok) return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace nutshell

int main(int argc, char** argv) { return nutshell::run(argc, argv); }
