#include "nutshell/core/metric.hpp"

#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>
#include <xtensor-blas/xlinalg.hpp>

namespace nutshell {
namespace {

// Sample covariance of momenta drawn from `m`.
Mat momentum_covariance(const Metric& m, std::size_t n) {
  const std::size_t d = m.dim();
  Mat acc = xt::zeros<double>({d, d});
  Vec p = Vec::from_shape({d});
  const Key k = make_key(11);
  for (std::size_t i = 0; i < n; ++i) {
    m.sample_momentum(fold_in(k, i), p);
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = 0; b < d; ++b) acc(a, b) += p(a) * p(b);
  }
  return acc / static_cast<double>(n);
}

// Entry (a, b) of a sample covariance of n Gaussian draws has standard error
// sqrt((S_ab^2 + S_aa S_bb) / n).
void expect_covariance_near(const Mat& got, const Mat& want, std::size_t n) {
  for (std::size_t a = 0; a < want.shape(0); ++a)
    for (std::size_t b = 0; b < want.shape(1); ++b) {
      const double se = std::sqrt((want(a, b) * want(a, b) + want(a, a) * want(b, b)) / n);
      EXPECT_LT(std::abs(got(a, b) - want(a, b)), 4.5 * se) << a << "," << b;
    }
}

TEST(Metric, DiagonalMomentaHaveCovarianceM) {
  auto m = Metric::diagonal(Vec{0.25, 1.0, 16.0});
  ASSERT_TRUE(m.ok());
  const std::size_t n = 40000;
  Mat mass = {{4.0, 0, 0}, {0, 1.0, 0}, {0, 0, 1.0 / 16.0}};
  expect_covariance_near(momentum_covariance(*m, n), mass, n);
}

TEST(Metric, DenseMomentaHaveCovarianceM) {
  Mat inv = {{2.0, 0.6, 0.0}, {0.6, 1.0, -0.3}, {0.0, -0.3, 0.5}};
  auto m = Metric::dense(inv);
  ASSERT_TRUE(m.ok()) << m.status();
  const std::size_t n = 40000;
  Mat mass = xt::linalg::inv(inv);
  expect_covariance_near(momentum_covariance(*m, n), mass, n);
}

// The draw with velocity (NUTS's start): p is sample_momentum's p up to
// rounding (dense: L^-T z by a stored L^-1 instead of a solve) and v is
// M^-1 p, for every kind, at a dimension that exercises the blocked loops.
TEST(Metric, MomentumWithVelocityMatchesSeparateCalls) {
  const std::size_t d = 19;
  Mat a = Mat::from_shape({d, d});
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j)
      a(i, j) = (i == j ? 2.0 + 0.1 * i : 0.0) + 0.3 / (1.0 + std::abs(double(i) - double(j)));
  Vec diag_entries = xt::diagonal(a);
  auto dense = Metric::dense(a);
  auto diag = Metric::diagonal(diag_entries);
  ASSERT_TRUE(dense.ok() && diag.ok()) << dense.status();
  for (const Metric* m : {&*dense, &*diag}) {
    for (std::uint64_t k = 0; k < 20; ++k) {
      const Key key = fold_in(make_key(5), k);
      Vec p1 = Vec::from_shape({d}), p2 = Vec::from_shape({d});
      Vec v = Vec::from_shape({d}), v_ref = Vec::from_shape({d});
      m->sample_momentum(key, p1);
      m->sample_momentum(key, p2, v);
      m->velocity(p2, v_ref);
      for (std::size_t i = 0; i < d; ++i) {
        EXPECT_NEAR(p2(i), p1(i), 1e-12 * (1.0 + std::abs(p1(i)))) << i;
        EXPECT_NEAR(v(i), v_ref(i), 1e-12 * (1.0 + std::abs(v_ref(i)))) << i;
      }
    }
  }
}

TEST(Metric, IdsChangeWithContentsAndFollowCopies) {
  auto a = Metric::diagonal(Vec{1.0, 2.0});
  auto b = Metric::diagonal(Vec{1.0, 2.0});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->id(), 0u);
  EXPECT_NE(a->id(), b->id());
  Metric c = *a;
  EXPECT_EQ(c.id(), a->id());
  ASSERT_TRUE(c.assign_diagonal(Vec{3.0, 4.0}).ok());
  EXPECT_NE(c.id(), a->id());
}

TEST(Metric, VelocityAndKineticEnergy) {
  Mat inv = {{2.0, 0.5}, {0.5, 1.0}};
  auto dense = Metric::dense(inv);
  ASSERT_TRUE(dense.ok());
  Vec p = {1.0, -2.0}, v = Vec::from_shape({2});
  dense->velocity(p, v);
  EXPECT_DOUBLE_EQ(v(0), 2.0 * 1.0 + 0.5 * -2.0);
  EXPECT_DOUBLE_EQ(v(1), 0.5 * 1.0 + 1.0 * -2.0);
  const double k = 0.5 * (p(0) * v(0) + p(1) * v(1));
  EXPECT_DOUBLE_EQ(Metric::kinetic_energy(p, v), k);
  EXPECT_NEAR(dense->kinetic_energy(p), k, 1e-14);
  auto diag = Metric::diagonal(Vec{2.0, 3.0});
  ASSERT_TRUE(diag.ok());
  EXPECT_DOUBLE_EQ(diag->kinetic_energy(p), 0.5 * (2.0 + 3.0 * 4.0));
  EXPECT_DOUBLE_EQ(Metric::identity(2).kinetic_energy(p), 2.5);
}

TEST(Metric, TurningCriterion) {
  const Vec rho = {1.0, 0.0};
  EXPECT_FALSE(Metric::is_turning(Vec{1.0, 0.0}, Vec{0.5, 1.0}, rho));
  EXPECT_TRUE(Metric::is_turning(Vec{-1.0, 0.0}, Vec{0.5, 1.0}, rho));
  EXPECT_TRUE(Metric::is_turning(Vec{1.0, 0.0}, Vec{-0.1, 1.0}, rho));
}

TEST(Metric, RejectsBadMatrices) {
  EXPECT_FALSE(Metric::diagonal(Vec{1.0, 0.0}).ok());
  EXPECT_FALSE(Metric::diagonal(Vec{1.0, -1.0}).ok());
  EXPECT_FALSE(Metric::diagonal(Vec{1.0, NAN}).ok());
  EXPECT_FALSE(Metric::dense(Mat{{1.0, 2.0}, {2.0, 1.0}}).ok());  // indefinite
  EXPECT_FALSE(Metric::dense(Mat{{1.0, 0.1}, {0.2, 1.0}}).ok());  // not symmetric
  EXPECT_FALSE(Metric::dense(Mat{{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}}).ok());  // not square
  EXPECT_FALSE(Metric::dense(Mat{{1.0, NAN}, {NAN, 1.0}}).ok());
  auto s = Metric::dense(Mat{{1.0, 2.0}, {2.0, 1.0}}).status();
  EXPECT_NE(s.message().find("positive definite"), std::string::npos) << s;
}

}  // namespace
}  // namespace nutshell
