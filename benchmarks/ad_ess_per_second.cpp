// End to end: ESS per second of a model written once (layout + distributions
// + reverse-mode AD, tests/posteriors/ad) against the same model with a
// hand-written gradient (tests/posteriors), on the six shared posteriors:
//
//   bazel run --config=opt //benchmarks:ad_ess_per_second [-- --reps=3]
//
// Each run is `nutshell::sample`: window adaptation then NUTS, 4 chains on one
// thread (so wall time is CPU time of one core, not a share of a busy
// machine), 1000 + 1000 transitions per chain (250 + 250 for the GP), the
// metric the posterior's README advises. Both versions get the same key and
// the same starts; they are run interleaved (hand, AD, AD, hand, ...) so a
// change in machine load hits both. ESS/s is the minimum bulk ESS over the
// coordinates divided by the wall seconds of the whole run (warmup
// included); the table gives the median over the repetitions of each, and
// three ratios AD / hand: the median of the per-seed ratios (min-max), the
// pooled ratio (summed ESS over summed seconds) and the time ratio (hand s /
// AD s). Issue 10's target: ratio >= 0.5. `--draws=N` sets warmup and draws
// per chain (a quarter for the GP), `--per_seed=1` prints each seed on
// stderr, `--only=a,b` picks posteriors.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "benchmarks/common.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/posteriors/ad/all.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace {

using namespace nutshell;
using namespace nutshell::posteriors;

