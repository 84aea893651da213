// Pathfinder on Gaussian targets (where the L-BFGS inverse Hessian becomes
// the covariance), and its bad-input statuses.
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <gtest/gtest.h>

#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/vi/pathfinder.hpp"
#include "tests/vi/gaussian_targets.hpp"

namespace nutshell::vi {
namespace {

using testing::GaussianTarget;

// Pathfinder is not exact on a Gaussian: with an inexact line search the
// L-BFGS inverse Hessian satisfies the secant condition of the latest pair
// only, and the best-ELBO rule picks among noisy estimates. Measured over
// keys 1..5 (the printout): means within 0.2 sd, covariances within 0.25 on
// the correlation scale, KL(q || p) below 0.07 nats; the bounds allow about
// 1.7x that.
constexpr double kTol = 0.35, kMaxKl = 0.12;

// Worst standardised errors of the chosen approximation: mean / sd_i and
// covariance / (sd_i sd_j).
void check_gaussian(const GaussianTarget& t, std::uint64_t seed, double tol,
                    std::size_t elbo_draws) {
  const std::size_t d = t.mean.size();
  Vec x0 = xt::zeros<double>({d});
  for (std::size_t i = 0; i < d; ++i) x0(i) = (i % 2 ? 3.0 : -2.0) * std::sqrt(t.covariance(i, i));
  pathfinder::Options options;
  options.num_elbo_draws = elbo_draws;
  auto r = pathfinder::approximate(make_key(seed), t, x0, options);
  ASSERT_TRUE(r.ok()) << r.status();
  const Vec m = pathfinder::mean(r->state);
  const Mat c = pathfinder::covariance(r->state);
  double mean_err = 0.0, cov_err = 0.0;
  for (std::size_t i = 0; i < d; ++i) {
    const double si = std::sqrt(t.covariance(i, i));
    mean_err = std::max(mean_err, std::abs(m(i) - t.mean(i)) / si);
    for (std::size_t j = 0; j < d; ++j)
      cov_err = std::max(cov_err, std::abs(c(i, j) - t.covariance(i, j)) /
                                      (si * std::sqrt(t.covariance(j, j))));
  }
  std::printf("K=%zu d=%zu seed %lu: path %zu, best iterate %zu, elbo %.4f, mean err %.2e, cov err %.2e\n",
              elbo_draws, d, seed, r->path_length, r->state.iteration, r->state.elbo, mean_err, cov_err);
  EXPECT_LT(mean_err, tol);
  EXPECT_LT(cov_err, tol);
  // KL(q || p) = log Z - ELBO, with the ELBO from the 1000 returned draws.
  const double log_z = 0.5 * (static_cast<double>(d) * std::log(2.0 * M_PI) +
                              std::log(xt::linalg::det(t.covariance)));
  const double kl = log_z - xt::mean(r->logdensities - r->log_q)();
  std::printf("   KL(q||p) = %.4f\n", kl);
  EXPECT_LT(kl, kMaxKl);
  // The draws are from that normal: their sample mean within 5 standard errors.
  for (std::size_t i = 0; i < d; ++i) {
    const double dm = xt::mean(xt::view(r->draws, xt::all(), i))();
    EXPECT_NEAR(dm, m(i), 5.0 * std::sqrt(c(i, i) / r->draws.shape(0))) << i;
  }
  EXPECT_TRUE(xt::all(xt::isfinite(r->logdensities)));
}

TEST(Pathfinder, RecoversCorrelatedGaussian) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) check_gaussian(testing::correlated_5(), seed, kTol, 50);
}

TEST(Pathfinder, RecoversDiagonalGaussian) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) check_gaussian(testing::diagonal_10(), seed, kTol, 50);
}

// The compact inverse Hessian satisfies the secant condition H y = s of the
// most recent (s, y) pair, and alpha stays positive: checks Algorithm 3's
// algebra on every approximation along a path.
TEST(Pathfinder, InverseHessianSatisfiesLatestSecantCondition) {
  const GaussianTarget t = testing::correlated_5();
  auto path = lbfgs_path(t, Vec{3.0, -2.0, 1.0, 4.0, 0.5}, LbfgsOptions{});
  ASSERT_TRUE(path.ok()) << path.status();
  auto approx = pathfinder::approximations(*path, 3);
  ASSERT_GE(approx.size(), 3u);
  for (const auto& st : approx) {
    const std::size_t l = st.iteration;
    const Vec s = xt::view(path->positions, l, xt::all()) - xt::view(path->positions, l - 1, xt::all());
    const Vec y = xt::view(path->gradients, l - 1, xt::all()) - xt::view(path->gradients, l, xt::all());
    if (!(xt::sum(s * y)() > 1e-12 * xt::sum(y * y)())) continue;  // pair not kept
    const Vec hy = xt::linalg::dot(pathfinder::covariance(st), y);
    for (std::size_t i = 0; i < s.size(); ++i)
      EXPECT_NEAR(hy(i), s(i), 1e-8 * (1.0 + xt::amax(xt::abs(s))())) << "iterate " << l;
    EXPECT_TRUE(xt::all(st.alpha > 0.0));
    // The diagonal shortcut agrees with the dense covariance.
    const Vec diag = pathfinder::covariance_diagonal(st);
    const Mat c = pathfinder::covariance(st);
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_NEAR(diag(i), c(i, i), 1e-10 * (1 + c(i, i)));
  }
}

