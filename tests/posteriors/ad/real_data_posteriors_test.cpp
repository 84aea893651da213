// The four real-data posteriors (specs_real_data.hpp) have no hand-written
// twin: their log density and gradient are checked against Stan's log_prob
// and grad_log_prob at check_points.json (rstan 2.21.7), the gradient also
// against central finite differences at random starts, and their reference
// summaries must load in coordinate order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "nutshell/core/key.hpp"
#include "tests/posteriors/ad/specs_real_data.hpp"
#include "tests/posteriors/check_points.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell::posteriors {
namespace {

template <class M>
class RealDataPosteriorTest : public ::testing::Test {};

using Models = ::testing::Types<MtcarsUncentred, StacklossT, ChickweightHier, WarpbreaksPln>;
TYPED_TEST_SUITE(RealDataPosteriorTest, Models);

TYPED_TEST(RealDataPosteriorTest, EqualsStanAtCheckPoints) {
  auto m = TypeParam::load();
  ASSERT_TRUE(m.ok()) << m.status();
  auto cp = load_check_points(TypeParam::kName);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->coordinates, m->names());
  ASSERT_FALSE(cp->points.empty());
  for (const CheckPoint& p : cp->points) {
    Vec g = Vec::from_shape({m->dim()});
    const double lp = (*m)(p.u, g);
    EXPECT_LE(std::abs(lp - p.lp), 1e-8 * std::max(1.0, std::abs(p.lp))) << p.label;
    const double scale = std::max(1.0, xt::amax(xt::abs(p.grad))());
    for (std::size_t i = 0; i < m->dim(); ++i)
      EXPECT_LE(std::abs(g(i) - p.grad(i)), 1e-8 * scale) << p.label << ", coordinate " << i;
  }
}

TYPED_TEST(RealDataPosteriorTest, GradientMatchesFiniteDifferences) {
  auto m = TypeParam::load();
  ASSERT_TRUE(m.ok()) << m.status();
  for (std::uint64_t seed = 0; seed < 2; ++seed) {
    // Stan's initial region, shrunk: the regressions' likelihood is steep
    // in the slopes, so finite differences want a moderate point.
    const Vec u = m->initial_point(make_key(seed), 0.5);
    Vec g = Vec::from_shape({m->dim()}), scratch = g;
    (*m)(u, g);
    const double scale = std::max(1.0, xt::amax(xt::abs(g))());
    for (std::size_t i = 0; i < m->dim(); ++i) {
      const double h = 1e-5;
      Vec up = u, dn = u;
      up(i) += h;
      dn(i) -= h;
      const double fd = ((*m)(up, scratch) - (*m)(dn, scratch)) / (2 * h);
      EXPECT_LE(std::abs(fd - g(i)), 1e-6 * scale) << "seed " << seed << ", coordinate " << i;
    }
  }
}

TYPED_TEST(RealDataPosteriorTest, ReferenceLoadsInCoordinateOrder) {
  auto m = TypeParam::load();
  ASSERT_TRUE(m.ok()) << m.status();
  auto ref = m->reference();
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->mean.size(), m->dim());
  EXPECT_TRUE(xt::all(ref->sd > 0.0));
}

TYPED_TEST(RealDataPosteriorTest, SteadyStateGradientAllocatesNothing) {
  auto m = TypeParam::load();
  ASSERT_TRUE(m.ok());
  const Vec u = m->initial_point(make_key(3));
  Vec grad = Vec::from_shape({m->dim()});
  for (int i = 0; i < 3; ++i) (*m)(u, grad);
  testing::AllocationScope scope;
  for (int i = 0; i < 20; ++i) (*m)(u, grad);
  EXPECT_EQ(scope.count(), 0);
}

}  // namespace
}  // namespace nutshell::posteriors
