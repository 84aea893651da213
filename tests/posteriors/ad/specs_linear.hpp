// corr_gauss_50 and logistic_1000x25 written once (their Stan programs in
// ../../shared/posteriors/*/model.stan).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/multivariate.hpp"
#include "nutshell/model/param.hpp"
#include "tests/posteriors/ad/ad_posterior.hpp"
#include "tests/posteriors/ad/local_distributions.hpp"

namespace nutshell::posteriors {

/// x ~ multi_normal_cholesky(0, L), L = cholesky(Sigma) once, at load.
struct CorrGauss50Spec {
  static constexpr std::string_view kName = "corr_gauss_50";
  static constexpr bool kDenseMetricAdvised = true;
  std::size_t n = 0;
  std::shared_ptr<const std::vector<double>> L;  // row-major lower factor
  std::shared_ptr<const std::vector<double>> zeros;  // the mean

  static absl::StatusOr<CorrGauss50Spec> load(std::string_view dir);
  std::vector<model::Param> parameters() const { return {model::vector("x", n)}; }
  template <class P>
  auto operator()(const P& p) const {
    return distributions::multi_normal_cholesky_lpdf(p.vector("x"), *zeros, *L);
  }
};

/// alpha ~ normal(0, 5), beta ~ normal(0, 1), y ~ bernoulli_logit_glm(X, alpha, beta).
struct Logistic1000x25Spec {
  static constexpr std::string_view kName = "logistic_1000x25";
  static constexpr bool kDenseMetricAdvised = false;
  struct Data {
    std::size_t n = 0, k = 0;
    std::vector<double> X, y;
  };
  std::shared_ptr<const Data> data;

  static absl::StatusOr<Logistic1000x25Spec> load(std::string_view dir);
  std::vector<model::Param> parameters() const {
    return {model::real("alpha"), model::vector("beta", data->k)};
  }
  template <class P>
  auto operator()(const P& p) const {
    const auto& alpha = p.scalar("alpha");
    const auto beta = p.vector("beta");
    const ad::MatrixView<const double> X{data->X.data(), data->n, data->k};
    return distributions::normal_lpdf(alpha, 0.0, 5.0) + distributions::normal_lpdf(beta, 0.0, 1.0) +
           bernoulli_logit_glm_lpmf(data->y, X, alpha, beta);
  }
};

using CorrGauss50Ad = AdPosterior<CorrGauss50Spec>;
using Logistic1000x25Ad = AdPosterior<Logistic1000x25Spec>;

}  // namespace nutshell::posteriors