// Low-rank (2J < d) and dense (2J >= d) sampling are the same distribution:
// on a 12-D target with J = 2, the low-rank draws' covariance matches H.
TEST(Pathfinder, LowRankSamplingHasTheApproximationsCovariance) {
  GaussianTarget t = testing::diagonal_10();
  auto path = lbfgs_path(t, Vec(xt::ones<double>({10})), LbfgsOptions{});
  ASSERT_TRUE(path.ok());
  auto approx = pathfinder::approximations(*path, 2);
  ASSERT_FALSE(approx.empty());
  const auto& st = approx[approx.size() / 2];
  ASSERT_LT(st.beta.shape(1), 10u);
  const std::size_t n = 20000;
  auto draws = pathfinder::sample(make_key(9), st, n);
  ASSERT_TRUE(draws.ok()) << draws.status();
  const Mat c = pathfinder::covariance(st);
  const Vec m = pathfinder::mean(st);
  for (std::size_t i = 0; i < 10; ++i) {
    const auto col = xt::view(draws->positions, xt::all(), i);
    const double var = xt::variance(col)();
    EXPECT_NEAR(xt::mean(col)(), m(i), 5 * std::sqrt(c(i, i) / n));
    EXPECT_NEAR(var / c(i, i), 1.0, 5 * std::sqrt(2.0 / n)) << i;  // sd of a variance ratio
  }
  // log q agrees with the dense normal density at the first draw.
  const Vec x = xt::view(draws->positions, 0, xt::all());
  const Mat ci = xt::linalg::inv(c);
  const Vec dx = x - m;
  const double dense = -0.5 * (xt::linalg::dot(dx, xt::linalg::dot(ci, dx))() +
                               std::log(xt::linalg::det(c)) + 10 * std::log(2 * M_PI));
  EXPECT_NEAR(draws->log_q(0), dense, 1e-8 * std::abs(dense));
}

TEST(Pathfinder, NonFiniteStartIsAnError) {
  auto f = [](const Vec& x, Vec& g) {
    g = -x;
    return x(0) > 0 ? -0.5 * xt::sum(x * x)() : -std::numeric_limits<double>::infinity();
  };
  auto r = pathfinder::approximate(make_key(1), f, Vec{-1.0, 0.0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not finite at the initial position"), std::string::npos);
  auto nan_start = pathfinder::approximate(make_key(1), f, Vec{std::nan(""), 0.0});
  EXPECT_EQ(nan_start.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Pathfinder, NoProgressIsAnError) {
  // Flat: the gradient vanishes at the start.
  auto flat = [](const Vec&, Vec& g) {
    g.fill(0.0);
    return 0.0;
  };
  auto r = pathfinder::approximate(make_key(1), flat, Vec{1.0, 2.0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("no progress"), std::string::npos) << r.status();
  // A gradient that points the wrong way: no step increases the density.
  auto lying = [](const Vec& x, Vec& g) {
    g = x;  // the true gradient is -x
    return -0.5 * xt::sum(x * x)();
  };
  auto r2 = pathfinder::approximate(make_key(1), lying, Vec{1.0, 2.0});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kFailedPrecondition) << r2.status();
  std::printf("%s\n%s\n", std::string(r.status().message()).c_str(),
              std::string(r2.status().message()).c_str());
}

TEST(Pathfinder, InvalidOptionsAreAnError) {
  const GaussianTarget t = testing::correlated_5();
  pathfinder::Options options;
  options.lbfgs.gradient_tolerance = -1.0;  // liblbfgs: LBFGSERR_INVALID_EPSILON
  auto r = pathfinder::approximate(make_key(1), t, Vec(xt::ones<double>({5})), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("LBFGSERR_INVALID"), std::string::npos) << r.status();
  options = {};
  options.lbfgs.history_size = 0;
  EXPECT_EQ(pathfinder::approximate(make_key(1), t, Vec(xt::ones<double>({5})), options)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  options = {};
  options.num_draws = 0;
  EXPECT_FALSE(pathfinder::approximate(make_key(1), t, Vec(xt::ones<double>({5})), options).ok());
}

TEST(Pathfinder, ThrowingDensityIsAnError) {
  int calls = 0;
  auto f = [&calls](const Vec& x, Vec& g) {
    if (++calls > 3) throw std::runtime_error("boom");
    g = -x;
    return -0.5 * xt::sum(x * x)();
  };
  auto r = pathfinder::approximate(make_key(1), f, Vec{1.0, 2.0, 3.0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("boom"), std::string::npos) << r.status();
}

TEST(Pathfinder, NonFiniteElboIsAnError) {
  // Finite only on the line x_1 = 0, where the L-BFGS path stays (the
  // gradient has no x_1 component); every draw of every approximation is
  // off it, so every ELBO estimate is -inf: a status, never NaN draws.
  auto f = [](const Vec& x, Vec& g) {
    g = -x;
    return x(1) == 0.0 ? -0.5 * xt::sum(x * x)() : -std::numeric_limits<double>::infinity();
  };
  auto r = pathfinder::approximate(make_key(1), f, Vec{3.0, 0.0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("finite ELBO"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace nutshell::vi
