// End-to-end runs on the benchmark posteriors: window adaptation + NUTS,
// chains in parallel, one CSV row per posterior.
//
//   bazel run --config=opt //benchmarks:posteriors --
//       [--posteriors=all|name,name,...] [--chains=4] [--warmup=1000] [--draws=1000]
//       [--threads=0] [--metric=auto|diag|dense] [--seed=1] [--max_doublings=10]
//       [--repeats=1] [--output=-|path.csv] [--draws_dir=dir] [--data_dir=dir]
//       [--adaptation=window|fisher_diagonal|fisher_low_rank|fisher_auto]
//       [--fisher_jitter=0] [--fisher_symmetric=true]   (FisherAdaptationOptions'
//       step_size_jitter and symmetric_acceptance_late; the library's defaults)
//
// For each posterior: every chain starts at Stan's default initial point
// (each unconstrained coordinate uniform on (-2, 2)), runs `warmup` steps of
// window adaptation (Stan's schedule, delta = 0.8) and then `draws` NUTS
// transitions (max 10 doublings) with the tuned step size and metric. The
// metric is diagonal unless the posterior's README advises a dense one
// (corr_gauss_50), or as forced by --metric. Warmup and sampling are two
// parallel phases (pmap over --threads threads, 0 = all cores), timed
// separately by the wall clock; each chain's thread CPU time is summed too
// (chain_cpu_*_s, comparable with Stan's per-chain clock() times). With --repeats=N each posterior is run N
// times (bitwise identical draws) and the wall times are the medians.
// --adaptation replaces window adaptation by nutpie's Fisher warmups
// (adaptation/fisher_adaptation.hpp; issue 13), same number of steps; their
// metric is diagonal (fisher_diagonal), diagonal plus low rank
// (fisher_low_rank) or chosen at the end of warmup (fisher_auto), whatever
// --metric says. The four real-data posteriors (mtcars_uncentred,
// stackloss_t, chickweight_hier, warpbreaks_pln) are read from the
// repository's tests/posteriors/data, never from --data_dir.
//
// Gradient evaluations count integration steps, i.e. Stan's n_leapfrog__
// summed over warmup and sampling; step-size searches and the initial
// evaluation are not in it (Stan's count leaves them out too), but they are
// in `density_evals_total`. ESS and R-hat are nutshell::diagnostics (identical
// to R's posterior 1.4.0) over the unconstrained coordinates.
//
// --draws_dir writes <dir>/<posterior>.csv: a header `chain,<coordinate
// names>`, then one row per draw, chain by chain (the format of the `ess`
// tool). Relative paths are taken from where `bazel run` was invoked.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/alloc_counter.hpp"
#include "benchmarks/common.hpp"
#include "nutshell/adaptation/fisher_adaptation.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/pmap.hpp"
#include "tests/posteriors/ad/specs_real_data.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::size_t chains = 4, warmup = 1000, draws = 1000, threads = 0;
  std::string metric = "auto";
  std::uint64_t seed = 1;
  int max_doublings = 10;
  double fisher_jitter = 0.0;     // FisherAdaptationOptions::step_size_jitter
  bool fisher_symmetric = true;   // FisherAdaptationOptions::symmetric_acceptance_late
  std::size_t repeats = 1;
  std::string data_dir, draws_dir;
  std::string adaptation = "window";
};

/// What one chain's warmup leaves for sampling, and what it cost.
struct Warm {
  double cpu_seconds = 0.0;       // this chain's thread CPU time
  GradientState state;
  nuts::Params params;
  std::uint64_t steps = 0;        // integration steps (n_leapfrog)
  std::uint64_t evals = 0;        // every density call
  std::uint64_t divergences = 0;
};

/// One chain's sampling phase.
struct Sampled {
  double cpu_seconds = 0.0;
  Mat positions;  // [draw, dim]
  std::uint64_t steps = 0, evals = 0, divergences = 0;
  double sum_depth = 0.0, sum_accept = 0.0;
  double heap_allocs_per_transition = 0.0;
};

