// make_conditional_model: a density of the continuous block that also reads
// the other blocks. Its gradient matches finite differences of its value
// for several values of the other block, the value path equals the gradient
// path's value, a steady-state gradient allocates nothing, and it is what
// mixed::ConditionalLogDensity asks for.
#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "nutshell/compose/blocks.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/continuous_positive.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/model/conditional.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell::model {
namespace {

struct Others {
  int split = 2;
};

// lambda > 0, mu real: the counts before `split` are Poisson(lambda), mu
// ~ normal(log lambda, 1) (so the constraint's Jacobian and both blocks
// matter).
struct Density2 {
  std::vector<int> y = {3, 0, 5, 1, 2, 4};
  template <class P>
  auto operator()(const P& p, const Others& o) const {
    const auto& lambda = p.scalar("lambda");
    const auto& mu = p.scalar("mu");
    const std::span<const int> ys(y);
    return distributions::poisson_lpmf(ys.first(static_cast<std::size_t>(o.split)), lambda) +
           distributions::normal_lpdf(mu, ad::log(lambda), 1.0) +
           distributions::gamma_lpdf(lambda, 2.0, 1.0);
  }
};

auto make() {
  auto layout = Layout::create({positive("lambda"), real("mu")});
  EXPECT_TRUE(layout.ok());
  return make_conditional_model<Others>(*layout, Density2{});
}

static_assert(mixed::ConditionalLogDensity<decltype(make()), Others>);

TEST(ConditionalModel, GradientMatchesFiniteDifferencesForEachBlock) {
  auto m = make();
  ASSERT_EQ(m.dim(), 2u);
  for (int split : {0, 2, 6}) {
    const Others o{split};
    for (const Vec& u : {Vec{0.3, -0.2}, Vec{-1.5, 2.0}, Vec{2.0, 0.7}}) {
      Vec g = Vec::from_shape({2});
      const double lp = m(u, g, o);
      EXPECT_DOUBLE_EQ(m(u, o), lp);
      for (std::size_t i = 0; i < 2; ++i) {
        const double h = 1e-5;
        Vec up = u, down = u;
        up(i) += h;
        down(i) -= h;
        const double fd = (m(up, o) - m(down, o)) / (2 * h);
        EXPECT_NEAR(g(i), fd, 1e-6 * std::max(1.0, std::abs(fd))) << "split " << split << " i " << i;
      }
    }
  }
  // The blocks enter: another split, another density.
  Vec g = Vec::from_shape({2});
  EXPECT_NE(m(Vec{0.3, -0.2}, g, Others{0}), m(Vec{0.3, -0.2}, g, Others{6}));
}

TEST(ConditionalModel, SteadyStateGradientAllocatesNothing) {
  auto m = make();
  const Vec u = {0.4, 0.1};
  Vec g = Vec::from_shape({2});
  const Others o{3};
  for (int i = 0; i < 3; ++i) m(u, g, o);
  nutshell::testing::AllocationScope scope;
  for (int i = 0; i < 20; ++i) m(u, g, o);
  EXPECT_EQ(scope.count(), 0);
}

}  // namespace
}  // namespace nutshell::model
