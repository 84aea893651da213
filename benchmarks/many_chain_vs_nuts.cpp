// Many-chain samplers against NUTS, side by side in one run (issue 16):
// ChEES-tuned dynamic HMC and MEADS-tuned GHMC against NUTS after window
// adaptation, all through `sample`, on the six shared posteriors, over
// several seeds.
//
//   bazel build //benchmarks:many_chain_vs_nuts
//   ./bazel-bin/benchmarks/many_chain_vs_nuts --seeds=5 --output=/tmp/many_chain.csv
//   (--posteriors=eight_schools_nc,... --methods=nuts,chees,meads --threads=2)
//
// Figures of merit, per run: min bulk ESS over the coordinates divided by
// EVERY gradient of the run (warmup, step-size search and sampling, all
// chains), and divided by the sampler's wall seconds (the `sample` call
// minus the time its summary table takes, which grows with the number of
// kept draws and is not sampling). Ratios to NUTS are per seed (same
// seed), then the median over seeds.
//
// Adding a sampler (e.g. MAMS) is one more entry in `methods()`: a name and
// a function (density, starts, seed, threads) -> RunOut that calls `sample`
// (or anything else) and returns the kept draws, the gradient count and the
// wall time. The density is type-erased (ErasedDensity), so a method is
// written once for every posterior; the table and CSV pick it up.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "benchmarks/common.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/mcmc/mams.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell::bench {
namespace {

/// Any posterior as one type: a copy owns a copy of the model (its
/// scratch), which is what `sample` gives each chain.
struct ErasedDensity {
  std::function<double(const Vec&, Vec&)> f;
  double operator()(const Vec& x, Vec& grad) const { return f(x, grad); }
};

/// What one method's run hands back.
struct RunOut {
  diagnostics::Draws draws;      ///< kept draws [chain, draw, dim]
  std::uint64_t gradients = 0;   ///< every gradient of the run
  double seconds = 0.0;          ///< sampler wall time (summary excluded)
  double step_size = 0.0;        ///< chain 0's tuned step size
  std::size_t divergences = 0;   ///< sampling
};

using Starts = std::function<Vec(const Key&, std::size_t)>;
using Method = std::function<absl::StatusOr<RunOut>(const ErasedDensity&, const Starts&,
                                                    std::uint64_t seed, std::size_t threads)>;

/// Runs `sample` and turns its Draws into a RunOut.
template <class K>
absl::StatusOr<RunOut> run_sample(K kernel, const ErasedDensity& f, const Starts& starts,
                                  std::uint64_t seed, const SampleOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto d = sample(make_key(seed), kernel, f, InitialPositions::from_function(starts), o);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!d.ok()) return d.status();
  if (!d->status.ok()) return d->status;
  RunOut out;
  const auto t1 = std::chrono::steady_clock::now();
  auto s = diagnostics::summary(d->positions, d->num_divergent, {});
  const double summary = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  out.seconds = std::max(1e-9, total - summary);
  out.draws = std::move(d->positions);
  for (const auto& a : d->accounting)
    out.gradients += a.gradient_evaluations_warmup + a.gradient_evaluations_step_size_search +
                     a.gradient_evaluations;
  out.step_size = d->params[0].step_size;
  out.divergences = d->num_divergent;
  return out;
}

/// A method that runs `kernel` under `o`, on the run's thread count.
template <class K>
Method run_with(K kernel, SampleOptions o) {
  o.progress_bar = false;
  return [kernel, o](const ErasedDensity& f, const Starts& s, std::uint64_t seed,
                     std::size_t threads) {
    SampleOptions run = o;
    run.num_threads = threads;
    return run_sample(kernel, f, s, seed, run);
  };
}

/// `chains` x (`warmup` + `samples`, every `thinning`th kept) after `warmup`.
SampleOptions schedule(Warmup warmup_kind, std::size_t chains, std::size_t warmup,
                       std::size_t samples, std::size_t thinning = 1) {
  SampleOptions o;
  o.warmup = warmup_kind;
  o.num_chains = chains;
  o.num_warmup = warmup;
  o.num_samples = samples;
  o.thinning = thinning;
  o.chees.initial_step_size = 0.1;  // read only by Warmup::kChees
  return o;
}

