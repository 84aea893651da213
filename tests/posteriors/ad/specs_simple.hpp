// gauss_100, funnel_10 and eight_schools_nc written once: their Stan
// programs (../../shared/posteriors/*/model.stan) line by line.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/model/param.hpp"
#include "tests/posteriors/ad/ad_posterior.hpp"

namespace nutshell::posteriors {

/// x ~ normal(0, sigma), sigma log-spaced data.
struct Gauss100Spec {
  static constexpr std::string_view kName = "gauss_100";
  static constexpr bool kDenseMetricAdvised = false;
  std::shared_ptr<const std::vector<double>> sigma;

  static absl::StatusOr<Gauss100Spec> load(std::string_view dir);
  std::vector<model::Param> parameters() const { return {model::vector("x", sigma->size())}; }
  template <class P>
  auto operator()(const P& p) const {
    return distributions::normal_lpdf(p.vector("x"), 0.0, *sigma);
  }
};

/// v ~ normal(0, 3), x ~ normal(0, exp(v / 2)).
struct Funnel10Spec {
  static constexpr std::string_view kName = "funnel_10";
  static constexpr bool kDenseMetricAdvised = false;
  std::size_t n = 0;

  static absl::StatusOr<Funnel10Spec> load(std::string_view dir);
  std::vector<model::Param> parameters() const { return {model::real("v"), model::vector("x", n)}; }
  template <class P>
  auto operator()(const P& p) const {
    const auto& v = p.scalar("v");
    return distributions::normal_lpdf(v, 0.0, 3.0) +
           distributions::normal_lpdf(p.vector("x"), 0.0, ad::exp(v / 2.0));
  }
};

/// mu ~ normal(0, 5), tau ~ cauchy(0, 5) on tau > 0, theta_raw ~ normal(0, 1),
/// y ~ normal(mu + tau theta_raw, sigma).
struct EightSchoolsNcSpec {
  static constexpr std::string_view kName = "eight_schools_nc";
  static constexpr bool kDenseMetricAdvised = false;
  struct Data {
    std::vector<double> y, sigma;
  };
  std::shared_ptr<const Data> data;

  static absl::StatusOr<EightSchoolsNcSpec> load(std::string_view dir);
  std::vector<model::Param> parameters() const {
    return {model::real("mu"), model::positive("tau"), model::vector("theta_raw", data->y.size())};
  }
  template <class P>
  auto operator()(const P& p) const {
    const auto& mu = p.scalar("mu");
    const auto& tau = p.scalar("tau");
    const auto theta_raw = p.vector("theta_raw");
    const auto theta = ad::affine(mu, tau, theta_raw);  // mu + tau * theta_raw: one node
    using namespace distributions;
    return normal_lpdf(mu, 0.0, 5.0) + cauchy_lpdf(tau, 0.0, 5.0) +
           normal_lpdf(theta_raw, 0.0, 1.0) + normal_lpdf(data->y, theta, data->sigma);
  }
};

using Gauss100Ad = AdPosterior<Gauss100Spec>;
using Funnel10Ad = AdPosterior<Funnel10Spec>;
using EightSchoolsNcAd = AdPosterior<EightSchoolsNcSpec>;

}  // namespace nutshell::posteriors
