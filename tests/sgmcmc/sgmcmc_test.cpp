// The minibatch gradient estimator, SGLD and SGHMC.
//
// Both samplers are biased by design (no Metropolis test), so their variance
// checks are against the exact stationary variance of the discretised chain
// on a Gaussian, derived below, which includes the minibatch gradient noise.
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/sgmcmc/sghmc.hpp"
#include "nutshell/sgmcmc/sgld.hpp"
#include "tests/sgmcmc/sg_gaussian.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/gaussian.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

using testing::GaussianData;

Vec scales_10d() { return xt::sqrt(xt::diagonal(testing::Gaussian::scales_10d().covariance())); }

auto estimator_for(const GaussianData& data, std::size_t batch) {
  auto e = sgmcmc::make_gradient_estimator(data.rows(), batch, data.datum_gradient());
  EXPECT_TRUE(e.ok()) << e.status();
  return *std::move(e);
}

/// A stationary draw for the start, so no burn-in is needed: x_j ~ N(0, v_j).
Vec draw(const Key& key, const Vec& variance) {
  Vec x = normal(key, variance.size());
  for (std::size_t j = 0; j < x.size(); ++j) x(j) *= std::sqrt(variance(j));
  return x;
}

// ---------------------------------------------------------------------------
// Estimator
// ---------------------------------------------------------------------------

TEST(Minibatch, DistinctRowsUniformAndPureInTheKey) {
  sgmcmc::BatchWorkspace ws, other;
  std::vector<int> counts(20, 0);
  for (int k = 0; k < 4000; ++k) {
    sgmcmc::draw_minibatch(make_key(k), 20, 7, ws);
    std::set<std::size_t> rows(ws.batch.begin(), ws.batch.end());
    ASSERT_EQ(rows.size(), 7u) << "a batch repeated a row";
    for (std::size_t r : ws.batch) {
      ASSERT_LT(r, 20u);
      ++counts[r];
    }
    // The permutation is restored, so the batch depends on the key only.
    for (std::size_t i = 0; i < 20; ++i) ASSERT_EQ(ws.permutation[i], i);
  }
  // Each row has inclusion probability 7/20: 1400 of 4000, sd ~30.
  for (int c : counts) EXPECT_NEAR(c, 1400, 150);
  sgmcmc::draw_minibatch(make_key(9), 20, 7, ws);
  sgmcmc::draw_minibatch(make_key(1), 20, 7, other);
  sgmcmc::draw_minibatch(make_key(9), 20, 7, other);
  EXPECT_EQ(ws.batch, other.batch);
}

TEST(Minibatch, EstimateIsScaledAndUnbiased) {
  GaussianData data(Vec{1.0, 2.0}, 30, 3.0, make_key(5));
  auto est = estimator_for(data, 6);
  EXPECT_DOUBLE_EQ(est.scale(), 5.0);
  const Vec theta{0.3, -0.7};
  sgmcmc::BatchWorkspace ws;
  Vec full = Vec::from_shape({2}), g = Vec::from_shape({2});
  ASSERT_TRUE(est.full_gradient(theta, full, ws).ok());
  EXPECT_NEAR(full(0), -0.3, 1e-12);  // data centred: the posterior is N(0, diag(1, 4))
  EXPECT_NEAR(full(1), 0.7 / 4.0, 1e-12);
  Vec mean = xt::zeros<double>({2});
  Vec sq = xt::zeros<double>({2});
  const int n = 20000;
  for (int k = 0; k < n; ++k) {
    ASSERT_TRUE(est.estimate(make_key(k), theta, g, ws).ok());
    mean += g / n;
    sq += (g - full) * (g - full) / n;
  }
  for (std::size_t j = 0; j < 2; ++j) {
    const double v = data.noise_variance(j, 6);
    EXPECT_NEAR(mean(j), full(j), 4.0 * std::sqrt(v / n)) << j;
    // Without replacement: (N - n)/(N - 1) = 24/29 of the with-replacement variance.
    EXPECT_NEAR(sq(j) / v, 1.0, 0.05) << j;
  }
}