struct Measure {
  double ess = 0.0;      // min bulk ESS
  double seconds = 0.0;  // wall time of the whole run
  std::size_t gradients = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class M>
Measure run_once(M model, bool dense, std::size_t warmup, std::size_t draws, const Key& key) {
  SampleOptions options;
  options.num_chains = 4;
  options.num_threads = 1;
  options.num_warmup = warmup;
  options.num_samples = draws;
  options.progress_bar = false;
  options.metric = dense ? MetricKind::kDense : MetricKind::kDiagonal;
  const Vec x0 = xt::zeros<double>({model.dim()});
  const auto t0 = std::chrono::steady_clock::now();
  auto result = sample(key, model, x0, options);
  const auto t1 = std::chrono::steady_clock::now();
  if (!result.ok() || !result->status.ok()) {
    std::fprintf(stderr, "%s: sampling failed: %s\n", std::string(M::kName).c_str(),
                 std::string(result.ok() ? result->status.message() : result.status().message()).c_str());
    std::exit(1);
  }
  auto bulk = diagnostics::ess_bulk(result->positions);
  if (!bulk.ok()) {
    std::fprintf(stderr, "ess: %s\n", std::string(bulk.status().message()).c_str());
    std::exit(1);
  }
  Measure m;
  m.ess = xt::amin(*bulk)();
  m.seconds = std::chrono::duration<double>(t1 - t0).count();
  return m;
}

template <class Hand, class Ad>
void compare(int reps, std::size_t warmup, std::size_t draws, bool per_seed) {
  auto hand = Hand::load();
  auto admodel = Ad::load();
  if (!hand.ok() || !admodel.ok()) {
    std::fprintf(stderr, "cannot load %s\n", std::string(Hand::kName).c_str());
    std::exit(1);
  }
  const bool dense = Hand::kDenseMetricAdvised;
  std::vector<double> h_ess, h_s, h_rate, a_ess, a_s, a_rate, ratio;
  for (int r = 0; r < reps; ++r) {
    const Key key = make_key(static_cast<std::uint64_t>(1000 + r));
    auto run_hand = [&] {
      const Measure m = run_once(*hand, dense, warmup, draws, key);
      h_ess.push_back(m.ess), h_s.push_back(m.seconds), h_rate.push_back(m.ess / m.seconds);
    };
    auto run_ad = [&] {
      const Measure m = run_once(*admodel, dense, warmup, draws, key);
      a_ess.push_back(m.ess), a_s.push_back(m.seconds), a_rate.push_back(m.ess / m.seconds);
    };
    if (r % 2 == 0) {
      run_hand(), run_ad();
    } else {
      run_ad(), run_hand();
    }
    ratio.push_back(a_rate.back() / h_rate.back());
    if (per_seed)
      std::fprintf(stderr, "  %s seed %d: hand ESS %.0f in %.3f s, AD ESS %.0f in %.3f s, ratio %.2f\n",
                   std::string(Hand::kName).c_str(), 1000 + r, h_ess.back(), h_s.back(),
                   a_ess.back(), a_s.back(), ratio.back());
  }
  // Three summaries, because min ESS is noisy where it is small (funnel_10):
  // the median of the per-seed ratios, the pooled ratio (summed ESS over
  // summed seconds, each version), and the time ratio alone (hand s / AD s,
  // the ESS/s ratio at equal ESS).
  auto sum = [](const std::vector<double>& v) {
    double t = 0.0;
    for (double x : v) t += x;
    return t;
  };
  const double pooled = (sum(a_ess) / sum(a_s)) / (sum(h_ess) / sum(h_s));
  const double time_ratio = sum(h_s) / sum(a_s);
  std::printf("| %s | %zu+%zu | %.0f | %.3f | %.0f | %.0f | %.3f | %.0f | %.2f (%.2f-%.2f) | %.2f | %.2f |\n",
              std::string(Hand::kName).c_str(), warmup, draws, median(h_ess), median(h_s),
              median(h_rate), median(a_ess), median(a_s), median(a_rate), median(ratio),
              *std::min_element(ratio.begin(), ratio.end()),
              *std::max_element(ratio.begin(), ratio.end()), pooled, time_ratio);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bench::ensure_single_threaded_blas(argv);
  bench::Flags flags(argc, argv);
  const int reps = static_cast<int>(flags.get_int("reps", 3));
  const std::string only = flags.get("only", "");
  // --draws scales warmup and draws per chain (default 1000; the GP uses a
  // quarter); more draws shrink the noise of a small min ESS.
  const auto draws = static_cast<std::size_t>(flags.get_int("draws", 1000));
  const bool per_seed = flags.get_int("per_seed", 0) != 0;
  if (!flags.unused().empty() || reps < 1 || draws < 4) {
    std::fprintf(stderr,
                 "usage: ad_ess_per_second [--reps=3] [--draws=1000] [--per_seed=1] "
                 "[--only=<posterior>[,<posterior>...]]\n");
    return 1;
  }
  std::printf(
      "4 chains on 1 thread; median of %d interleaved runs per version, same keys.\n"
      "AD/hand: median of the per-seed ratios (min-max); pooled: summed ESS over summed\n"
      "seconds, AD over hand; time: hand seconds over AD seconds.\n\n"
      "| posterior | warmup+draws | hand ESS | hand s | hand ESS/s | AD ESS | AD s | AD ESS/s | "
      "AD/hand | pooled | time |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
      reps);
  auto want = [&](std::string_view name) {
    if (only.empty()) return true;
    const std::string list = "," + only + ",";
    return list.find("," + std::string(name) + ",") != std::string::npos;
  };
  if (want("gauss_100")) compare<Gauss100, Gauss100Ad>(reps, draws, draws, per_seed);
  if (want("corr_gauss_50")) compare<CorrGauss50, CorrGauss50Ad>(reps, draws, draws, per_seed);
  if (want("eight_schools_nc")) compare<EightSchoolsNc, EightSchoolsNcAd>(reps, draws, draws, per_seed);
  if (want("logistic_1000x25")) compare<Logistic1000x25, Logistic1000x25Ad>(reps, draws, draws, per_seed);
  if (want("funnel_10")) compare<Funnel10, Funnel10Ad>(reps, draws, draws, per_seed);
  if (want("gp_student_t_100")) compare<GpStudentT100, GpStudentT100Ad>(reps, draws / 4, draws / 4, per_seed);
  return 0;
}
