// MAMS (issue 16) against NUTS with window adaptation, side by side in one
// run, through `sample` with each kernel's own warmup.
//
//   bazel run --config=opt //benchmarks:mams_vs_nuts --
//       [--posteriors=all|name,...] [--seeds=5] [--chains=4] [--warmup=1000]
//       [--draws=1000] [--threads=1] [--output=-|path.csv]
//
// Per posterior, sampler and seed: `sample` with 4 chains from Stan's
// default random starts (uniform(-2, 2) around the posterior's initial
// point), `warmup` warmup transitions then `draws` draws. The figures of
// merit are the min bulk ESS over the coordinates divided by EVERY
// log-density gradient of the run (warmup, step-size searches and sampling),
// and by the sampler's time: the chains' warmup + sampling thread CPU
// seconds from `sample`'s accounting (CPU, not wall: the machine is shared
// and loaded), excluding the summary diagnostics, which cost the same for
// both and dominate on cheap models. The CSV also has the whole call's wall
// seconds. Output: one CSV row per run, then (on stderr) per
// posterior the medians over seeds and MAMS's ratio to NUTS (median of the
// per-seed ratios).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/mams.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell::bench {
namespace {

struct Config {
  std::size_t chains = 4, warmup = 1000, draws = 1000, seeds = 5, threads = 1;
};

struct Outcome {
  double min_ess_bulk = 0.0, max_rhat = 0.0, seconds = 0.0, call_seconds = 0.0;
  std::uint64_t gradients = 0, divergences = 0;
  double step_size = 0.0, L = 0.0;  // chain means (L: MAMS only)
};

template <class K, class M>
absl::StatusOr<Outcome> run_one(const K& kernel, const M& model, const Key& key,
                                const Config& cfg) {
  SampleOptions o;
  o.num_chains = cfg.chains;
  o.num_warmup = cfg.warmup;
  o.num_samples = cfg.draws;
  o.num_threads = cfg.threads;
  o.progress_bar = false;
  const auto t0 = std::chrono::steady_clock::now();
  auto d = sample(key, kernel, model, model.initial_point(), o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!d.ok()) return d.status();
  if (!d->status.ok()) return d->status;
  Outcome out;
  out.call_seconds = seconds;
  for (const auto& a : d->accounting) out.seconds += a.warmup_cpu_seconds + a.sampling_cpu_seconds;
  auto bulk = diagnostics::ess_bulk(d->positions);
  auto rhat = diagnostics::rhat(d->positions);
  if (!bulk.ok()) return bulk.status();
  if (!rhat.ok()) return rhat.status();
  out.min_ess_bulk = xt::amin(*bulk)();
  out.max_rhat = xt::amax(*rhat)();
  for (const auto& a : d->accounting)
    out.gradients += a.gradient_evaluations + a.gradient_evaluations_warmup +
                     a.gradient_evaluations_step_size_search;
  out.divergences = d->num_divergent;
  for (const auto& p : d->params) {
    out.step_size += p.step_size / d->params.size();
    if constexpr (requires { p.L; }) out.L += p.L / d->params.size();
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class M>
int run_posterior(const std::string& name, const Config& cfg, std::ostream& csv) {
  auto model = M::load();
  if (!model.ok()) {
    std::cerr << name << ": " << model.status() << "\n";
    return 1;
  }
  std::map<std::string, std::vector<double>> per_grad, per_sec;
  std::vector<double> ratio_grad, ratio_sec;
  int failures = 0;
  for (std::size_t seed = 1; seed <= cfg.seeds; ++seed) {
    const Key key = make_key(seed);
    auto nuts = run_one(nuts::Kernel{}, *model, key, cfg);
    auto mams = run_one(mams::Kernel{}, *model, key, cfg);
    double epg[2] = {0, 0}, eps[2] = {0, 0};
    int i = 0;
    for (const auto* r : {&nuts, &mams}) {
      const std::string sampler = i == 0 ? "nuts" : "mams";
      if (!r->ok()) {
        std::cerr << name << " " << sampler << " seed " << seed << ": " << r->status() << "\n";
        ++failures;
        ++i;
        continue;
      }
      const Outcome& o = **r;
      epg[i] = 1000.0 * o.min_ess_bulk / static_cast<double>(o.gradients);
      eps[i] = o.min_ess_bulk / o.seconds;
      per_grad[sampler].push_back(epg[i]);
      per_sec[sampler].push_back(eps[i]);
      csv << name << "," << sampler << "," << seed << "," << o.min_ess_bulk << "," << o.gradients
          << "," << o.seconds << "," << o.call_seconds << "," << epg[i] << "," << eps[i] << "," << o.max_rhat << ","
          << o.divergences << "," << o.step_size << "," << o.L << "\n";
      ++i;
    }
    if (epg[0] > 0 && epg[1] > 0) {
      ratio_grad.push_back(epg[1] / epg[0]);
      ratio_sec.push_back(eps[1] / eps[0]);
    }
  }
  std::fprintf(stderr,
               "| %-17s | %8.2f | %8.2f | %5.2fx | %9.0f | %9.0f | %5.2fx |\n", name.c_str(),
               median(per_grad["nuts"]), median(per_grad["mams"]), median(ratio_grad),
               median(per_sec["nuts"]), median(per_sec["mams"]), median(ratio_sec));
  return failures;
}

}  // namespace
}  // namespace nutshell::bench

int main(int argc, char** argv) {
  using namespace nutshell;
  using namespace nutshell::bench;
  Config cfg;
  std::string posteriors = "all", output = "-";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const std::string f = std::string(flag) + "=";
      return a.rfind(f, 0) == 0 ? argv[i] + f.size() : nullptr;
    };
    if (auto v = value("--posteriors")) posteriors = v;
    else if (auto v = value("--seeds")) cfg.seeds = std::stoul(v);
    else if (auto v = value("--chains")) cfg.chains = std::stoul(v);
    else if (auto v = value("--warmup")) cfg.warmup = std::stoul(v);
    else if (auto v = value("--draws")) cfg.draws = std::stoul(v);
    else if (auto v = value("--threads")) cfg.threads = std::stoul(v);
    else if (auto v = value("--output")) output = v;
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (output != "-") {
    file.open(output);
    out = &file;
  }
  *out << "posterior,sampler,seed,min_ess_bulk,gradients,sampler_cpu_seconds,call_wall_seconds,"
          "ess_bulk_per_1000_grads,"
          "ess_bulk_per_second,max_rhat,divergences,step_size,L\n";
  std::fprintf(stderr,
               "| posterior         | NUTS ESS/1000 grads | MAMS | MAMS/NUTS | NUTS ESS/s | "
               "MAMS ESS/s | MAMS/NUTS |\n|---|---|---|---|---|---|---|\n");
  auto wanted = [&](const std::string& n) {
    return posteriors == "all" || ("," + posteriors + ",").find("," + n + ",") != std::string::npos;
  };
  namespace P = nutshell::posteriors;
  int failures = 0;
  if (wanted("gauss_100")) failures += run_posterior<P::Gauss100>("gauss_100", cfg, *out);
  if (wanted("corr_gauss_50")) failures += run_posterior<P::CorrGauss50>("corr_gauss_50", cfg, *out);
  if (wanted("eight_schools_nc"))
    failures += run_posterior<P::EightSchoolsNc>("eight_schools_nc", cfg, *out);
  if (wanted("logistic_1000x25"))
    failures += run_posterior<P::Logistic1000x25>("logistic_1000x25", cfg, *out);
  if (wanted("funnel_10")) failures += run_posterior<P::Funnel10>("funnel_10", cfg, *out);
  if (wanted("gp_student_t_100"))
    failures += run_posterior<P::GpStudentT100>("gp_student_t_100", cfg, *out);
  return failures == 0 ? 0 : 1;
}
