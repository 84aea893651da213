#include "nutshell/mcmc/elliptical_slice.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

#include <gtest/gtest.h>
#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

namespace es = elliptical_slice;

static_assert(InPlaceSamplingAlgorithm<decltype(es::sampler(
                  [](const Vec&) { return 0.0; }, *es::GaussianPrior::diagonal(Vec{0.0}, Vec{1.0})))>);

// Gaussian log-likelihood N(y; x, diag(r^2)), counting its calls.
struct GaussianLikelihood {
  Vec y, r;
  long calls = 0;
  double operator()(const Vec& x) {
    ++calls;
    double s = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) s += std::pow((x(i) - y(i)) / r(i), 2);
    return -0.5 * s;
  }
};

TEST(EllipticalSlice, ConjugateGaussianPosteriorTenDims) {
  // Prior N(m0, S) with sds 0.1..10 and AR(1) correlation 0.6, likelihood
  // N(y; x, I): the posterior is Gaussian with precision S^-1 + I. The
  // likelihood dominates the wide coordinates, the prior the narrow ones.
  const std::size_t d = 10;
  Vec m0 = xt::linspace<double>(-1.0, 1.0, d);
  Mat prior_cov = Mat::from_shape({d, d});
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j)
      prior_cov(i, j) = std::pow(10.0, -1.0 + 2.0 * i / 9.0) * std::pow(10.0, -1.0 + 2.0 * j / 9.0) *
                        std::pow(0.6, std::abs(double(i) - double(j)));
  GaussianLikelihood lik{xt::linspace<double>(3.0, -2.0, d), xt::ones<double>({d})};
  const Mat prior_precision = xt::linalg::inv(prior_cov);
  const Mat post_cov = xt::linalg::inv(Mat(prior_precision + xt::eye<double>(d)));
  const Vec post_mean = xt::linalg::dot(post_cov, Vec(xt::linalg::dot(prior_precision, m0) + lik.y));

  auto prior = es::GaussianPrior::covariance(m0, prior_cov);
  ASSERT_TRUE(prior.ok()) << prior.status();
  auto alg = es::sampler(std::ref(lik), *prior);
  auto s0 = alg.init(m0);
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(11), alg, *s0, 100000, RunOptions{.thinning = 2});
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, post_mean, xt::diagonal(post_cov), 4.0, "ess conjugate");
  double shrinks = 0;
  for (const auto& i : run->infos) shrinks += i.num_shrinkage_steps;
  EXPECT_EQ(run->num_divergent, 0u);
  RecordProperty("mean_shrinkage_steps", std::to_string(shrinks / run->infos.size()));
}

TEST(EllipticalSlice, BlackjaxCaseBConstantLikelihood) {
  // Constant likelihood: every first angle is accepted and the chain is
  // the prior N(1, 2^2) (Blackjax's UnivariateNormalTest).
  auto prior = es::GaussianPrior::diagonal(Vec{1.0}, Vec{4.0});
  ASSERT_TRUE(prior.ok());
  auto alg = es::sampler([](const Vec&) { return 0.0; }, *prior);
  auto s0 = alg.init(Vec{3.0});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(12), alg, *s0, 20000);
  ASSERT_TRUE(run.ok());
  Mat kept = xt::view(run->positions, xt::range(5000, 20000), xt::all());
  testing::expect_moments(kept, Vec{1.0}, Vec{4.0}, 4.0, "ess case B");
  for (const auto& i : run->infos) ASSERT_EQ(i.num_shrinkage_steps, 0);
}

TEST(EllipticalSlice, TruncatedLikelihoodGivesHalfNormal) {
  // A likelihood that is -inf on x < 0 turns the N(0, 1) prior into a
  // half-normal: the infinite values are rejected and flagged, never stored.
  auto prior = es::GaussianPrior::diagonal(Vec{0.0}, Vec{1.0});
  auto alg = es::sampler([](const Vec& x) { return x(0) > 0 ? 0.0 : -INFINITY; }, *prior);
  auto s0 = alg.init(Vec{0.5});
  ASSERT_TRUE(s0.ok());
  auto run = run_inference_algorithm(make_key(13), alg, *s0, 20000);
  ASSERT_TRUE(run.ok());
  EXPECT_GT(run->num_divergent, 1000u);
  for (std::size_t i = 0; i < run->positions.shape(0); ++i) ASSERT_GT(run->positions(i, 0), 0.0);
  testing::expect_moments(run->positions, Vec{std::sqrt(2.0 / std::numbers::pi)},
                          Vec{1.0 - 2.0 / std::numbers::pi}, 4.0, "ess half-normal");
}

TEST(EllipticalSlice, PriorFactoriesAgreeBitwise) {
  const Vec mean{1.0, -2.0, 0.5}, var{0.25, 4.0, 9.0};
  auto diag = es::GaussianPrior::diagonal(mean, var);
  auto cov = es::GaussianPrior::covariance(mean, xt::diag(var));
  auto chol = es::GaussianPrior::cholesky(mean, xt::diag(Vec(xt::sqrt(var))));
  ASSERT_TRUE(diag.ok() && cov.ok() && chol.ok());
  GaussianLikelihood lik{Vec{0.0, 0.0, 0.0}, Vec{1.0, 1.0, 1.0}};
  auto s0 = es::init(mean, lik);
  ASSERT_TRUE(s0.ok());
  for (int k = 0; k < 20; ++k) {
    auto a = es::build_kernel()(make_key(k), *s0, lik, *diag);
    auto b = es::build_kernel()(make_key(k), *s0, lik, *cov);
    auto c = es::build_kernel()(make_key(k), *s0, lik, *chol);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_TRUE(a->state.position == b->state.position);
    EXPECT_TRUE(a->state.position == c->state.position);
  }
}

