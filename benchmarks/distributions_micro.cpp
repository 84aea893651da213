// What one tape node per call buys: gradients of likelihoods written with
// the vectorised distributions against the same likelihood summed one scalar
// call (one node) per observation, and against a hand-written gradient.
//   bazel run --config=opt //benchmarks:distributions_micro
#include <cmath>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace {

namespace ad = nutshell::ad;
namespace dist = nutshell::distributions;

constexpr std::size_t kN = 1000, kK = 25;

struct Data {
  std::vector<double> x = std::vector<double>(kN * kK);
  std::vector<int> y = std::vector<int>(kN);
  std::vector<double> beta = std::vector<double>(kK);
  Data() {
    for (std::size_t i = 0; i < kN * kK; ++i) x[i] = std::sin(0.7 * static_cast<double>(i) + 0.3);
    for (std::size_t i = 0; i < kN; ++i) y[i] = std::cos(1.3 * static_cast<double>(i)) > 0.1;
    for (std::size_t j = 0; j < kK; ++j) beta[j] = 0.05 * std::cos(static_cast<double>(j));
  }
};
const Data& data() {
  static const Data d;
  return d;
}

// Logistic regression: eta = X beta (one matvec node), then the likelihood.
template <bool kVectorised>
struct Logistic {
  template <class T>
  T operator()(std::span<const T> beta) const {
    const Data& d = data();
    auto eta = ad::matvec(ad::MatrixView<const double>{d.x.data(), kN, kK}, beta);
    T lp = dist::normal_lpdf<true>(beta, 0.0, 2.5);
    if constexpr (kVectorised) {
      lp += dist::bernoulli_logit_lpmf<true>(d.y, eta);
    } else {
      for (std::size_t i = 0; i < kN; ++i) lp += dist::bernoulli_logit_lpmf<true>(d.y[i], eta[i]);
    }
    return lp;
  }
};

template <bool kVectorised>
void BM_LogisticGradient(benchmark::State& state) {
  Logistic<kVectorised> f;
  std::vector<double> g(kK);
  for (auto _ : state) benchmark::DoNotOptimize(ad::value_and_gradient(f, data().beta, g));
}
BENCHMARK(BM_LogisticGradient<true>)->Name("logistic_1000x25/ad_vectorised");
BENCHMARK(BM_LogisticGradient<false>)->Name("logistic_1000x25/ad_one_node_per_observation");

void BM_LogisticHandWritten(benchmark::State& state) {
  const Data& d = data();
  std::vector<double> g(kK), eta(kN);
  for (auto _ : state) {
    double lp = 0.0;
    for (std::size_t j = 0; j < kK; ++j) {
      lp -= 0.5 * d.beta[j] * d.beta[j] / 6.25;
      g[j] = -d.beta[j] / 6.25;
    }
    for (std::size_t i = 0; i < kN; ++i) {
      double e = 0.0;
      for (std::size_t j = 0; j < kK; ++j) e += d.x[i * kK + j] * d.beta[j];
      const double s = d.y[i] ? 1.0 : -1.0;
      lp -= std::log1p(std::exp(-s * e));
      const double r = s / (1.0 + std::exp(s * e));
      for (std::size_t j = 0; j < kK; ++j) g[j] += r * d.x[i * kK + j];
    }
    benchmark::DoNotOptimize(lp);
    benchmark::DoNotOptimize(g.data());
  }
}
BENCHMARK(BM_LogisticHandWritten)->Name("logistic_1000x25/hand_written");

// A normal likelihood over 1000 observations with var location and scale.
template <bool kVectorised>
void BM_NormalGradient(benchmark::State& state) {
  const Data& d = data();
  auto f = [&](auto theta) {
    using T = std::remove_cvref_t<decltype(theta[0])>;
    if constexpr (kVectorised) {
      return T(dist::normal_lpdf<true>(std::span<const double>(d.x.data(), kN), theta[0], theta[1]));
    } else {
      T lp(0.0);
      for (std::size_t i = 0; i < kN; ++i) lp += dist::normal_lpdf<true>(d.x[i], theta[0], theta[1]);
      return lp;
    }
  };
  std::vector<double> x{0.1, 1.3}, g(2);
  for (auto _ : state) benchmark::DoNotOptimize(ad::value_and_gradient(f, x, g));
}
BENCHMARK(BM_NormalGradient<true>)->Name("normal_1000/ad_vectorised");
BENCHMARK(BM_NormalGradient<false>)->Name("normal_1000/ad_one_node_per_observation");

// Draws: Poisson on both sides of the algorithm switch, binomial BTRS.
void BM_PoissonRng(benchmark::State& state) {
  const double lambda = static_cast<double>(state.range(0)) / 10.0;
  const auto key = nutshell::make_key(3);
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(dist::poisson_rng(nutshell::fold_in(key, i++), lambda));
}
BENCHMARK(BM_PoissonRng)->Arg(5)->Arg(95)->Arg(100)->Arg(10000)->Arg(10000000);

void BM_BinomialRng(benchmark::State& state) {
  const auto key = nutshell::make_key(4);
  std::uint64_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(dist::binomial_rng(nutshell::fold_in(key, i++), state.range(0), 0.3));
}
BENCHMARK(BM_BinomialRng)->Arg(20)->Arg(1000)->Arg(1000000);

}  // namespace

BENCHMARK_MAIN();