TEST(Minibatch, InvalidSizesAndThrowingGradients) {
  auto grad = [](const Vec&, std::size_t, Vec&) {};
  EXPECT_EQ(sgmcmc::make_gradient_estimator(0, 1, grad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sgmcmc::make_gradient_estimator(10, 0, grad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sgmcmc::make_gradient_estimator(10, 11, grad).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto bad = sgmcmc::make_gradient_estimator(
      10, 2, [](const Vec&, std::size_t i, Vec&) {
        if (i < 100) throw std::runtime_error("bad row");
      });
  ASSERT_TRUE(bad.ok());
  sgmcmc::BatchWorkspace ws;
  Vec g = Vec::from_shape({1});
  auto s = bad->estimate(make_key(0), Vec{0.0}, g, ws);
  EXPECT_NE(s.message().find("bad row"), std::string::npos) << s;
}

TEST(Minibatch, RowsAdapterAndPrior) {
  std::vector<double> ys{1.0, 2.0, 3.0, 6.0};
  // y ~ N(theta, 1), prior N(0, 1): full gradient = sum(y - theta) - theta.
  auto est = sgmcmc::make_gradient_estimator(
      ys.size(), 4,
      sgmcmc::rows(ys, [](const Vec& t, const double& y, Vec& g) { g(0) += y - t(0); }),
      [](const Vec& t, Vec& g) { g(0) = -t(0); });
  ASSERT_TRUE(est.ok());
  sgmcmc::BatchWorkspace ws;
  Vec g = Vec::from_shape({1});
  ASSERT_TRUE(est->estimate(make_key(3), Vec{1.0}, g, ws).ok());
  EXPECT_NEAR(g(0), (12.0 - 4.0) - 1.0, 1e-12);
}

TEST(Schedules, ConstantAndPolynomialDecay) {
  EXPECT_EQ(sgmcmc::ConstantStepSize{0.3}(1000), 0.3);
  const sgmcmc::PolynomialDecay decay{0.1, 10.0, 0.55};
  EXPECT_DOUBLE_EQ(decay(0), 0.1 * std::pow(10.0, -0.55));
  EXPECT_DOUBLE_EQ(decay(90), 0.1 * std::pow(100.0, -0.55));
  // The kernel reads the schedule at the state's step counter.
  GaussianData data(Vec{1.0, 1.0}, 10, 1.0, make_key(1));
  auto est = estimator_for(data, 5);
  auto state = sgld::init(Vec{0.0, 0.0});
  ASSERT_TRUE(state.ok());
  state->step = 90;
  auto r = sgld::build_kernel()(make_key(0), *state, est, sgld::Params<sgmcmc::PolynomialDecay>{decay});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->info.step_size, decay(90));
  EXPECT_EQ(r->state.step, 91u);
}

// ---------------------------------------------------------------------------
// SGLD
// ---------------------------------------------------------------------------

// Stationary variance of SGLD on one coordinate of GaussianData. With
// preconditioner m (M^-1 = diag(m)), step h and temperature T:
//   x' = rho x + h m xi + sqrt(2 T h m) z,   rho = 1 - h m / s^2,
// an AR(1) whose stationary variance is (h^2 m^2 V + 2 T h m) / (1 - rho^2).
// With exact gradients (V = 0), m = 1, T = 1 this is s^2 / (1 - h / (2 s^2)),
// the Euler discretisation bias; the minibatch noise adds h^2 m^2 V.
double sgld_variance(const GaussianData& data, std::size_t j, std::size_t batch, double h,
                     double m, double temperature) {
  const double s2 = data.sd()(j) * data.sd()(j);
  const double rho = 1.0 - h * m / s2;
  return (h * h * m * m * data.noise_variance(j, batch) + 2.0 * temperature * h * m) /
         (1.0 - rho * rho);
}

TEST(Sgld, TenDimensionalScalesPreconditioned) {
  // 100 rows, batches of 50: the finite-population factor 50/99 halves the
  // gradient noise, which the variances below resolve (with replacement they
  // would be ~10% larger, far beyond 4 MCSE).
  const Vec sd = scales_10d();
  GaussianData data(sd, 100, 15.0, make_key(11));
  const std::size_t batch = 50;
  const double h = 0.1;
  Vec expected(sd.shape()), exact_grad(sd.shape());
  for (std::size_t j = 0; j < 10; ++j) {
    expected(j) = sgld_variance(data, j, batch, h, sd(j) * sd(j), 1.0);
    exact_grad(j) = sd(j) * sd(j) / (1.0 - h / 2.0);
  }
  // Stated bias: the Euler step alone inflates every variance by 1/(1 - h/2)
  // = 1.053; the gradient noise brings it to expected / s^2 = 1.14..1.18.
  for (std::size_t j = 0; j < 10; ++j) {
    EXPECT_GT(expected(j) / (sd(j) * sd(j)), 1.13);
    EXPECT_LT(expected(j) / (sd(j) * sd(j)), 1.19);
  }
  for (bool dense : {false, true}) {
    const Mat cov = testing::Gaussian::scales_10d().covariance();
    auto metric = dense ? Metric::dense(cov) : Metric::diagonal(xt::diagonal(cov));
    ASSERT_TRUE(metric.ok());
    auto alg = sgld::sampler(estimator_for(data, batch), sgld::Params<>{{h}, 1.0, *metric});
    auto init = alg.init(draw(make_key(1), expected));
    ASSERT_TRUE(init.ok());
    auto run = run_inference_algorithm(make_key(dense ? 3 : 2), alg, *init, 200000);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->num_divergent, 0u);
    testing::expect_moments(run->positions, xt::zeros<double>({10}), expected, 4.0,
                            dense ? "sgld dense" : "sgld diag");
  }
}

TEST(Sgld, IdentityMetricAndTemperature) {
  // Blackjax's plain SGLD (no preconditioner) on a well-conditioned target,
  // at T = 1 and T = 0.5 (variance scales with T, the noise term does not).
  const Vec sd{0.5, 1.0, 1.5};
  GaussianData data(sd, 40, 4.0, make_key(21));
  const double h = 0.1;
  for (double temperature : {1.0, 0.5}) {
    Vec expected(sd.shape());
    for (std::size_t j = 0; j < 3; ++j) expected(j) = sgld_variance(data, j, 8, h, 1.0, temperature);
    auto alg = sgld::sampler(estimator_for(data, 8), sgld::Params<>{{h}, temperature});
    auto init = alg.init(draw(make_key(4), expected));
    ASSERT_TRUE(init.ok());
    auto run = run_inference_algorithm(make_key(5), alg, *init, 200000);
    ASSERT_TRUE(run.ok()) << run.status();
    testing::expect_moments(run->positions, xt::zeros<double>({3}), expected, 4.0,
                            temperature == 1.0 ? "T=1" : "T=0.5");
  }
}

TEST(Sgld, StepIsPureAndAllocationFree) {
  GaussianData data(scales_10d(), 100, 2.0, make_key(1));
  auto est = estimator_for(data, 10);
  auto state = sgld::init(xt::ones<double>({10}));
  ASSERT_TRUE(state.ok());
  const sgld::State before = *state;
  const sgld::Params<> params{{0.01}};
  auto a = sgld::build_kernel()(make_key(7), *state, est, params);
  auto b = sgld::build_kernel()(make_key(7), *state, est, params);
  auto c = sgld::build_kernel()(make_key(8), *state, est, params);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(state->position == before.position);
  EXPECT_EQ(state->step, before.step);
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_FALSE(a->state.position == c->state.position);

  auto metric = Metric::diagonal(xt::ones<double>({10}));
  auto alg = sgld::sampler(est, sgld::Params<>{{0.01}, 1.0, *metric});
  static_assert(InPlaceSamplingAlgorithm<decltype(alg)>);
  sgld::State x = *state, y = *state;
  sgld::Info info;
  ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
  testing::AllocationScope scope;
  for (int i = 1; i <= 200; ++i) ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
  EXPECT_EQ(scope.count(), 0);
}

TEST(Sgld, BadInputAndNonFiniteSteps) {
  GaussianData data(Vec{1.0, 1.0}, 10, 1.0, make_key(1));
  auto est = estimator_for(data, 5);
  auto state = sgld::init(Vec{0.0, 0.0});
  ASSERT_TRUE(state.ok());
  const auto k = sgld::build_kernel();
  auto code = [&](const sgld::Params<>& p) { return k(make_key(0), *state, est, p).status().code(); };
  EXPECT_EQ(code({{0.0}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{-1.0}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{NAN}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{0.1}, -1.0}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{0.1}, NAN}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{0.1}, 1.0, Metric::identity(3)}), absl::StatusCode::kInvalidArgument);
  auto decayed = k(make_key(0), *state, est,
                   sgld::Params<sgmcmc::PolynomialDecay>{{0.1, -1.0, 0.55}});  // (b + 0)^-g: NaN
  EXPECT_EQ(decayed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(decayed.status().message().find("at step 0"), std::string::npos) << decayed.status();
  auto throwing = sgmcmc::make_gradient_estimator(3, 1, [](const Vec&, std::size_t, Vec&) {
    throw std::runtime_error("gradient exploded");
  });
  ASSERT_TRUE(throwing.ok());
  auto thrown = k(make_key(0), *state, *throwing, sgld::Params<>{{0.1}});
  EXPECT_NE(thrown.status().message().find("gradient exploded"), std::string::npos) << thrown.status();
  EXPECT_FALSE(sgld::init(Vec{}).ok());
  EXPECT_FALSE(sgld::init(Vec{INFINITY, 0.0}).ok());
  // A gradient that overflows gives a non-finite position: kept out.
  auto huge = sgmcmc::make_gradient_estimator(2, 1, [](const Vec&, std::size_t, Vec& g) {
    g(0) += 1e308;
    g(1) += NAN;
  });
  ASSERT_TRUE(huge.ok());
  auto r = k(make_key(0), *state, *huge, sgld::Params<>{{1e10}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->info.is_divergent);
  EXPECT_TRUE(r->state.position == state->position);
  EXPECT_EQ(r->state.step, 1u);
}

// ---------------------------------------------------------------------------
// SGHMC
// ---------------------------------------------------------------------------

// Exact stationary variance of SGHMC on one coordinate of GaussianData with
// preconditioner m (M = 1/m). One integration step maps z = (x, p) to
//   x' = x + h m p,  p' = a p + h (-x'/s^2 + xi) + sigma n,  n ~ N(0, 1/m),
// i.e. z' = A z + w with A = [[1, h m], [-h/s^2, a - h^2 m / s^2]],
// a = 1 - alpha h, Var(w) = diag(0, q), q = h^2 V + sigma^2 / m. A transition
// draws p ~ N(0, T/m) and applies K steps, so x_new = B11 x + B12 p + e with
// B = A^K and Var(e) = sum_{j<K} (A^j Q A^jT)_11, an AR(1) in x with
// stationary variance (B12^2 T/m + Var(e)) / (1 - B11^2).
double sghmc_variance(const GaussianData& data, std::size_t j, std::size_t batch, double h,
                      double m, int steps, double alpha, double temperature) {
  const double s2 = data.sd()(j) * data.sd()(j);
  const double a = 1.0 - alpha * h;
  const double sigma2 = h * temperature * 2.0 * alpha;
  const double q = h * h * data.noise_variance(j, batch) + sigma2 / m;
  const double A[2][2] = {{1.0, h * m}, {-h / s2, a - h * h * m / s2}};
  double P[2][2] = {{1.0, 0.0}, {0.0, 1.0}};  // A^j
  double var_e = 0.0;
  for (int k = 0; k < steps; ++k) {
    var_e += P[0][1] * P[0][1] * q;
    double N[2][2];
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 2; ++c) N[r][c] = A[r][0] * P[0][c] + A[r][1] * P[1][c];
    std::copy(&N[0][0], &N[0][0] + 4, &P[0][0]);
  }
  return (P[0][1] * P[0][1] * temperature / m + var_e) / (1.0 - P[0][0] * P[0][0]);
}

