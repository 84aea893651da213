// Densities and draws on two threads at once give bitwise the results of one
// thread: each thread records on its own tape, draws are pure functions of
// their keys, and nothing shared is written (lgamma is the reentrant one).
// Run under --config=tsan as well.
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace nutshell::distributions {
namespace {

struct Result {
  double value = 0.0;
  std::vector<double> grad;
  std::vector<std::int64_t> draws;
};

Result work(std::uint64_t seed) {
  const std::vector<int> counts{0, 3, 9, 2, 14, 1};
  const std::vector<double> y{0.5, 1.2, 2.2, 0.1, 3.3, 0.9};
  auto model = [&](auto x) {
    auto rates = x.first(6);
    return neg_binomial_2_lpmf(counts, rates, x[6]) + gamma_lpdf(y, x[6], x[7]) +
           student_t_lpdf(rates, x[7], 1.0, 2.0) + beta_lpdf(0.3, x[6], x[7]);
  };
  Result r;
  std::vector<double> x{0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 1.3, 2.1};
  r.grad.assign(x.size(), 0.0);
  for (int rep = 0; rep < 200; ++rep) r.value = ad::value_and_gradient(model, x, r.grad);
  const Key key = make_key(seed);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    r.draws.push_back(poisson_rng(fold_in(key, i), 3.0 + static_cast<double>(i % 40)));
    r.draws.push_back(binomial_rng(fold_in(key, i + 100000), 200, 0.3));
  }
  return r;
}

TEST(Threads, TwoThreadsGiveTheResultsOfOne) {
  const Result a = work(1), b = work(2);
  Result ta, tb;
  std::thread t1([&] { ta = work(1); });
  std::thread t2([&] { tb = work(2); });
  t1.join();
  t2.join();
  EXPECT_EQ(ta.value, a.value);
  EXPECT_EQ(tb.value, b.value);
  EXPECT_EQ(ta.grad, a.grad);
  EXPECT_EQ(tb.grad, b.grad);
  EXPECT_EQ(ta.draws, a.draws);
  EXPECT_EQ(tb.draws, b.draws);
}

}  // namespace
}  // namespace nutshell::distributions
