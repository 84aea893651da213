// Example: SGLD on a logistic regression with 100 000 simulated rows and
// minibatches of 100, against the full-data posterior.
//
// Reference: full-data NUTS (with window adaptation), cross-checked by the
// Laplace approximation (Newton mode and inverse Hessian).
// With N = 100 000 rows the posterior is Gaussian to O(N^-1/2) (Bernstein-von
// Mises): mean - mode = O(N^-1) against an sd of O(N^-1/2). The constant is
// the standardised third cumulant of one row's log-likelihood (< 1 here), so
// the gap is ~0.1-0.3% of an sd; we allow 1% (kModeGap). A short full-data
// HMC run confirms the reference within its MCSE plus that gap.
//
// SGLD with constant step h has a variance inflated by the minibatch noise:
// on a Gaussian with precision lambda per direction and gradient-noise
// variance V, the stationary variance is (2h + h^2 V) / (2 h lambda -
// h^2 lambda^2) (see sgmcmc_test.cpp), ~ (1 + h V / 2) / lambda for small
// h lambda. On a Gaussian its mean is unbiased. Here the extra noise acts like
// a temperature T_eff = (SGLD variance / posterior variance), and the
// mean - mode gap of p^(1/T) grows linearly in T (for log p with a cubic term
// a x^3 / 6 the gap is a s^4 T / 2), so the stated bias bound for SGLD's mean
// is T_eff * kModeGap posterior sd, on top of 4 MCSE.
#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>
#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/sgmcmc/sgld.hpp"
#include "tests/support/moments.hpp"

namespace nutshell {
namespace {

constexpr std::size_t kRows = 100000, kDim = 5, kBatch = 100;
constexpr double kPriorVar = 100.0;  // coefficients ~ N(0, 10^2)
constexpr double kModeGap = 0.01;    // |posterior mean - mode| / sd allowed (see above)

/// Rows (1, x_1..x_4) with x ~ N(0, 1) and y ~ Bernoulli(sigmoid(x . beta)).
struct Data {
  std::vector<double> x;  // kRows x kDim, row-major
  std::vector<double> y;
  static Data simulate(const Key& key, const Vec& beta) {
    Data d{std::vector<double>(kRows * kDim), std::vector<double>(kRows)};
    Stream draws(key);
    for (std::size_t i = 0; i < kRows; ++i) {
      double eta = 0.0;
      for (std::size_t j = 0; j < kDim; ++j) {
        d.x[i * kDim + j] = j == 0 ? 1.0 : draws.normal();
        eta += d.x[i * kDim + j] * beta(j);
      }
      d.y[i] = draws.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1.0 : 0.0;
    }
    return d;
  }
  double eta(const Vec& beta, std::size_t i) const {
    double e = 0.0;
    for (std::size_t j = 0; j < kDim; ++j) e += x[i * kDim + j] * beta(j);
    return e;
  }
  /// Adds d/d beta log p(y_i | beta) = (y_i - sigmoid(eta_i)) x_i.
  void add_gradient(const Vec& beta, std::size_t i, Vec& grad) const {
    const double r = y[i] - 1.0 / (1.0 + std::exp(-eta(beta, i)));
    for (std::size_t j = 0; j < kDim; ++j) grad(j) += r * x[i * kDim + j];
  }
  /// Full-data log posterior and gradient (for Newton and HMC).
  double logdensity(const Vec& beta, Vec& grad) const {
    double lp = 0.0;
    for (std::size_t j = 0; j < kDim; ++j) {
      grad(j) = -beta(j) / kPriorVar;
      lp -= 0.5 * beta(j) * beta(j) / kPriorVar;
    }
    for (std::size_t i = 0; i < kRows; ++i) {
      const double e = eta(beta, i);
      // log sigmoid(s) with s = +-e by the label, computed stably.
      const double s = y[i] > 0.5 ? e : -e;
      const double t = std::exp(-std::abs(s));
      lp -= (s > 0 ? 0.0 : -s) + std::log1p(t);
      const double p = e >= 0 ? 1.0 / (1.0 + t) : t / (1.0 + t);  // sigmoid(e), |e| = |s|
      const double r = y[i] - p;
      for (std::size_t j = 0; j < kDim; ++j) grad(j) += r * x[i * kDim + j];
    }
    return lp;
  }
};

/// Newton's method for the mode; returns the mode and the inverse Hessian.
std::pair<Vec, Mat> laplace(const Data& data) {
  Vec beta = xt::zeros<double>({kDim});
  Mat cov;
  for (int it = 0; it < 25; ++it) {
    Vec grad = Vec::from_shape({kDim});
    data.logdensity(beta, grad);
    Mat hess = xt::zeros<double>({kDim, kDim});  // negative Hessian
    for (std::size_t j = 0; j < kDim; ++j) hess(j, j) = 1.0 / kPriorVar;
    for (std::size_t i = 0; i < kRows; ++i) {
      const double p = 1.0 / (1.0 + std::exp(-data.eta(beta, i)));
      for (std::size_t a = 0; a < kDim; ++a)
        for (std::size_t b = 0; b < kDim; ++b)
          hess(a, b) += p * (1.0 - p) * data.x[i * kDim + a] * data.x[i * kDim + b];
    }
    cov = xt::linalg::inv(hess);
    const Vec delta = xt::linalg::dot(cov, grad);
    beta += delta;
    if (xt::amax(xt::abs(delta))() < 1e-12) break;
  }
  return {beta, cov};
}

TEST(SgldLogistic, MatchesFullDataPosteriorMean) {
  const Vec truth{0.5, -1.0, 2.0, 0.3, -0.7};
  const Data data = Data::simulate(make_key(2024), truth);
  const auto [mode, cov] = laplace(data);
  Vec sd = xt::sqrt(xt::diagonal(cov));
  for (std::size_t j = 0; j < kDim; ++j) {
    EXPECT_NEAR(mode(j), truth(j), 5.0 * sd(j)) << "simulation or Newton is off";
    std::printf("beta[%zu]: truth %+.4f  posterior mean (Laplace) %+.5f  sd %.5f\n", j, truth(j),
                mode(j), sd(j));
  }

  // The reference the issue asks for: NUTS with window adaptation on the
  // full, subsample-free data set. It must agree with Laplace up to the
  // mode-mean gap, and it is what SGLD is judged against below.
  Vec nuts_mean = Vec::from_shape({kDim}), nuts_mcse = Vec::from_shape({kDim});
  {
    auto f = [&data](const Vec& b, Vec& g) { return data.logdensity(b, g); };
    auto warmup = adaptation::window_adaptation(nuts::build_kernel(), f);
    auto adapted = warmup.run(make_key(11), xt::zeros<double>({kDim}), 300);
    ASSERT_TRUE(adapted.ok()) << adapted.status();
    auto alg = nuts::sampler(f, adapted->parameters);
    auto run = run_inference_algorithm(make_key(1), alg, adapted->state, 1000);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->num_divergent, 0u);
    for (std::size_t j = 0; j < kDim; ++j) {
      const auto m = testing::batch_means(testing::column(run->positions, j));
      nuts_mean(j) = m.mean;
      nuts_mcse(j) = m.mcse;
      EXPECT_LT(std::abs(m.mean - mode(j)), 4.0 * m.mcse + kModeGap * sd(j))
          << "NUTS disagrees with Laplace, " << j;
      std::printf("beta[%zu]: full-data NUTS mean %+.5f (mcse %.5f)\n", j, m.mean, m.mcse);
    }
  }