/// One CSV row.
struct Row {
  std::string posterior, metric;
  std::size_t dim = 0;
  double wall_warmup = 0, wall_sampling = 0;
  double cpu_warmup = 0, cpu_sampling = 0;  // summed over chains
  std::uint64_t steps_warmup = 0, steps_sampling = 0, evals = 0;
  std::uint64_t divergences = 0, divergences_warmup = 0;
  double min_ess_bulk = 0, min_ess_tail = 0, max_rhat = 0;
  double step_size = 0, step_size_min = 0, step_size_max = 0;
  double mean_depth = 0, mean_accept = 0, heap_allocs = 0, max_mean_err_sd = 0;
};

/// CPU time of the calling thread (a chain runs on one thread), the analogue
/// of the clock() that Stan's per-chain elapsed times use.
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string resolve_output_path(const std::string& p) {
  if (p.empty() || p == "-" || p[0] == '/') return p;
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY")) return std::string(wd) + "/" + p;
  return p;
}

/// One chain's Fisher warmup (--adaptation=fisher_*); `steps` counts every
/// gradient, the step-size searches included.
template <class M>
absl::StatusOr<Warm> fisher_warm(Counted<M>& f, const M& model, const Key& chain_key,
                                 const Config& cfg, double cpu0) {
  adaptation::FisherAdaptationOptions options;
  options.low_rank = cfg.adaptation != "fisher_diagonal";
  options.choose_automatically = cfg.adaptation == "fisher_auto";
  options.step_size_jitter = cfg.fisher_jitter;
  options.symmetric_acceptance_late = cfg.fisher_symmetric;
  nuts::Kernel kernel;
  kernel.max_num_doublings = cfg.max_doublings;
  auto fa = adaptation::fisher_adaptation(kernel, std::ref(f), options);
  const Vec x0 = model.initial_point(fold_in(chain_key, 0));
  auto r = fa.run(split_one(chain_key, 1), x0, cfg.warmup);
  if (!r.ok()) return r.status();
  Warm w;
  w.state = std::move(r->state);
  w.params = std::move(r->parameters);
  w.evals = f.count();
  w.steps = w.evals;
  w.cpu_seconds = thread_seconds() - cpu0;
  return w;
}