TEST(Sghmc, TenDimensionalScalesPreconditioned) {
  const Vec sd = scales_10d();
  GaussianData data(sd, 100, 15.0, make_key(12));
  const std::size_t batch = 50;
  const double h = 0.15;
  Vec expected(sd.shape());
  for (std::size_t j = 0; j < 10; ++j) {
    expected(j) = sghmc_variance(data, j, batch, h, sd(j) * sd(j), 10, 0.01, 1.0);
    // Stated bias: with exact gradients symplectic Euler alone gives 1.022 s^2;
    // the gradient noise raises it to expected / s^2 = 1.20..1.30.
    const double exact = sghmc_variance(GaussianData(sd, 2, 0.0, make_key(0)), j, 2, h,
                                        sd(j) * sd(j), 10, 0.01, 1.0);
    EXPECT_NEAR(exact / (sd(j) * sd(j)), 1.022, 0.001);
    EXPECT_GT(expected(j) / (sd(j) * sd(j)), 1.19);
    EXPECT_LT(expected(j) / (sd(j) * sd(j)), 1.31);
  }
  auto metric = Metric::diagonal(sd * sd);
  ASSERT_TRUE(metric.ok());
  auto alg = sghmc::sampler(estimator_for(data, batch), sghmc::Params<>{{h}, 10, 1.0, *metric});
  auto init = alg.init(draw(make_key(1), expected));
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(2), alg, *init, 20000);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->num_divergent, 0u);
  testing::expect_moments(run->positions, xt::zeros<double>({10}), expected, 4.0, "sghmc");
}

