// ESS per gradient of three warmups driving the same NUTS: Stan's window
// adaptation (diagonal, as Stan's diag_e), nutpie's fisher_diagonal and
// fisher_low_rank (issue 13).
//
//   bazel run --config=opt //benchmarks:adaptation_ess --
//       [--posteriors=all|name,...] [--seeds=5] [--chains=4] [--warmup=1000]
//       [--draws=1000] [--output=-|path.csv]
//
// Per posterior, adaptation and seed: 4 chains from Stan's default initial
// point (uniform(-2, 2) per coordinate), `warmup` adaptation steps, then
// `draws` NUTS transitions with the tuned parameters, one chain after the
// other on one thread. The figure of merit is the min bulk ESS over the
// coordinates divided by EVERY log-density gradient of the run: warmup,
// step-size searches and sampling. Output: one CSV row per run, then (on
// stderr) per posterior the median over seeds of each adaptation's ratio to
// window adaptation of the same seed.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/common.hpp"
#include "nutshell/adaptation/fisher_adaptation.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell::bench {
namespace {

struct Config {
  std::size_t chains = 4, warmup = 1000, draws = 1000, seeds = 5;
};

struct Outcome {
  double min_ess_bulk = 0.0, max_rhat = 0.0;
  std::uint64_t gradients = 0, warmup_gradients = 0, divergences = 0;
  double mean_step_size = 0.0;
  std::size_t rank = 0;  // low-rank correction's rank (chain mean, rounded)
};

const std::vector<std::string> kAdaptations = {"window", "fisher_diagonal", "fisher_low_rank"};

// Warmup of one chain with adaptation `a`; returns the state and params.
template <class F>
absl::StatusOr<std::pair<GradientState, nuts::Params>> warm(const std::string& a, F& f,
                                                            const Key& key, const Vec& x0,
                                                            std::size_t n) {
  nuts::Kernel kernel;
  if (a == "window") {
    auto w = adaptation::window_adaptation(kernel, std::ref(f));
    auto r = w.run(key, x0, n);
    if (!r.ok()) return r.status();
    return std::make_pair(std::move(r->state), std::move(r->parameters));
  }
  adaptation::FisherAdaptationOptions o;
  o.low_rank = a == "fisher_low_rank";
  auto w = adaptation::fisher_adaptation(kernel, std::ref(f), o);
  auto r = w.run(key, x0, n);
  if (!r.ok()) return r.status();
  return std::make_pair(std::move(r->state), std::move(r->parameters));
}

template <class M>
absl::StatusOr<Outcome> run_once(const M& model, const std::string& a, std::uint64_t seed,
                                 std::size_t index, const Config& cfg) {
  const std::size_t dim = model.dim();
  diagnostics::Draws draws = diagnostics::Draws::from_shape({cfg.chains, cfg.draws, dim});
  Outcome out;
  const Key root = fold_in(make_key(seed), index);
  for (std::size_t c = 0; c < cfg.chains; ++c) {
    const Key ck = split_one(root, c);
    Counted<M> f(model);
    const Vec x0 = model.initial_point(fold_in(ck, 0));
    auto w = warm(a, f, split_one(ck, 1), x0, cfg.warmup);
    if (!w.ok()) return w.status();
    out.warmup_gradients += f.count();
    out.mean_step_size += w->second.step_size / cfg.chains;
    out.rank += w->second.inverse_mass_matrix.rank();
    nuts::Kernel kernel;
    nuts::Workspace ws;
    nuts::Info info;
    GradientState cur = w->first, next = w->first;
    const Key sk = split_one(ck, 2);
    for (std::size_t i = 0; i < cfg.draws; ++i) {
      auto st = kernel.step_into(fold_in(sk, i), cur, f, w->second, next, info, ws);
      if (!st.ok()) return st;
      std::swap(cur, next);
      for (std::size_t j = 0; j < dim; ++j) draws(c, i, j) = cur.position(j);
      out.divergences += info.is_divergent ? 1 : 0;
    }
    out.gradients += f.count();
  }
  out.rank = (out.rank + cfg.chains / 2) / cfg.chains;
  auto bulk = diagnostics::ess_bulk(draws);
  if (!bulk.ok()) return bulk.status();
  auto rhat = diagnostics::rhat(draws);
  if (!rhat.ok()) return rhat.status();
  out.min_ess_bulk = xt::amin(*bulk)();
  out.max_rhat = xt::amax(*rhat)();
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

template <class M>
int run_posterior(const std::string& name, std::size_t index, const Config& cfg,
                  std::ostream& csv) {
  auto model = M::load();
  if (!model.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), std::string(model.status().message()).c_str());
    return 1;
  }
  std::map<std::string, std::vector<double>> per_grad, ratio, warm_ratio;
  std::map<std::string, std::vector<double>> warmup_grads;
  for (std::uint64_t seed = 1; seed <= cfg.seeds; ++seed) {
    double window = 0.0, window_warm = 0.0;
    for (const std::string& a : kAdaptations) {
      auto o = run_once(*model, a, seed, index, cfg);
      if (!o.ok()) {
        std::fprintf(stderr, "%s %s seed %llu: %s\n", name.c_str(), a.c_str(),
                     static_cast<unsigned long long>(seed),
                     std::string(o.status().message()).c_str());
        return 1;
      }
      const double epg = o->min_ess_bulk / static_cast<double>(o->gradients);
      if (a == "window") window = epg, window_warm = static_cast<double>(o->warmup_gradients);
      per_grad[a].push_back(epg);
      ratio[a].push_back(epg / window);
      warm_ratio[a].push_back(static_cast<double>(o->warmup_gradients) / window_warm);
      csv << name << "," << a << "," << seed << "," << o->min_ess_bulk << "," << o->gradients
          << "," << o->warmup_gradients << "," << 1000.0 * epg << "," << o->max_rhat << ","
          << o->divergences << "," << o->mean_step_size << "," << o->rank << "\n"
          << std::flush;
    }
  }
  std::fprintf(stderr, "| %s |", name.c_str());
  for (const std::string& a : kAdaptations)
    std::fprintf(stderr, " %.2f |", 1000.0 * median(per_grad[a]));
  for (const std::string& a : kAdaptations) {
    if (a == "window") continue;
    const auto [lo, hi] = std::minmax_element(ratio[a].begin(), ratio[a].end());
    std::fprintf(stderr, " %.2f (%.2f-%.2f) |", median(ratio[a]), *lo, *hi);
  }
  for (const std::string& a : kAdaptations)
    if (a != "window") std::fprintf(stderr, " %.2f |", median(warm_ratio[a]));
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
  Config cfg;
  cfg.chains = static_cast<std::size_t>(flags.get_int("chains", 4));
  cfg.warmup = static_cast<std::size_t>(flags.get_int("warmup", 1000));
  cfg.draws = static_cast<std::size_t>(flags.get_int("draws", 1000));
  cfg.seeds = static_cast<std::size_t>(flags.get_int("seeds", 5));
  std::string output = flags.get("output", "-");
  if (!output.empty() && output != "-" && output[0] != '/')
    if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY")) output = std::string(wd) + "/" + output;
  const std::string which = flags.get("posteriors", "all");
  if (!flags.unused().empty() || cfg.chains < 2 || cfg.warmup == 0 || cfg.draws < 4 ||
      cfg.seeds == 0) {
    std::fprintf(stderr,
                 "usage: adaptation_ess [--posteriors=all|name,...] [--seeds=5] [--chains=4] "
                 "[--warmup=1000] [--draws=1000] [--output=-|file.csv]\n");
    return 2;
  }
  const std::vector<std::string> all = {"gauss_100",        "corr_gauss_50",    "eight_schools_nc",
                                        "logistic_1000x25", "gp_student_t_100", "funnel_10"};
  const std::vector<std::string> names = which == "all" ? all : split_commas(which);
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (output != "-") {
    file.open(output);
    out = &file;
  }
  *out << "posterior,adaptation,seed,min_ess_bulk,gradients,warmup_gradients,"
          "ess_bulk_per_1000_grads,max_rhat,divergences,step_size,rank\n";
  std::fprintf(stderr,
               "| posterior | window ESS/1000 grads | fisher_diagonal | fisher_low_rank | "
               "fisher_diagonal / window (min-max) | fisher_low_rank / window (min-max) | "
               "warmup grads fisher_diagonal / window | fisher_low_rank / window |\n");
  int failures = 0;
  for (const std::string& name : names) {
    const auto it = std::find(all.begin(), all.end(), name);
    if (it == all.end()) {
      std::fprintf(stderr, "unknown posterior %s\n", name.c_str());
      ++failures;
      continue;
    }
    const std::size_t index = static_cast<std::size_t>(it - all.begin());
    if (name == "gauss_100") failures += run_posterior<P::Gauss100>(name, index, cfg, *out);
    if (name == "corr_gauss_50") failures += run_posterior<P::CorrGauss50>(name, index, cfg, *out);
    if (name == "eight_schools_nc")
      failures += run_posterior<P::EightSchoolsNc>(name, index, cfg, *out);
    if (name == "logistic_1000x25")
      failures += run_posterior<P::Logistic1000x25>(name, index, cfg, *out);
    if (name == "gp_student_t_100")
      failures += run_posterior<P::GpStudentT100>(name, index, cfg, *out);
    if (name == "funnel_10") failures += run_posterior<P::Funnel10>(name, index, cfg, *out);
  }
  return failures == 0 ? 0 : 1;
}
