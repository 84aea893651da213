// Bayesian logistic regression with NUTS and a dense mass matrix, on
// simulated data whose true coefficients we know. The model is written once
// (a parameter layout, the distributions, reverse-mode autodiff for the
// gradient); no gradient is written by hand.
//
//   bazel run //examples:logistic_regression
//
// When predictors are correlated, so are their coefficients in the
// posterior: raising one can be compensated by lowering another. A diagonal
// mass matrix only rescales each coordinate; a *dense* one also undoes the
// correlation, so NUTS sees a round posterior and takes long, cheap
// trajectories. Window adaptation estimates it when asked for a dense metric.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "examples/cli.hpp"
#include "examples/output.hpp"
#include "nutshell/io/from_draws.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/model/make_model.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"

using nutshell::Mat;
using nutshell::Vec;

// ---------------------------------------------------------------------------
// 1. Simulated data: n observations of 4 predictors that are strongly
// correlated (each is 0.8 times the previous one plus noise), and
// y ~ Bernoulli(logistic(intercept + X beta)).
struct Data {
  std::vector<double> x;  // [n, 4], row-major
  std::vector<int> y;     // 0 or 1
};

const Vec kTrueBeta = {0.5, 1.5, -1.0, 0.8, 0.0};  // intercept, then beta[1..4]
constexpr std::size_t kPredictors = 4;

Data simulate(std::size_t n, const nutshell::Key& key) {
  nutshell::Stream rng(key);
  Data d{std::vector<double>(n * kPredictors), std::vector<int>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    double* row = &d.x[i * kPredictors];
    row[0] = rng.normal();
    for (std::size_t k = 1; k < kPredictors; ++k) row[k] = 0.8 * row[k - 1] + 0.6 * rng.normal();
    double eta = kTrueBeta(0);
    for (std::size_t k = 0; k < kPredictors; ++k) eta += row[k] * kTrueBeta(k + 1);
    d.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1 : 0;
  }
  return d;
}

// ---------------------------------------------------------------------------
// 2. The model, written once: named parameters, then log p as a template over
// the scalar type (double for values, nutshell::ad::var for gradients);
// reverse-mode autodiff supplies the gradient.
//   intercept, beta[k] ~ normal(0, 5),  y_i ~ bernoulli_logit(intercept + x_i . beta).
// `matvec` and `bernoulli_logit_lpmf` record one tape node each over all n
// observations, so the gradient costs about what a hand-written one does.
absl::StatusOr<nutshell::model::Layout> logistic_layout() {
  namespace model = nutshell::model;
  return model::Layout::create({model::real("intercept"), model::vector("beta", kPredictors)});
}

struct LogisticRegression {
  Data data;  // held by value: the model (and each chain's copy) owns it
  template <class Params>
  auto operator()(const Params& p) const {
    namespace ad = nutshell::ad;
    namespace dist = nutshell::distributions;
    using T = typename Params::scalar_type;
    const T& intercept = p.scalar("intercept");
    const std::span<const T> beta = p.vector("beta");
    const std::size_t n = data.y.size();
    const ad::MatrixView<const double> x{data.x.data(), n, kPredictors};
    const auto xb = ad::matvec(x, beta);
    const std::span<T> eta = ad::arena_vector<T>(n);  // scratch: no heap allocation
    for (std::size_t i = 0; i < n; ++i) eta[i] = intercept + xb[i];
    return dist::normal_lpdf(intercept, 0.0, 5.0) + dist::normal_lpdf(beta, 0.0, 5.0) +
           dist::bernoulli_logit_lpmf(data.y, eta);
  }
};

int main(int argc, char** argv) {
  const long n = examples::int_flag(argc, argv, "--n", 500);
  const long warmup = examples::int_flag(argc, argv, "--warmup", 1000);
  const long samples = examples::int_flag(argc, argv, "--samples", 1000);
  const nutshell::Key key = nutshell::make_key(
      static_cast<std::uint64_t>(examples::int_flag(argc, argv, "--seed", 1)));

  auto layout = logistic_layout();
  if (!layout.ok()) {
    std::cerr << "bad model: " << layout.status() << "\n";
    return 1;
  }
  auto model = nutshell::model::make_model(
      *layout, LogisticRegression{simulate(static_cast<std::size_t>(n), nutshell::split_one(key, 0))});

  // -------------------------------------------------------------------------
  // 3. NUTS with window adaptation of a dense inverse mass matrix.
  nutshell::SampleOptions options;
  options.num_warmup = static_cast<std::size_t>(warmup);
  options.num_samples = static_cast<std::size_t>(samples);
  options.adaptation.is_mass_matrix_diagonal = false;
  options.names = layout->names();  // intercept, beta[1], ..., beta[4]
  auto draws = nutshell::sample(nutshell::split_one(key, 1), nutshell::nuts::Kernel{}, model,
                                Vec(xt::zeros<double>({layout->dim()})), options);
  if (!draws.ok() || !draws->summary.ok()) {
    std::cerr << "sampling failed: " << (draws.ok() ? draws->summary.status() : draws.status())
              << "\n";
    return 1;
  }
  std::cout << *draws->summary << "\n";
  // With --output DIR: Stan CSV, netCDF and the HTML report.
  if (const auto output = examples::string_flag(argc, argv, "--output", ""); !output.empty()) {
    nutshell::io::RunInfo info;
    info.model_name = "logistic_regression";
    info.parameters = {{"intercept", {}}, {"beta", {kTrueBeta.size() - 1}}};
    info.num_warmup = options.num_warmup;
    info.num_samples = options.num_samples;
    auto run = nutshell::io::from_draws(*draws, info);
    if (!run.ok()) {
      std::cerr << run.status() << "\n";
      return 1;
    }
    if (examples::write_outputs(*run, output, "logistic_regression") != 0) return 1;
  }

  // -------------------------------------------------------------------------
  // 4. The adapted metric is (close to) the posterior covariance: its
  // correlations show the predictors' tangle that NUTS no longer sees.
  const Mat& imm = draws->params[0].inverse_mass_matrix.inverse_mass_matrix();
  std::printf("adapted correlation of beta[1] and beta[2]: %.2f\n",
              imm(1, 2) / std::sqrt(imm(1, 1) * imm(2, 2)));
  std::printf("\n%-10s %8s %8s %8s\n", "", "true", "mean", "sd");
  bool ok = true;
  for (std::size_t k = 0; k < kTrueBeta.size(); ++k) {
    const auto& row = draws->summary->rows[k];
    const double z = (row.mean - kTrueBeta(k)) / row.sd;
    std::printf("%-10s %8.2f %8.2f %8.2f   (%+.1f sd)\n", row.name.c_str(), kTrueBeta(k),
                row.mean, row.sd, z);
    // The posterior mean misses the truth by about one posterior sd (the
    // data are finite); four is a generous bound.
    ok = ok && std::abs(z) < 4.0 && row.rhat < 1.05;
  }
  if (examples::has_flag(argc, argv, "--check")) {
    if (imm.size() == 0) ok = false;  // the metric must be dense
    std::printf("check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