template <class M>
absl::StatusOr<Row> run_posterior(const M& model, std::size_t index, const Config& cfg) {
  const std::size_t dim = model.dim();
  Row row;
  row.posterior = std::string(M::kName);
  row.dim = dim;
  const bool dense = cfg.metric == "dense" || (cfg.metric == "auto" && M::kDenseMetricAdvised);
  row.metric = dense ? "dense" : "diag";
  if (cfg.adaptation != "window") row.metric = cfg.adaptation;
  const Key key = fold_in(make_key(cfg.seed), index);
  PmapOptions popt;
  popt.num_threads = cfg.threads;

  // Phase 1: window adaptation, all chains in parallel.
  auto t0 = Clock::now();
  auto warm = pmap(
      key, cfg.chains,
      [&](std::size_t, const Key& chain_key) -> absl::StatusOr<Warm> {
        const double cpu0 = thread_seconds();
        Counted<M> f(model);  // this chain's own copy (scratch buffers)
        if (cfg.adaptation != "window") return fisher_warm(f, model, chain_key, cfg, cpu0);
        adaptation::WindowAdaptationOptions options;
        options.is_mass_matrix_diagonal = !dense;
        nuts::Kernel kernel;
        kernel.max_num_doublings = cfg.max_doublings;
        auto wa = adaptation::window_adaptation(kernel, std::ref(f), options);
        const Vec x0 = model.initial_point(fold_in(chain_key, 0));
        auto r = wa.run(split_one(chain_key, 1), x0, cfg.warmup);
        if (!r.ok()) return r.status();
        Warm w;
        w.state = std::move(r->state);
        w.params = std::move(r->parameters);
        for (const auto& i : r->infos) {
          w.steps += static_cast<std::uint64_t>(i.info.num_integration_steps);
          w.divergences += i.info.is_divergent ? 1 : 0;
        }
        w.evals = f.count();
        w.cpu_seconds = thread_seconds() - cpu0;
        return w;
      },
      popt);
  row.wall_warmup = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!warm.ok()) return warm.status;

  // Phase 2: sampling with the tuned parameters.
  t0 = Clock::now();
  auto sampled = pmap(
      key, cfg.chains,
      [&](std::size_t c, const Key& chain_key) -> absl::StatusOr<Sampled> {
        const double cpu0 = thread_seconds();
        Counted<M> f(model);
        const Warm& w = *warm.chains[c];
        nuts::Kernel kernel;
        kernel.max_num_doublings = cfg.max_doublings;
        nuts::Workspace ws;
        nuts::Info info;
        GradientState a = w.state, b = w.state;
        GradientState* cur = &a;
        GradientState* next = &b;
        Sampled s;
        s.positions = Mat::from_shape({cfg.draws, dim});
        const Key sample_key = split_one(chain_key, 2);
        constexpr std::size_t kWarmBuffers = 10;  // allocations counted after these
        std::uint64_t heap0 = thread_heap_allocations();
        for (std::size_t i = 0; i < cfg.draws; ++i) {
          if (i == kWarmBuffers) heap0 = thread_heap_allocations();
          auto st = kernel.step_into(fold_in(sample_key, i), *cur, f, w.params, *next, info, ws);
          if (!st.ok()) return absl::Status(st.code(), absl::StrCat("draw ", i, ": ", st.message()));
          std::swap(cur, next);
          std::copy(cur->position.begin(), cur->position.end(), &s.positions(i, 0));
          s.steps += static_cast<std::uint64_t>(info.num_integration_steps);
          s.divergences += info.is_divergent ? 1 : 0;
          s.sum_depth += info.num_trajectory_expansions;
          s.sum_accept += info.acceptance_rate;
        }
        if (cfg.draws > kWarmBuffers)
          s.heap_allocs_per_transition = static_cast<double>(thread_heap_allocations() - heap0) /
                                         static_cast<double>(cfg.draws - kWarmBuffers);
        s.evals = f.count();
        s.cpu_seconds = thread_seconds() - cpu0;
        return s;
      },
      popt);
  row.wall_sampling = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!sampled.ok()) return sampled.status;

  // Diagnostics over [chain, draw, dim].
  diagnostics::Draws draws = diagnostics::Draws::from_shape({cfg.chains, cfg.draws, dim});
  row.step_size_min = std::numeric_limits<double>::infinity();
  row.step_size_max = 0.0;
  for (std::size_t c = 0; c < cfg.chains; ++c) {
    const Warm& w = *warm.chains[c];
    const Sampled& s = *sampled.chains[c];
    for (std::size_t i = 0; i < cfg.draws; ++i)
      for (std::size_t k = 0; k < dim; ++k) draws(c, i, k) = s.positions(i, k);
    row.cpu_warmup += w.cpu_seconds;
    row.cpu_sampling += s.cpu_seconds;
    row.steps_warmup += w.steps;
    row.steps_sampling += s.steps;
    row.evals += w.evals + s.evals;
    row.divergences += s.divergences;
    row.divergences_warmup += w.divergences;
    row.step_size += w.params.step_size / static_cast<double>(cfg.chains);
    row.step_size_min = std::min(row.step_size_min, w.params.step_size);
    row.step_size_max = std::max(row.step_size_max, w.params.step_size);
    const double n = static_cast<double>(cfg.chains * cfg.draws);
    row.mean_depth += s.sum_depth / n;
    row.mean_accept += s.sum_accept / n;
    row.heap_allocs += s.heap_allocs_per_transition / static_cast<double>(cfg.chains);
  }
  auto bulk = diagnostics::ess_bulk(draws);
  if (!bulk.ok()) return bulk.status();
  auto tail = diagnostics::ess_tail(draws);
  if (!tail.ok()) return tail.status();
  auto rhat = diagnostics::rhat(draws);
  if (!rhat.ok()) return rhat.status();
  row.min_ess_bulk = xt::amin(*bulk)();
  row.min_ess_tail = xt::amin(*tail)();
  row.max_rhat = xt::amax(*rhat)();

  // Sanity: the largest |mean - reference mean| in reference sds (analytic
  // values where known; funnel_10's neck is expected to be off).
  if (auto ref = model.reference(cfg.data_dir); ref.ok()) {
    const Vec& mean_ref = ref->has_exact() ? ref->exact_mean : ref->mean;
    const Vec& sd_ref = ref->has_exact() ? ref->exact_sd : ref->sd;
    for (std::size_t k = 0; k < dim; ++k) {
      double m = 0.0;
      for (std::size_t c = 0; c < cfg.chains; ++c)
        for (std::size_t i = 0; i < cfg.draws; ++i) m += draws(c, i, k);
      m /= static_cast<double>(cfg.chains * cfg.draws);
      row.max_mean_err_sd = std::max(row.max_mean_err_sd, std::abs(m - mean_ref(k)) / sd_ref(k));
    }
  } else {
    row.max_mean_err_sd = std::numeric_limits<double>::quiet_NaN();
  }

  if (!cfg.draws_dir.empty()) {
    const std::string dir = resolve_output_path(cfg.draws_dir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string path = dir + "/" + row.posterior + ".csv";
    std::ofstream out(path);
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
    out << "chain";
    for (const auto& n : model.names()) out << "," << n;
    out << "\n";
    char buf[32];
    for (std::size_t c = 0; c < cfg.chains; ++c)
      for (std::size_t i = 0; i < cfg.draws; ++i) {
        out << (c + 1);
        for (std::size_t k = 0; k < dim; ++k) {
          std::snprintf(buf, sizeof buf, ",%.17g", draws(c, i, k));
          out << buf;
        }
        out << "\n";
      }
  }
  return row;
}

