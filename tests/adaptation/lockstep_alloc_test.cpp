// The many-chain (lockstep) warmups allocate nothing in steady state: a
// longer warmup makes exactly as many heap allocations as a shorter one
// (the setup, the first iteration's buffer sizing and the result are the
// same in both). Kept apart from many_chain_test (slow to compile) and
// linked with the counting allocator.
//
// ChEES and MEADS with their low-rank metric re-estimate the metric at the end of
// every low_rank_interval-iteration window, which allocates (LAPACK
// decompositions): the extra iterations compared here contain no window
// end, and a second case without the low-rank metric compares lengths
// that span several windows.
#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/run/cross_chain_warmup.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"

namespace nutshell {
namespace {

using testing::Gaussian;

constexpr std::size_t kChains = 8;

std::vector<Key> keys() {
  std::vector<Key> k;
  for (std::size_t c = 0; c < kChains; ++c) k.push_back(split_one(make_key(11), c));
  return k;
}

Vec start(std::size_t c, std::size_t dim) {
  Vec x = Vec::from_shape({dim});
  for (std::size_t i = 0; i < dim; ++i) x(i) = 0.3 * static_cast<double>((c + i) % 5) - 0.6;
  return x;
}

// Heap allocations of one ChEES warmup of `steps` iterations (the inputs
// are built before counting starts).
long chees_allocations(std::size_t steps, const adaptation::CheesOptions& o, std::size_t threads) {
  const Gaussian target = Gaussian::scales_10d();
  std::vector<Gaussian> fs(kChains, target);
  std::vector<dynamic_hmc::State> states;
  for (std::size_t c = 0; c < kChains; ++c)
    states.push_back(*dynamic_hmc::init(start(c, target.mean().size()), fs[c]));
  const auto k = keys();
  testing::AllocationScope scope;
  auto r = chees_warmup(dynamic_hmc::Kernel{}, fs, std::move(states), k, make_key(4), o, steps, threads);
  const long n = scope.count();
  EXPECT_TRUE(r.ok()) << r.status();
  return n;
}

TEST(LockstepWarmup, CheesDiagonalAllocatesNothingPerIteration) {
  adaptation::CheesOptions o;
  o.adapt_low_rank = false;
  for (std::size_t threads : {1, 2}) {
    const long a = chees_allocations(10, o, threads), b = chees_allocations(70, o, threads);
    EXPECT_EQ(a, b) << threads << " threads: " << a << " allocations in 10 iterations, " << b
                    << " in 70";
    EXPECT_GT(a, 0);  // the counter counts (the setup allocates)
  }
}

TEST(LockstepWarmup, CheesLowRankAllocatesOnlyAtWindowEnds) {
  adaptation::CheesOptions o;
  o.low_rank_interval = 20;
  // Windows end at iterations 20 and 40: 41 and 59 iterations see the same two.
  const long a = chees_allocations(41, o, 2), b = chees_allocations(59, o, 2);
  EXPECT_EQ(a, b) << a << " allocations in 41 iterations, " << b << " in 59";
  // And a window end does allocate (so the comparison above can fail).
  EXPECT_GT(chees_allocations(61, o, 2), b);
}

long meads_allocations(std::size_t steps, adaptation::MeadsOptions o, std::size_t threads) {
  const Gaussian target = Gaussian::scales_10d();
  std::vector<Gaussian> fs(kChains, target);
  std::vector<ghmc::State> states;
  for (std::size_t c = 0; c < kChains; ++c)
    states.push_back(*ghmc::init(start(c, target.mean().size()), fs[c], split_one(make_key(7), c)));
  const auto k = keys();
  o.num_folds = 4;
  testing::AllocationScope scope;
  auto r = meads_warmup(ghmc::build_kernel(), fs, std::move(states), k, make_key(5), o, steps, threads);
  const long n = scope.count();
  EXPECT_TRUE(r.ok()) << r.status();
  return n;
}

TEST(LockstepWarmup, MeadsDiagonalAllocatesNothingPerIteration) {
  adaptation::MeadsOptions o;
  o.adapt_low_rank = false;
  for (std::size_t threads : {1, 2}) {
    // Past the first reshuffle (iteration 4), which sizes its scratch once.
    const long a = meads_allocations(10, o, threads), b = meads_allocations(70, o, threads);
    EXPECT_EQ(a, b) << threads << " threads: " << a << " allocations in 10 iterations, " << b
                    << " in 70";
  }
}

// MEADS's shared low-rank metric (the default) is re-estimated at the end
// of every low_rank_interval-iteration window, as ChEES's is.
TEST(LockstepWarmup, MeadsLowRankAllocatesOnlyAtWindowEnds) {
  adaptation::MeadsOptions o;
  o.low_rank_interval = 20;
  // Windows end at iterations 20 and 40: 41 and 59 iterations see the same two.
  const long a = meads_allocations(41, o, 2), b = meads_allocations(59, o, 2);
  EXPECT_EQ(a, b) << a << " allocations in 41 iterations, " << b << " in 59";
  EXPECT_GT(meads_allocations(61, o, 2), b);
}

}  // namespace
}  // namespace nutshell
