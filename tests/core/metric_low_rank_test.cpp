// The low-rank modified diagonal metric against an explicitly formed dense
// M^-1 = S (I + U (Lambda - I) U^T) S at small dimension.
#include <cmath>

#include <gtest/gtest.h>
#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/core/metric.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell {
namespace {

struct LowRankCase {
  Vec scale;
  Mat basis;  // k x d, orthonormal rows
  Vec eigenvalues;
  Mat dense;  // the same M^-1, formed explicitly
};

// d = 5, k = 2: an orthonormal basis from the QR factor of a fixed matrix,
// one eigenvalue above 1 and one below.
LowRankCase make_case() {
  LowRankCase c;
  c.scale = Vec{0.5, 2.0, 1.0, 4.0, 0.25};
  Mat a = {{1.0, 0.3}, {-0.4, 1.2}, {0.7, 0.1}, {0.2, -0.9}, {-1.1, 0.5}};
  auto [q, r] = xt::linalg::qr(a);
  c.basis = xt::transpose(q);
  c.eigenvalues = Vec{9.0, 0.2};
  const std::size_t d = 5, k = 2;
  Mat middle = xt::eye<double>(d);
  for (std::size_t j = 0; j < k; ++j)
    for (std::size_t a1 = 0; a1 < d; ++a1)
      for (std::size_t b = 0; b < d; ++b)
        middle(a1, b) += (c.eigenvalues(j) - 1.0) * c.basis(j, a1) * c.basis(j, b);
  c.dense = Mat::from_shape({d, d});
  for (std::size_t a1 = 0; a1 < d; ++a1)
    for (std::size_t b = 0; b < d; ++b)
      c.dense(a1, b) = std::sqrt(c.scale(a1)) * middle(a1, b) * std::sqrt(c.scale(b));
  return c;
}

TEST(LowRankMetric, VelocityKineticEnergyAndDiagonalMatchDenseMatrix) {
  const LowRankCase c = make_case();
  auto m = Metric::low_rank(c.scale, c.basis, c.eigenvalues);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->kind(), Metric::Kind::kLowRank);
  EXPECT_EQ(m->rank(), 2u);
  EXPECT_FALSE(m->is_diagonal());
  const Vec p = {0.3, -1.2, 2.0, 0.7, -0.4};
  Vec v = Vec::from_shape({5});
  m->velocity(p, v);
  const Vec want = xt::linalg::dot(c.dense, p);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(v(i), want(i), 1e-12) << i;
    EXPECT_NEAR(m->inverse_mass_diagonal()(i), c.dense(i, i), 1e-12) << i;
  }
  const double k = 0.5 * xt::linalg::vdot(p, want);
  EXPECT_NEAR(m->kinetic_energy(p), k, 1e-12);
  EXPECT_NEAR(Metric::kinetic_energy(p, v), k, 1e-12);
}

TEST(LowRankMetric, SquareRootFactorsTheInverseMassMatrix) {
  const LowRankCase c = make_case();
  auto m = Metric::low_rank(c.scale, c.basis, c.eigenvalues);
  ASSERT_TRUE(m.ok());
  // Columns of R (x += R e_i) and rows of R^T (R^T e_i) must agree, and
  // R R^T = M^-1.
  Mat r = xt::zeros<double>({5, 5}), rt = Mat::from_shape({5, 5});
  for (std::size_t i = 0; i < 5; ++i) {
    Vec e = xt::zeros<double>({5}), col = xt::zeros<double>({5}), out = Vec::from_shape({5});
    e(i) = 1.0;
    m->add_sqrt_times(1.0, e, col);
    m->sqrt_transpose_times(e, out);
    for (std::size_t a = 0; a < 5; ++a) {
      r(a, i) = col(a);
      rt(a, i) = out(a);
    }
  }
  const Mat rrt = xt::linalg::dot(r, xt::transpose(r));
  for (std::size_t a = 0; a < 5; ++a)
    for (std::size_t b = 0; b < 5; ++b) {
      EXPECT_NEAR(rrt(a, b), c.dense(a, b), 1e-12) << a << "," << b;
      EXPECT_NEAR(rt(a, b), r(b, a), 1e-12) << a << "," << b;
    }
}