const char* kHeader =
    "posterior,dim,metric,chains,warmup,draws,threads,repeats,wall_warmup_s,wall_sampling_s,wall_total_s,"
    "chain_cpu_warmup_s,chain_cpu_sampling_s,"
    "grad_evals_warmup,grad_evals_sampling,grad_evals_total,density_evals_total,"
    "min_ess_bulk,min_ess_tail,max_rhat,divergences,divergences_warmup,step_size,"
    "step_size_min,step_size_max,mean_tree_depth,mean_accept_stat,heap_allocs_per_transition,"
    "ess_bulk_per_s,ess_tail_per_s,ess_bulk_per_1000_grads,ess_tail_per_1000_grads,"
    "max_mean_err_sd";

std::string format_row(const Row& r, const Config& cfg, std::size_t threads) {
  const double wall = r.wall_warmup + r.wall_sampling;
  const double grads = static_cast<double>(r.steps_warmup + r.steps_sampling);
  std::ostringstream o;
  o.precision(6);
  o << r.posterior << "," << r.dim << "," << r.metric << "," << cfg.chains << "," << cfg.warmup
    << "," << cfg.draws << "," << threads << "," << cfg.repeats << "," << r.wall_warmup << "," << r.wall_sampling << ","
    << wall << "," << r.cpu_warmup << "," << r.cpu_sampling << "," << r.steps_warmup << "," << r.steps_sampling << ","
    << (r.steps_warmup + r.steps_sampling) << "," << r.evals << "," << r.min_ess_bulk << ","
    << r.min_ess_tail << "," << r.max_rhat << "," << r.divergences << "," << r.divergences_warmup
    << "," << r.step_size << "," << r.step_size_min << "," << r.step_size_max << ","
    << r.mean_depth << "," << r.mean_accept << "," << r.heap_allocs << ","
    << r.min_ess_bulk / wall << "," << r.min_ess_tail / wall << ","
    << 1000.0 * r.min_ess_bulk / grads << "," << 1000.0 * r.min_ess_tail / grads << ","
    << r.max_mean_err_sd;
  return o.str();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Runs a posterior `cfg.repeats` times. The runs are bitwise identical
/// (same keys), so only the wall times differ: the row reports their medians,
/// which is what makes sub-second runs usable on a busy machine.
template <class M>
absl::StatusOr<Row> load_and_run(std::size_t index, const Config& cfg, bool repo_data = false) {
  auto model = M::load(repo_data ? std::string() : cfg.data_dir);
  if (!model.ok()) return model.status();
  std::vector<double> warmup, sampling, cpu_warmup, cpu_sampling;
  absl::StatusOr<Row> row;
  for (std::size_t r = 0; r < std::max<std::size_t>(cfg.repeats, 1); ++r) {
    Config c = cfg;
    if (r + 1 < cfg.repeats) c.draws_dir.clear();  // write the draws once
    row = run_posterior(*model, index, c);
    if (!row.ok()) return row;
    warmup.push_back(row->wall_warmup);
    sampling.push_back(row->wall_sampling);
    cpu_warmup.push_back(row->cpu_warmup);
    cpu_sampling.push_back(row->cpu_sampling);
  }
  row->cpu_warmup = median(cpu_warmup);
  row->cpu_sampling = median(cpu_sampling);
  row->wall_warmup = median(warmup);
  row->wall_sampling = median(sampling);
  return row;
}

}  // namespace
}  // namespace nutshell::bench

