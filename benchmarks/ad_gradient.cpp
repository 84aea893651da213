// The cost of an autodiff gradient against the hand-written one, on the six
// shared posteriors (Google Benchmark):
//
//   bazel run --config=opt //benchmarks:ad_gradient
//
// Benchmarks `hand/<model>` (tests/posteriors, hand-written gradient) and
// `ad/<model>` (tests/posteriors/ad: the same posterior written once with the
// layout, the distributions and the AD scalar, gradient by reverse mode),
// each at the model's first Stan check point. After the run, a table gives the AD / hand-written ratio
// measured in this run and the AD time against Stan 2.21's cost per gradient:
// issue 10's figures (rstan on another machine), or, better, Stan's cost on
// this machine measured by benchmarks/stan_gradient.R:
//
//   Rscript benchmarks/stan_gradient.R --posteriors=gp_student_t_100,... > /tmp/stan.csv
//   bazel run --config=opt //benchmarks:ad_gradient -- --stan_csv=/tmp/stan.csv
//
// (the median over rounds of its `chain_us`, Stan's sampling CPU time per
// leapfrog step, replaces the figure for every posterior in the file).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "benchmarks/alloc_counter.hpp"
#include "benchmarks/common.hpp"
#include "nutshell/ad/ad.hpp"
#include "tests/posteriors/ad/all.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace {

using namespace nutshell;
using namespace nutshell::posteriors;

// Stan 2.21, microseconds per gradient (issue 10).
std::map<std::string, double> g_stan_micros = {
    {"gauss_100", 3.8},         {"corr_gauss_50", 15.0},     {"eight_schools_nc", 1.7},
    {"logistic_1000x25", 21.0}, {"gp_student_t_100", 200.0}, {"funnel_10", 1.0},
};

std::vector<std::string> g_order;

// Replaces g_stan_micros' entries by the median `chain_us` per posterior of
// stan_gradient.R's CSV (name,round,grad_us,lp_us,chain_us). False when the
// file cannot be read.
bool read_stan_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;
  std::map<std::string, std::vector<double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
    if (f.size() != 5 || f[0] == "name") continue;
    rows[f[0]].push_back(std::stod(f[4]));
  }
  for (auto& [name, v] : rows) {
    std::sort(v.begin(), v.end());
    g_stan_micros[name] = v[v.size() / 2];
  }
  return !rows.empty();
}

// Times gradients at u, then counts heap allocations (malloc family and
// operator new, this thread) over 100 more: `heap_allocs` per gradient.
template <class F>
void run(benchmark::State& state, F& f, const Vec& u) {
  Vec g = Vec::from_shape({u.size()});
  for (auto _ : state) benchmark::DoNotOptimize(f(u, g));
  const auto before = bench::thread_heap_allocations();
  for (int i = 0; i < 100; ++i) benchmark::DoNotOptimize(f(u, g));
  state.counters["heap_allocs"] = static_cast<double>(bench::thread_heap_allocations() - before) / 100.0;
}

template <class Hand, class Ad>
void register_model() {
  const std::string name(Hand::kName);
  auto hand = Hand::load();
  auto admodel = Ad::load();
  auto cp = load_check_points(Hand::kName);
  if (!hand.ok() || !admodel.ok() || !cp.ok() || cp->points.empty()) {
    std::fprintf(stderr, "cannot load %s\n", name.c_str());
    std::exit(1);
  }
  const Vec u = cp->points.front().u;
  g_order.push_back(name);
  benchmark::RegisterBenchmark(("hand/" + name).c_str(),
                               [h = *hand, u](benchmark::State& state) mutable { run(state, h, u); })
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(
      ("ad/" + name).c_str(),
      [a = *admodel, u](benchmark::State& state) mutable { run(state, a, u); })
      ->Unit(benchmark::kMicrosecond);
}

// Keeps the console output and remembers each benchmark's time per iteration
// (the median when repetitions are asked for), as CPU time: on a shared
// machine wall time also counts the other processes' time slices.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> micros;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      std::string name = r.benchmark_name();
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name != "median") continue;
        name = name.substr(0, name.rfind('_'));
      } else if (micros.count(name) && r.repetitions > 1) {
        continue;
      }
      micros[name] = r.GetAdjustedCPUTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  bench::ensure_single_threaded_blas(argv);
  const char* stan_source = "issue 10's figures";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--stan_csv=", 11) == 0) {
      if (!read_stan_csv(argv[i] + 11)) {
        std::fprintf(stderr, "cannot read %s\n", argv[i] + 11);
        return 1;
      }
      stan_source = argv[i] + 11;
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      --i;
    }
  register_model<Gauss100, Gauss100Ad>();
  register_model<CorrGauss50, CorrGauss50Ad>();
  register_model<EightSchoolsNc, EightSchoolsNcAd>();
  register_model<Funnel10, Funnel10Ad>();
  register_model<Logistic1000x25, Logistic1000x25Ad>();
  register_model<GpStudentT100, GpStudentT100Ad>();
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nCPU time per gradient (Stan: %s)\n%-18s %12s %12s %8s %10s %8s\n", stan_source,
              "posterior", "hand (us)", "AD (us)", "AD/hand", "Stan (us)", "AD/Stan");
  for (const std::string& name : g_order) {
    auto h = reporter.micros.find("hand/" + name), a = reporter.micros.find("ad/" + name);
    if (h == reporter.micros.end() || a == reporter.micros.end()) continue;
    const double stan = g_stan_micros.at(name);
    std::printf("%-18s %12.3f %12.3f %8.2f %10.2f %8.3f\n", name.c_str(), h->second, a->second,
                a->second / h->second, stan, a->second / stan);
  }
  benchmark::Shutdown();
  return 0;
}
