// The tape's contract: no heap allocation per gradient in steady state, a
// throw leaves the tape clean, nested scopes, and independent tapes per
// thread (two threads give the results of one).
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "nutshell/ad/ad.hpp"
#include "nutshell/core/logdensity.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell::ad {
namespace {

// A model exercising scalar nodes, vector ops, data matvec and a Cholesky.
struct Mixed {
  std::vector<double> a = std::vector<double>(12);
  Mixed() {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(1.3 * double(i));
  }
  template <class T>
  T operator()(std::span<const T> x) const {
    auto y = ad::matvec(MatrixView<const double>{a.data(), 4, 3}, x.first(3));
    MatrixView<T> k = arena_matrix<T>(3, 3);
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j <= i; ++j)
        k(i, j) = k(j, i) = ad::exp(-ad::square(x[i] - x[j])) + (i == j ? 0.1 : 0.0);
    auto l = ad::cholesky(MatrixView<const T>(k));
    return ad::sum_log1p_exp(y) - 0.5 * ad::squared_norm(x) + ad::log_determinant_cholesky(l) +
           ad::lgamma(2.0 + x[1] * x[1]) + ad::log_sum_exp(x);
  }
};

std::vector<double> point(std::size_t n, double shift) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = shift + 0.3 * std::cos(double(i));
  return x;
}

TEST(AdTape, SteadyStateGradientAllocatesNothing) {
  auto lp = make_logdensity(Mixed{});
  Vec x = xt::adapt(point(5, 0.1), {std::size_t{5}});
  Vec g = Vec::from_shape({5});
  for (int i = 0; i < 10; ++i) lp(x, g);  // warm-up: arena blocks, node stack
  const std::size_t reserved = tape().arena().reserved();
  long allocations;
  {
    nutshell::testing::AllocationScope scope;
    for (int i = 0; i < 100; ++i) {
      x(0) = 0.1 + 0.001 * i;
      lp(x, g);
      lp(x);
    }
    allocations = scope.count();
  }
  EXPECT_EQ(allocations, 0);
  EXPECT_EQ(tape().arena().reserved(), reserved);
  EXPECT_EQ(tape().size(), 0u);
}

TEST(AdTape, ThrowLeavesTapeCleanAndNextGradientCorrect) {
  Mixed model;
  auto throwing = [&](auto x) {
    auto partial = model(x);
    if (x[0] > 0.5) throw std::runtime_error("reject");
    return partial;
  };
  const std::vector<double> good = point(5, 0.1), bad = point(5, 0.9);
  std::vector<double> g_ref(5), g(5);
  const double lp_ref =
      value_and_gradient(throwing, std::span<const double>(good), std::span<double>(g_ref));
  const std::size_t nodes_before = tape().size();
  EXPECT_THROW(value_and_gradient(throwing, std::span<const double>(bad), std::span<double>(g)),
               std::runtime_error);
  EXPECT_EQ(tape().size(), nodes_before);
  EXPECT_THROW(value(throwing, std::span<const double>(bad)), std::runtime_error);
  const double lp = value_and_gradient(throwing, std::span<const double>(good), std::span<double>(g));
  EXPECT_EQ(lp, lp_ref);
  EXPECT_EQ(g, g_ref);
  // Through the LogDensity interface, kernels see an error status.
  auto ld = make_logdensity(throwing);
  Vec xb = xt::adapt(bad, {std::size_t{5}}), gb = Vec::from_shape({5});
  EXPECT_FALSE(nutshell::evaluate(ld, xb, gb).ok());
}

TEST(AdTape, NestedScopes) {
  TapeScope outer;
  var a(2.0);
  var b = a * a;
  std::vector<double> x = {0.5}, g(1);
  auto f = [](auto u) { return ad::exp(u[0]); };
  value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
  EXPECT_DOUBLE_EQ(g[0], std::exp(0.5));
  var c = b * 3.0;  // the outer recording is intact
  grad(c, outer.mark());
  EXPECT_DOUBLE_EQ(a.adj(), 12.0);
}

TEST(AdTape, TwoThreadsGiveTheResultsOfOne) {
  const Mixed model;
  auto lp = make_logdensity(model);
  constexpr int kPoints = 200;
  auto run = [&](auto& density, int offset, std::vector<double>& out) {
    Vec g = Vec::from_shape({5});
    for (int i = 0; i < kPoints; ++i) {
      Vec x = xt::adapt(point(5, 0.01 * (i + offset)), {std::size_t{5}});
      out.push_back(density(x, g));
      out.insert(out.end(), g.begin(), g.end());
    }
  };
  std::vector<double> ref0, ref1;
  run(lp, 0, ref0);
  run(lp, 7, ref1);
  std::vector<double> t0, t1;
  auto lp0 = lp, lp1 = lp;  // copies: independent
  std::thread a([&] { run(lp0, 0, t0); });
  std::thread b([&] { run(lp1, 7, t1); });
  a.join();
  b.join();
  EXPECT_EQ(t0, ref0);
  EXPECT_EQ(t1, ref1);
}

}  // namespace
}  // namespace nutshell::ad