int main(int argc, char** argv) {
  // Chains are the parallelism: OpenBLAS (the GP's Cholesky, dense metrics)
  // must stay single-threaded.
  nutshell::bench::ensure_single_threaded_blas(argv);
  using namespace nutshell;
  using namespace nutshell::bench;
  namespace P = nutshell::posteriors;
  Flags flags(argc, argv);
  Config cfg;
  cfg.chains = static_cast<std::size_t>(flags.get_int("chains", 4));
  cfg.warmup = static_cast<std::size_t>(flags.get_int("warmup", 1000));
  cfg.draws = static_cast<std::size_t>(flags.get_int("draws", 1000));
  cfg.threads = static_cast<std::size_t>(flags.get_int("threads", 0));
  cfg.metric = flags.get("metric", "auto");
  cfg.seed = static_cast<std::uint64_t>(flags.get_int("seed", 1));
  cfg.max_doublings = static_cast<int>(flags.get_int("max_doublings", 10));
  cfg.fisher_jitter = flags.get_double("fisher_jitter", 0.0);
  cfg.fisher_symmetric = flags.get_bool("fisher_symmetric", true);
  cfg.repeats = static_cast<std::size_t>(flags.get_int("repeats", 1));
  cfg.data_dir = resolve_output_path(flags.get("data_dir", ""));
  cfg.draws_dir = flags.get("draws_dir", "");
  cfg.adaptation = flags.get("adaptation", "window");
  const std::string output = resolve_output_path(flags.get("output", "-"));
  std::string which = flags.get("posteriors", "all");
  const bool help = flags.get_bool("help", false);
  if (help || !flags.unused().empty() || !flags.positional().empty() || cfg.chains == 0 ||
      cfg.warmup == 0 || cfg.draws < 4 ||
      (cfg.metric != "auto" && cfg.metric != "diag" && cfg.metric != "dense") ||
      (cfg.adaptation != "window" && cfg.adaptation != "fisher_diagonal" &&
       cfg.adaptation != "fisher_low_rank" && cfg.adaptation != "fisher_auto")) {
    for (const auto& u : flags.unused()) std::fprintf(stderr, "unknown flag --%s\n", u.c_str());
    std::fprintf(stderr,
                 "usage: posteriors [--posteriors=all|gauss_100,corr_gauss_50,eight_schools_nc,"
                 "logistic_1000x25,gp_student_t_100,funnel_10] [--chains=4] [--warmup=1000] "
                 "[--draws=1000] [--threads=0 (all cores)] [--metric=auto|diag|dense] [--seed=1] "
                 "[--max_doublings=10] [--repeats=1] [--output=-|file.csv] [--draws_dir=dir] "
                 "[--data_dir=dir] [--adaptation=window|fisher_diagonal|fisher_low_rank|"
                 "fisher_auto] [--fisher_jitter=0] [--fisher_symmetric=true] (also: mtcars_uncentred,stackloss_t,chickweight_hier,"
                 "warpbreaks_pln)\n");
    return help ? 0 : 2;
  }
  const std::vector<std::string> all = {"gauss_100",        "corr_gauss_50",    "eight_schools_nc",
                                        "logistic_1000x25", "gp_student_t_100", "funnel_10",
                                        "mtcars_uncentred", "stackloss_t", "chickweight_hier",
                                        "warpbreaks_pln"};
  std::vector<std::string> names = which == "all" ? all : split_commas(which);
  const std::size_t threads =
      nutshell::detail::resolve_num_threads(cfg.threads, cfg.chains);

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (output != "-") {
    file.open(output);
    if (!file) {
      std::fprintf(stderr, "cannot write %s\n", output.c_str());
      return 1;
    }
    out = &file;
  }
  *out << kHeader << "\n" << std::flush;
  int failures = 0;
  for (const std::string& name : names) {
    const auto it = std::find(all.begin(), all.end(), name);
    if (it == all.end()) {
      std::fprintf(stderr, "unknown posterior %s\n", name.c_str());
      ++failures;
      continue;
    }
    const std::size_t index = static_cast<std::size_t>(it - all.begin());
    absl::StatusOr<Row> row;
    if (name == "gauss_100") row = load_and_run<P::Gauss100>(index, cfg);
    if (name == "corr_gauss_50") row = load_and_run<P::CorrGauss50>(index, cfg);
    if (name == "eight_schools_nc") row = load_and_run<P::EightSchoolsNc>(index, cfg);
    if (name == "logistic_1000x25") row = load_and_run<P::Logistic1000x25>(index, cfg);
    if (name == "gp_student_t_100") row = load_and_run<P::GpStudentT100>(index, cfg);
    if (name == "funnel_10") row = load_and_run<P::Funnel10>(index, cfg);
    if (name == "mtcars_uncentred") row = load_and_run<P::MtcarsUncentred>(index, cfg, true);
    if (name == "stackloss_t") row = load_and_run<P::StacklossT>(index, cfg, true);
    if (name == "chickweight_hier") row = load_and_run<P::ChickweightHier>(index, cfg, true);
    if (name == "warpbreaks_pln") row = load_and_run<P::WarpbreaksPln>(index, cfg, true);
    if (!row.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), std::string(row.status().message()).c_str());
      ++failures;
      continue;
    }
    *out << format_row(*row, cfg, threads) << "\n" << std::flush;
    std::fprintf(stderr,
                 "%-18s %-5s warmup %.2fs sampling %.2fs grads %llu  ESS bulk %.0f tail %.0f  "
                 "R-hat %.4f  div %llu  eps %.3g [%.3g, %.3g]  depth %.2f  allocs/transition %g\n",
                 row->posterior.c_str(), row->metric.c_str(), row->wall_warmup,
                 row->wall_sampling,
                 static_cast<unsigned long long>(row->steps_warmup + row->steps_sampling),
                 row->min_ess_bulk, row->min_ess_tail, row->max_rhat,
                 static_cast<unsigned long long>(row->divergences), row->step_size,
                 row->step_size_min, row->step_size_max, row->mean_depth, row->heap_allocs);
  }
  return failures == 0 ? 0 : 1;
}