TEST(EllipticalSlice, PurityAndNoAllocations) {
  const std::size_t d = 10;
  auto prior = es::GaussianPrior::covariance(xt::zeros<double>({d}), xt::eye<double>(d) * 2.0);
  ASSERT_TRUE(prior.ok());
  GaussianLikelihood lik{xt::ones<double>({d}), xt::ones<double>({d}) * 0.3};
  auto s0 = es::init(xt::zeros<double>({d}), lik);
  ASSERT_TRUE(s0.ok());
  const es::State before = *s0;
  auto a = es::build_kernel()(make_key(4), *s0, lik, *prior);
  auto b = es::build_kernel()(make_key(4), *s0, lik, *prior);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_EQ(a->state.loglikelihood, b->state.loglikelihood);
  EXPECT_EQ(a->info.theta, b->info.theta);
  EXPECT_TRUE(s0->position == before.position);
  EXPECT_EQ(s0->loglikelihood, before.loglikelihood);
  EXPECT_FALSE(a->state.position == s0->position);  // elliptical slice always moves

  auto alg = es::sampler(std::ref(lik), *prior);
  es::State x = *s0, y = *s0;
  es::Info info;
  ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
  long shrinks = 0;
  {
    testing::AllocationScope scope;
    for (int i = 1; i <= 200; ++i) {
      ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
      shrinks += info.num_shrinkage_steps;
    }
    EXPECT_EQ(scope.count(), 0);
  }
  EXPECT_GT(shrinks, 0);  // the shrinkage loop ran inside the scope
}

TEST(EllipticalSlice, BadInputIsInvalidArgument) {
  const Vec m{0.0, 0.0};
  auto code = [](const auto& r) { return r.status().code(); };
  EXPECT_EQ(code(es::GaussianPrior::covariance(m, Mat{{1.0, 2.0}, {2.0, 1.0}})),
            absl::StatusCode::kInvalidArgument);  // indefinite
  EXPECT_EQ(code(es::GaussianPrior::covariance(m, Mat{{1.0, 0.5}, {0.0, 1.0}})),
            absl::StatusCode::kInvalidArgument);  // not symmetric
  EXPECT_EQ(code(es::GaussianPrior::covariance(Vec{0.0}, Mat{{1.0, 0.0}, {0.0, 1.0}})),
            absl::StatusCode::kInvalidArgument);  // mean size
  EXPECT_EQ(code(es::GaussianPrior::cholesky(m, Mat{{1.0, 0.5}, {0.0, 1.0}})),
            absl::StatusCode::kInvalidArgument);  // upper triangle
  EXPECT_EQ(code(es::GaussianPrior::cholesky(m, Mat{{1.0, 0.0}, {0.5, 0.0}})),
            absl::StatusCode::kInvalidArgument);  // singular
  EXPECT_EQ(code(es::GaussianPrior::diagonal(m, Vec{1.0, -1.0})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(es::GaussianPrior::diagonal(Vec{NAN, 0.0}, Vec{1.0, 1.0})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(es::GaussianPrior::covariance(m, Mat{{1.0, 2.0}, {2.0, 1.0}})
                .status().message().find("positive definite"), std::string::npos);

  auto prior3 = es::GaussianPrior::diagonal(xt::zeros<double>({3}), xt::ones<double>({3}));
  auto flat = [](const Vec&) { return 0.0; };
  auto s0 = es::init(m, flat);
  ASSERT_TRUE(s0.ok());
  auto mismatch = es::build_kernel()(make_key(0), *s0, flat, *prior3);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(es::sampler(flat, *prior3).init(m).ok());
  es::State stale = *s0;
  stale.loglikelihood = NAN;
  auto prior2 = es::GaussianPrior::diagonal(m, Vec{1.0, 1.0});
  EXPECT_EQ(es::build_kernel()(make_key(0), stale, flat, *prior2).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(es::init(Vec{INFINITY, 0.0}, flat).ok());
  EXPECT_FALSE(es::init(m, [](const Vec&) { return -INFINITY; }).ok());
}

TEST(EllipticalSlice, ThrowingLikelihoodAndShrinkageCapAreErrors) {
  auto prior = es::GaussianPrior::diagonal(Vec{0.0}, Vec{1.0});
  auto thrower = [](const Vec&) -> double { throw std::runtime_error("likelihood exploded"); };
  EXPECT_NE(es::init(Vec{0.0}, thrower).status().message().find("likelihood exploded"),
            std::string::npos);
  int calls = 0;
  auto throws_later = [&](const Vec&) -> double {
    if (calls++ > 0) throw std::runtime_error("second call");
    return 0.0;
  };
  auto s0 = es::init(Vec{0.0}, throws_later);
  ASSERT_TRUE(s0.ok());
  auto r = es::build_kernel()(make_key(1), *s0, throws_later, *prior);
  EXPECT_NE(r.status().message().find("second call"), std::string::npos);

  // A likelihood that changed since the state was cached: nothing is ever in
  // the slice, which the cap turns into an error instead of a hang.
  auto gone = [](const Vec&) { return -1e300; };
  es::State cached{Vec{0.0}, 0.0};
  auto capped = es::build_kernel(50)(make_key(2), cached, gone, *prior);
  EXPECT_EQ(capped.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(capped.status().message().find("50 shrinkage steps"), std::string::npos);
}

}  // namespace
}  // namespace nutshell