TEST(LowRankMetric, MomentaHaveCovarianceM) {
  const LowRankCase c = make_case();
  auto m = Metric::low_rank(c.scale, c.basis, c.eigenvalues);
  ASSERT_TRUE(m.ok());
  const std::size_t n = 40000, d = 5;
  Mat acc = xt::zeros<double>({d, d});
  Vec p = Vec::from_shape({d});
  const Key key = make_key(17);
  for (std::size_t i = 0; i < n; ++i) {
    m->sample_momentum(fold_in(key, i), p);
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = 0; b < d; ++b) acc(a, b) += p(a) * p(b);
  }
  acc /= static_cast<double>(n);
  const Mat mass = xt::linalg::inv(c.dense);
  for (std::size_t a = 0; a < d; ++a)
    for (std::size_t b = 0; b < d; ++b) {
      const double se = std::sqrt((mass(a, b) * mass(a, b) + mass(a, a) * mass(b, b)) / n);
      EXPECT_LT(std::abs(acc(a, b) - mass(a, b)), 4.5 * se) << a << "," << b;
    }
}

TEST(LowRankMetric, OperationsAllocateNothing) {
  const LowRankCase c = make_case();
  auto m = Metric::low_rank(c.scale, c.basis, c.eigenvalues);
  ASSERT_TRUE(m.ok());
  Vec p = Vec::from_shape({5}), v = Vec::from_shape({5});
  Metric copy = *m;
  auto diag = Metric::diagonal(Vec{1.0, 2.0, 3.0, 4.0, 5.0});
  ASSERT_TRUE(diag.ok());
  const Vec new_diag = {2.0, 2.0, 2.0, 2.0, 2.0};
  testing::AllocationScope scope;
  m->sample_momentum(make_key(3), p);
  m->velocity(p, v);
  double k = m->kinetic_energy(p);
  m->sqrt_transpose_times(p, v);
  m->add_sqrt_times(0.5, p, v);
  copy = *m;  // same shapes: buffers reused
  ASSERT_TRUE(diag->assign_diagonal(new_diag).ok());
  EXPECT_EQ(scope.count(), 0);
  EXPECT_TRUE(std::isfinite(k));
  EXPECT_DOUBLE_EQ(diag->inverse_mass_diagonal()(3), 2.0);
  Vec pd = Vec::from_shape({5});
  diag->velocity(Vec{1.0, 1.0, 1.0, 1.0, 1.0}, pd);
  EXPECT_DOUBLE_EQ(pd(4), 2.0);
}

TEST(LowRankMetric, RankZeroIsTheDiagonalMetric) {
  auto m = Metric::low_rank(Vec{2.0, 3.0}, Mat::from_shape({0, 2}), Vec::from_shape({0}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_DOUBLE_EQ(m->kinetic_energy(Vec{1.0, -2.0}), 0.5 * (2.0 + 3.0 * 4.0));
}

TEST(LowRankMetric, RejectsBadFactors) {
  const LowRankCase c = make_case();
  EXPECT_FALSE(Metric::low_rank(Vec{0.5, 2.0, 1.0, 4.0, 0.0}, c.basis, c.eigenvalues).ok());
  EXPECT_FALSE(Metric::low_rank(c.scale, c.basis, Vec{9.0, -1.0}).ok());
  EXPECT_FALSE(Metric::low_rank(c.scale, c.basis, Vec{9.0, NAN}).ok());
  EXPECT_FALSE(Metric::low_rank(c.scale, c.basis, Vec{9.0}).ok());  // shape mismatch
  Mat skew = c.basis;
  skew(1, 0) += 0.1;
  auto s = Metric::low_rank(c.scale, skew, c.eigenvalues).status();
  EXPECT_NE(s.message().find("orthonormal"), std::string::npos) << s;
  auto diag = Metric::diagonal(Vec{1.0, 2.0});
  ASSERT_TRUE(diag.ok());
  EXPECT_FALSE(diag->assign_diagonal(Vec{1.0, -2.0}).ok());
}

}  // namespace
}  // namespace nutshell
