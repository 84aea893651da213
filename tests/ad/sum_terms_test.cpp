// ad::sum_terms: a sum of terms recorded as one tape node. Its value is
// bitwise the sum written with `+`, its gradient equals that of the written
// sum, it records one node (none for doubles), doubles are constants, a var
// term repeated gets its adjoint twice, and with dual and fvar<var> it is
// the plain sum (so forward mode and Hessian-vector products stay exact).
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "tests/ad/check_model.hpp"

namespace nutshell::ad {
namespace {

template <class T>
T with_sum_terms(std::span<const T> x) {
  return sum_terms(ad::exp(x[0]) * x[1], 0.25, x[2] * x[2], ad::log1p(ad::square(x[1])), x[0], -1.5);
}

template <class T>
T written_out(std::span<const T> x) {
  return ad::exp(x[0]) * x[1] + 0.25 + x[2] * x[2] + ad::log1p(ad::square(x[1])) + x[0] + -1.5;
}

TEST(SumTerms, EqualsTheSumWrittenOut) {
  for (const std::vector<double>& x : {std::vector<double>{0.1, -0.7, 2.0},
                                       std::vector<double>{-3.0, 1e-8, -1e3},
                                       std::vector<double>{0.0, 0.0, 0.0}}) {
    auto f = [](auto u) { return with_sum_terms(u); };
    auto g = [](auto u) { return written_out(u); };
    std::vector<double> gf(x.size()), gg(x.size());
    const double vf = value_and_gradient(f, std::span<const double>(x), std::span<double>(gf));
    const double vg = value_and_gradient(g, std::span<const double>(x), std::span<double>(gg));
    EXPECT_EQ(vf, vg);  // the same additions in the same order
    for (std::size_t i = 0; i < x.size(); ++i)
      EXPECT_NEAR(gf[i], gg[i], 1e-14 * std::max(1.0, std::abs(gg[i])));
    EXPECT_EQ(value(f, std::span<const double>(x)), vg);
  }
}

TEST(SumTerms, RecordsOneNode) {
  TapeScope scope;
  const var a(1.0), b(2.0);
  const var t = a * b;  // one node
  const std::size_t before = tape().size();
  const var s = sum_terms(t, a, 3.0, b, t);
  EXPECT_EQ(tape().size() - before, 1u);
  EXPECT_EQ(s.val(), 2.0 + 1.0 + 3.0 + 2.0 + 2.0);
  grad(s, scope.mark());
  // d/da: t twice (2 b) + 1 = 5; d/db: t twice (2 a) + 1 = 3.
  EXPECT_EQ(a.adj(), 5.0);
  EXPECT_EQ(b.adj(), 3.0);
  // One var term: a unary node; only doubles: no node and a double.
  const std::size_t before2 = tape().size();
  const var u = sum_terms(1.0, a, 2.0);
  EXPECT_EQ(tape().size() - before2, 1u);
  EXPECT_EQ(u.val(), 4.0);
  const double d = sum_terms(1.0, 2.0, 0.5);
  EXPECT_EQ(d, 3.5);
  EXPECT_EQ(tape().size() - before2, 1u);
}

TEST(SumTerms, FiniteDifferencesForwardModeAndHvp) {
  const std::vector<double> x = {0.3, -1.1, 0.7};
  auto f = [](auto u) { return with_sum_terms(u); };
  testing::ModelCheckOptions o;
  testing::check_model<true>(f, x, o);
}

}  // namespace
}  // namespace nutshell::ad