TEST(Sghmc, IdentityMetricWithStrongFriction) {
  const Vec sd{0.5, 1.0, 1.5};
  GaussianData data(sd, 40, 4.0, make_key(22));
  const double h = 0.1, alpha = 1.0;
  Vec expected(sd.shape());
  for (std::size_t j = 0; j < 3; ++j)
    expected(j) = sghmc_variance(data, j, 8, h, 1.0, 5, alpha, 1.0);
  auto alg = sghmc::sampler(estimator_for(data, 8), sghmc::Params<>{{h}, 5},
                            sghmc::build_kernel(alpha));
  auto init = alg.init(draw(make_key(4), expected));
  ASSERT_TRUE(init.ok());
  auto run = run_inference_algorithm(make_key(5), alg, *init, 40000);
  ASSERT_TRUE(run.ok()) << run.status();
  testing::expect_moments(run->positions, xt::zeros<double>({3}), expected, 4.0, "sghmc identity");
}

TEST(Sghmc, StepIsPureAllocationFreeAndChecksInput) {
  GaussianData data(scales_10d(), 100, 2.0, make_key(1));
  auto est = estimator_for(data, 10);
  auto state = sghmc::init(xt::ones<double>({10}));
  ASSERT_TRUE(state.ok());
  const sghmc::State before = *state;
  const sghmc::Params<> params{{0.01}};
  const auto k = sghmc::build_kernel();
  auto a = k(make_key(7), *state, est, params);
  auto b = k(make_key(7), *state, est, params);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(state->position == before.position);
  EXPECT_TRUE(a->state.position == b->state.position);
  EXPECT_EQ(a->state.step, 1u);

  auto alg = sghmc::sampler(est, sghmc::Params<>{{0.01}, 10, 1.0, Metric::identity(10)});
  sghmc::State x = *state, y = *state;
  sghmc::Info info;
  ASSERT_TRUE(alg.step_into(make_key(0), x, y, info).ok());
  {
    testing::AllocationScope scope;
    for (int i = 1; i <= 100; ++i)
      ASSERT_TRUE(alg.step_into(make_key(i), i % 2 ? y : x, i % 2 ? x : y, info).ok());
    EXPECT_EQ(scope.count(), 0);
  }

  auto code = [&](const sghmc::Kernel& kern, const sghmc::Params<>& p) {
    return kern(make_key(0), *state, est, p).status().code();
  };
  EXPECT_EQ(code(k, {{0.0}}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(k, {{0.1}, 0}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(k, {{0.1}, 10, -1.0}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(k, {{0.1}, 10, 1.0, Metric::identity(2)}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(sghmc::build_kernel(-0.1), {{0.1}}), absl::StatusCode::kInvalidArgument);
  // 2 alpha < h T beta: negative noise variance.
  EXPECT_EQ(code(sghmc::build_kernel(0.01, 10.0), {{0.1}}), absl::StatusCode::kInvalidArgument);
  auto throwing = sgmcmc::make_gradient_estimator(3, 1, [](const Vec&, std::size_t, Vec&) {
    throw std::runtime_error("gradient exploded");
  });
  ASSERT_TRUE(throwing.ok());
  auto r = k(make_key(0), *state, *throwing, params);
  EXPECT_NE(r.status().message().find("gradient exploded"), std::string::npos) << r.status();
  auto nan_grad = sgmcmc::make_gradient_estimator(3, 1, [](const Vec&, std::size_t, Vec& g) {
    g(0) += NAN;
  });
  ASSERT_TRUE(nan_grad.ok());
  auto n = k(make_key(0), *state, *nan_grad, params);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->info.is_divergent);
  EXPECT_TRUE(n->state.position == state->position);
}

}  // namespace
}  // namespace nutshell