/// The samplers compared: name -> run. NUTS first (the ratios' reference).
std::vector<std::pair<std::string, Method>> methods() {
  const SampleOptions defaults;
  SampleOptions meads_long = schedule(Warmup::kMeads, 16, 2000, 30000, 30);
  meads_long.meads.step_size_multiplier = 0.3;
  return {
      // Stan's defaults: 4 chains x (1000 window warmup + 1000).
      {"nuts", run_with(nuts::Kernel{}, schedule(defaults.warmup, 4, 1000, 1000))},
      // 32 chains x (500 lockstep ChEES warmup + 500) jittered HMC.
      {"chees", run_with(dynamic_hmc::Kernel{}, schedule(Warmup::kChees, 32, 500, 500))},
      // 32 chains in 4 folds x (1000 lockstep MEADS warmup + 4000, every 4th
      // kept) GHMC.
      {"meads", run_with(ghmc::build_kernel(), schedule(Warmup::kMeads, 32, 1000, 4000, 4))},
      // The settings under which ChEES and MEADS pass the validation on
      // gp_student_t_100 (tests/validation/many_chain_posteriors.cpp says
      // why each is needed), and NUTS with about chees_long's gradients, so
      // that warmup is amortised alike; not in the default --methods=all.
      {"nuts_long", run_with(nuts::Kernel{}, schedule(defaults.warmup, 4, 1000, 3000))},
      {"chees_long", run_with(dynamic_hmc::Kernel{}, schedule(Warmup::kChees, 32, 1000, 6000, 6))},
      {"meads_long", run_with(ghmc::build_kernel(), meads_long)},  // step multiplier 0.3
      // 4 chains x (1000 MAMS warmup + 1000), as mams_vs_nuts.cpp.
      {"mams", run_with(mams::Kernel{}, schedule(defaults.warmup, 4, 1000, 1000))},
  };
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

template <class M>
int run_posterior(const std::string& name, const std::vector<std::string>& which,
                  std::size_t seeds, std::size_t threads, std::ostream& csv) {
  auto model = M::load();
  if (!model.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), std::string(model.status().message()).c_str());
    return 1;
  }
  M m = *model;
  ErasedDensity f{[m](const Vec& x, Vec& g) mutable { return m(x, g); }};
  const Starts starts = [m](const Key& k, std::size_t) { return m.initial_point(k); };
  std::map<std::string, std::vector<double>> epg, eps, r_epg, r_eps;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    double nuts_epg = 0.0, nuts_eps = 0.0;
    for (const auto& [mname, run] : methods()) {
      if (std::find(which.begin(), which.end(), mname) == which.end()) continue;
      auto o = run(f, starts, seed, threads);
      if (!o.ok()) {
        std::fprintf(stderr, "%s %s seed %llu: %s\n", name.c_str(), mname.c_str(),
                     static_cast<unsigned long long>(seed), std::string(o.status().message()).c_str());
        return 1;
      }
      auto bulk = diagnostics::ess_bulk(o->draws);
      auto rhat = diagnostics::rhat(o->draws);
      if (!bulk.ok() || !rhat.ok()) return 1;
      const double ess = xt::amin(*bulk)();
      const double per_grad = ess / static_cast<double>(o->gradients), per_s = ess / o->seconds;
      if (mname == "nuts") nuts_epg = per_grad, nuts_eps = per_s;
      epg[mname].push_back(per_grad);
      eps[mname].push_back(per_s);
      if (nuts_epg > 0.0) {
        r_epg[mname].push_back(per_grad / nuts_epg);
        r_eps[mname].push_back(per_s / nuts_eps);
      }
      csv << name << "," << mname << "," << seed << "," << ess << "," << o->gradients << ","
          << o->seconds << "," << 1000.0 * per_grad << "," << per_s << "," << xt::amax(*rhat)()
          << "," << o->divergences << "," << o->step_size << "\n"
          << std::flush;
    }
  }
  std::fprintf(stderr, "| %s |", name.c_str());
  for (const auto& [mname, run] : methods())
    if (epg.count(mname)) std::fprintf(stderr, " %.2f / %.0f |", 1000.0 * median(epg[mname]), median(eps[mname]));
  for (const auto& [mname, run] : methods()) {
    if (mname == "nuts" || !r_epg.count(mname)) continue;
    const auto [lo, hi] = std::minmax_element(r_epg[mname].begin(), r_epg[mname].end());
    std::fprintf(stderr, " **%.2f** (%.2f-%.2f) / %.2f |", median(r_epg[mname]), *lo, *hi,
                 median(r_eps[mname]));
  }
  std::fprintf(stderr, "\n");
  return 0;
}

}  // namespace
}  // namespace nutshell::bench