  // SGLD, Blackjax's plain form (no preconditioner), batches of 100.
  auto estimator = sgmcmc::make_gradient_estimator(
      kRows, kBatch,
      [&data](const Vec& b, std::size_t i, Vec& g) { data.add_gradient(b, i, g); },
      [](const Vec& b, Vec& g) { g = -b / kPriorVar; });
  ASSERT_TRUE(estimator.ok());
  const double h = 2e-6;
  auto alg = sgld::sampler(*estimator, sgld::Params<>{{h}});
  auto init = alg.init(xt::zeros<double>({kDim}));
  ASSERT_TRUE(init.ok());
  auto burn = run_inference_algorithm(make_key(7), alg, *init, 2000);
  ASSERT_TRUE(burn.ok()) << burn.status();
  auto run = run_inference_algorithm(make_key(8), alg, burn->final_state, 200000);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->num_divergent, 0u);
  for (std::size_t j = 0; j < kDim; ++j) {
    const auto series = testing::column(run->positions, j);
    const auto m = testing::batch_means(series);
    double var = 0.0;
    for (double b : series) var += (b - m.mean) * (b - m.mean) / series.size();
    const double t_eff = var / (sd(j) * sd(j));
    const double bias_bound = t_eff * kModeGap * sd(j);
    std::printf("beta[%zu]: SGLD mean %+.5f (mcse %.5f), error %+.3f posterior sd vs NUTS; "
                "T_eff %.1f, bias bound %.3f sd\n",
                j, m.mean, m.mcse, (m.mean - nuts_mean(j)) / sd(j), t_eff, bias_bound / sd(j));
    EXPECT_LT(std::abs(m.mean - mode(j)), 4.0 * m.mcse + bias_bound) << j;
    // Against NUTS: SGLD's own bias plus the mode-mean gap NUTS sees.
    const double combined = std::sqrt(m.mcse * m.mcse + nuts_mcse(j) * nuts_mcse(j));
    EXPECT_LT(std::abs(m.mean - nuts_mean(j)), 4.0 * combined + bias_bound + kModeGap * sd(j))
        << j;
  }
}

}  // namespace
}  // namespace nutshell
