// The cost per draw and parameter of one convergence check
// (`ConvergenceChecker`, the check of `sample_until_converged`) and of one
// summary table (`diagnostics::summary`, which `sample` computes at the end
// of every run), without any sampling.
//
//   bazel run --config=opt //benchmarks:diagnostics_cost -- \
//       --benchmark_repetitions=5
//
// Draws: 10 AR(1) parameters (phi = 0.3, standard normal innovations, a
// fixed seed), m chains, added in the default schedule (block 100, growth
// 1.5: 100, 150, 225, 338, ... draws per chain). Each benchmark times the
// check after the last block, as `sample_until_converged` runs it, on t
// threads:
//   complete/m/n/t the run's last check (every parameter, no early exit),
//                  after earlier early-exit checks at every block; it
//                  sorts every parameter's draws (the early-exit checks
//                  before it reached only the first).
//   partial/m/n/t  an early-exit check that stops at the first parameter.
//   summary/m/n    diagnostics::summary of all the draws.
// Counters: ns per draw and parameter of the checked draws (m x n x 10),
// and heap allocations per check.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "benchmarks/alloc_counter.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/run/converge_check.hpp"
#include "nutshell/run/converge_state.hpp"

namespace nutshell {
namespace {

constexpr std::size_t kDim = 10;

// Blocks of the default schedule up to n draws per chain.
std::vector<diagnostics::Draws> make_blocks(std::size_t m, std::size_t n) {
  std::mt19937_64 rng(20261207);
  std::normal_distribution<double> normal;
  std::vector<double> state(m * kDim, 0.0);
  std::vector<diagnostics::Draws> blocks;
  const ConvergenceOptions o{.max_draws = n};
  std::size_t done = 0;
  while (done < n) {
    const std::size_t b = next_block_size(done, o);
    diagnostics::Draws block = diagnostics::Draws::from_shape({m, b, kDim});
    for (std::size_t c = 0; c < m; ++c)
      for (std::size_t j = 0; j < b; ++j)
        for (std::size_t k = 0; k < kDim; ++k) {
          double& s = state[c * kDim + k];
          s = 0.3 * s + normal(rng);
          block(c, j, k) = s;
        }
    blocks.push_back(std::move(block));
    done += b;
  }
  return blocks;
}

void check(benchmark::State& st, bool complete) {
  const std::size_t m = static_cast<std::size_t>(st.range(0));
  const std::size_t n = static_cast<std::size_t>(st.range(1));
  const std::size_t threads = static_cast<std::size_t>(st.range(2));
  const auto blocks = make_blocks(m, n);
  std::vector<std::size_t> chains(m);
  for (std::size_t c = 0; c < m; ++c) chains[c] = c;
  ConvergenceOptions options;
  options.min_ess_bulk = 1e12;  // every early-exit check fails at once
  // The run up to the last block: an early-exit check after every block.
  ConvergenceChecker before;
  for (std::size_t i = 0; i + 1 < blocks.size(); ++i) {
    (void)before.add(blocks[i], chains);
    (void)before.check(options, 1, true);
  }
  std::uint64_t allocs = 0;
  for (auto _ : st) {
    st.PauseTiming();
    ConvergenceChecker c = before;
    (void)c.add(blocks.back(), chains);
    st.ResumeTiming();
    const std::uint64_t a0 = bench::thread_heap_allocations();
    auto v = c.check(options, threads, !complete);
    allocs += bench::thread_heap_allocations() - a0;
    benchmark::DoNotOptimize(v);
    st.PauseTiming();
    { ConvergenceChecker gone = std::move(c); }
    st.ResumeTiming();
  }
  const double values = static_cast<double>(m * n * kDim);
  st.counters["ns_per_value"] =
      benchmark::Counter(values * static_cast<double>(st.iterations()) / 1e9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters["heap_allocs"] = static_cast<double>(allocs) / static_cast<double>(st.iterations());
}

void summary(benchmark::State& st) {
  const std::size_t m = static_cast<std::size_t>(st.range(0));
  const std::size_t n = static_cast<std::size_t>(st.range(1));
  const auto blocks = make_blocks(m, n);
  diagnostics::Draws all = diagnostics::Draws::from_shape({m, n, kDim});
  std::size_t done = 0;
  for (const auto& b : blocks) {
    for (std::size_t c = 0; c < m; ++c)
      for (std::size_t j = 0; j < b.shape(1); ++j)
        for (std::size_t k = 0; k < kDim; ++k) all(c, done + j, k) = b(c, j, k);
    done += b.shape(1);
  }
  for (auto _ : st) {
    auto s = diagnostics::summary(all);
    benchmark::DoNotOptimize(s);
  }
  st.counters["ns_per_value"] = benchmark::Counter(
      static_cast<double>(m * n * kDim) * static_cast<double>(st.iterations()) / 1e9,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void complete(benchmark::State& st) { check(st, true); }
void partial(benchmark::State& st) { check(st, false); }

BENCHMARK(complete)->Args({4, 450, 1})->Args({4, 2000, 1})->Args({256, 200, 1})
    ->Args({256, 1000, 1})->Args({256, 200, 2})->Args({256, 1000, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(partial)->Args({4, 450, 1})->Args({256, 200, 1})->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(summary)->Args({4, 1000})->Args({256, 200})->Args({256, 1000})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nutshell

BENCHMARK_MAIN();
