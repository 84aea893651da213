// Welford estimators and Stan's regularisation.
#include "nutshell/adaptation/welford.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/adaptation/mass_matrix.hpp"
#include "nutshell/core/key.hpp"

namespace nutshell::adaptation {
namespace {

// A 3-D Gaussian with a large common offset (1e6: naive sums of squares
// would lose ~12 of 16 digits) and covariance L L^T.
const Mat kChol = {{1.0, 0.0, 0.0}, {1.2, 0.5, 0.0}, {-0.3, 0.4, 2.0}};
const Vec kMean = {1e6, -1e6, 3.0};

Mat true_covariance() { return xt::linalg::dot(kChol, xt::transpose(kChol)); }

Vec draw(const Key& key) {
  Vec z = normal(key, 3);
  Vec x = kMean;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j <= i; ++j) x(i) += kChol(i, j) * z(j);
  return x;
}

// The sample covariance entry (a, b) of n i.i.d. Gaussian draws has standard
// error sqrt((S_ab^2 + S_aa S_bb) / n); 4 standard errors is the tolerance.
TEST(Welford, RecoversAKnownCovarianceWithinMonteCarloError) {
  const std::size_t n = 5000;
  auto dense = welford_init_dense(3);
  auto diag = welford_init_diagonal(3);
  const Key key = make_key(2024);
  for (std::size_t k = 0; k < n; ++k) {
    const Vec x = draw(fold_in(key, k));
    welford_accumulate(dense, x);
    diag = welford_update(std::move(diag), x);
  }
  const Mat want = true_covariance();
  auto cov = welford_covariance(dense);
  auto var = welford_variance(diag);
  ASSERT_TRUE(cov.ok() && var.ok());
  for (std::size_t a = 0; a < 3; ++a) {
    EXPECT_NEAR(dense.mean(a), kMean(a), 4.0 * std::sqrt(want(a, a) / n));
    for (std::size_t b = 0; b < 3; ++b) {
      const double se = std::sqrt((want(a, b) * want(a, b) + want(a, a) * want(b, b)) / n);
      EXPECT_NEAR((*cov)(a, b), want(a, b), 4.0 * se) << a << "," << b;
      EXPECT_EQ((*cov)(a, b), (*cov)(b, a)) << "exactly symmetric";
    }
    EXPECT_NEAR((*var)(a), want(a, a), 4.0 * want(a, a) * std::sqrt(2.0 / n)) << a;
    // The diagonal and dense estimators see the same draws.
    EXPECT_NEAR((*var)(a), (*cov)(a, a), 1e-9 * want(a, a));
  }
}

// Against a two-pass computation on the same draws: agreement to rounding,
// despite the 1e6 offset.
TEST(Welford, MatchesTwoPassCovarianceToRounding) {
  const std::size_t n = 200;
  std::vector<Vec> xs;
  auto dense = welford_init_dense(3);
  for (std::size_t k = 0; k < n; ++k) {
    xs.push_back(draw(fold_in(make_key(7), k)));
    welford_accumulate(dense, xs.back());
  }
  Vec mean = xt::zeros<double>({3});
  for (const auto& x : xs) mean += x / static_cast<double>(n);
  Mat two_pass = xt::zeros<double>({3, 3});
  for (const auto& x : xs)
    for (std::size_t a = 0; a < 3; ++a)
      for (std::size_t b = 0; b < 3; ++b)
        two_pass(a, b) += (x(a) - mean(a)) * (x(b) - mean(b)) / static_cast<double>(n - 1);
  const Mat cov = *welford_covariance(dense);
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = 0; b < 3; ++b) EXPECT_NEAR(cov(a, b), two_pass(a, b), 1e-8);
}

TEST(Welford, NeedsTwoDraws) {
  auto d = welford_init_diagonal(2);
  EXPECT_EQ(welford_variance(d).status().code(), absl::StatusCode::kFailedPrecondition);
  welford_accumulate(d, Vec{1.0, 2.0});
  EXPECT_FALSE(welford_variance(d).ok());
  auto m = welford_init_dense(2);
  welford_accumulate(m, Vec{1.0, 2.0});
  EXPECT_FALSE(welford_covariance(m).ok());
}

// Draws 1, 2, 3, 4: variance 5/3, n = 4, so the metric is
// (4/9)(5/3) + 1e-3 (5/9). Dense: draws (1,2), (2,0), (3,1), (4,5):
// covariance [[5/3, 5/3], [5/3, 14/3]], shrinkage on the diagonal only.
TEST(MassMatrix, RegularisationIsStansFormulaExactly) {
  MassMatrixAdaptation diag{true};
  auto s = diag.init(1);
  for (double x : {1.0, 2.0, 3.0, 4.0}) s = diag.update(std::move(s), Vec{x});
  auto m = diag.final(s);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_DOUBLE_EQ(m->inverse_mass_diagonal()(0), (4.0 / 9.0) * (5.0 / 3.0) + 1e-3 * (5.0 / 9.0));
  EXPECT_EQ(m->kind(), Metric::Kind::kDiagonal);

  MassMatrixAdaptation dense{false};
  auto t = dense.init(2);
  for (const Vec& x : {Vec{1, 2}, Vec{2, 0}, Vec{3, 1}, Vec{4, 5}}) dense.accumulate(t, x);
  auto md = dense.final(t);
  ASSERT_TRUE(md.ok()) << md.status();
  ASSERT_EQ(md->kind(), Metric::Kind::kDense);
  const Mat& a = md->inverse_mass_matrix();
  const double w = 4.0 / 9.0, shrink = 1e-3 * 5.0 / 9.0;
  EXPECT_NEAR(a(0, 0), w * 5.0 / 3.0 + shrink, 1e-15);
  EXPECT_NEAR(a(0, 1), w * 5.0 / 3.0, 1e-15);
  EXPECT_NEAR(a(1, 0), w * 5.0 / 3.0, 1e-15);
  EXPECT_NEAR(a(1, 1), w * 14.0 / 3.0 + shrink, 1e-15);
}

// A coordinate that never moved still gives a positive metric (the
// shrinkage), which is what makes the estimate safe to use.
TEST(MassMatrix, ConstantCoordinateGetsTheShrinkageFloor) {
  MassMatrixAdaptation diag{true};
  auto s = diag.init(2);
  for (double x : {1.0, 2.0, 3.0}) diag.accumulate(s, Vec{x, 7.0});
  auto m = diag.final(s);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->inverse_mass_diagonal()(1), 1e-3 * 5.0 / 8.0);
}

TEST(MassMatrix, NonFiniteEstimateIsAnError) {
  for (bool is_diagonal : {true, false}) {
    MassMatrixAdaptation mm{is_diagonal};
    auto s = mm.init(2);
    for (double x : {1e300, -1e300, 1e300}) mm.accumulate(s, Vec{x, 0.0});
    auto m = mm.final(s);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition) << is_diagonal;
    EXPECT_NE(m.status().message().find("numerical overflow"), std::string::npos);
  }
}

}  // namespace
}  // namespace nutshell::adaptation