int main(int argc, char** argv) {
  nutshell::bench::ensure_single_threaded_blas(argv);
  using namespace nutshell::bench;
  namespace P = nutshell::posteriors;
  Flags flags(argc, argv);
  const auto seeds = static_cast<std::size_t>(flags.get_int("seeds", 5));
  const auto threads = static_cast<std::size_t>(flags.get_int("threads", 2));
  std::string output = flags.get("output", "-");
  if (!output.empty() && output != "-" && output[0] != '/')
    if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY")) output = std::string(wd) + "/" + output;
  const std::string which = flags.get("posteriors", "all");
  const std::string ms = flags.get("methods", "all");
  if (!flags.unused().empty() || seeds == 0) {
    std::fprintf(stderr,
                 "usage: many_chain_vs_nuts [--posteriors=all|name,...] "
                 "[--methods=all|nuts,chees,meads,mams,nuts_long,chees_long,meads_long] "
                 "[--seeds=5] "
                 "[--threads=2] [--output=-|file.csv]\n");
    return 2;
  }
  const std::vector<std::string> all = {"gauss_100",        "corr_gauss_50",    "eight_schools_nc",
                                        "logistic_1000x25", "gp_student_t_100", "funnel_10"};
  const std::vector<std::string> names = which == "all" ? all : split_commas(which);
  std::vector<std::string> method_names;
  for (const auto& [n, r] : methods())
    if (n.find("_long") == std::string::npos) method_names.push_back(n);
  const std::vector<std::string> chosen = ms == "all" ? method_names : split_commas(ms);
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (output != "-") {
    file.open(output);
    out = &file;
  }
  *out << "posterior,method,seed,min_ess_bulk,gradients,seconds,ess_bulk_per_1000_grads,"
          "ess_bulk_per_s,max_rhat,divergences,step_size\n";
  std::fprintf(stderr, "| posterior |");
  for (const auto& n : chosen) std::fprintf(stderr, " %s ESS/1000 grads / ESS/s |", n.c_str());
  for (const auto& n : chosen)
    if (n != "nuts") std::fprintf(stderr, " %s / nuts per grad (min-max) / per s |", n.c_str());
  std::fprintf(stderr, "\n");
  int rc = 0;
  for (const auto& n : names) {
    if (n == "gauss_100") rc |= run_posterior<P::Gauss100>(n, chosen, seeds, threads, *out);
    else if (n == "corr_gauss_50") rc |= run_posterior<P::CorrGauss50>(n, chosen, seeds, threads, *out);
    else if (n == "eight_schools_nc") rc |= run_posterior<P::EightSchoolsNc>(n, chosen, seeds, threads, *out);
    else if (n == "logistic_1000x25") rc |= run_posterior<P::Logistic1000x25>(n, chosen, seeds, threads, *out);
    else if (n == "gp_student_t_100") rc |= run_posterior<P::GpStudentT100>(n, chosen, seeds, threads, *out);
    else if (n == "funnel_10") rc |= run_posterior<P::Funnel10>(n, chosen, seeds, threads, *out);
    else {
      std::fprintf(stderr, "unknown posterior %s\n", n.c_str());
      rc = 2;
    }
  }
  return rc;
}
