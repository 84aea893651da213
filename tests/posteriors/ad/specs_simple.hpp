// gauss_100, funnel_10 and eight_schools_nc written once: their Stan
// programs (../../shared/posteriors/*/model.stan) line by line.
//
// The Stan programs use `target += *_lpdf(...)`, so lp__ keeps every
// normalising constant, and so do these models. The terms that depend on
// data only (log sigma of a data scale, log sqrt(2 pi), log pi) are the same
// on every call, so, as the hand-written models do, each model sums them once
// at load (`log_norm`) and the per-gradient densities drop them (`propto`,
// Stan's `~`): the value is unchanged (to rounding) and a gradient stops
// recomputing a hundred logs of data (24 % of gauss_100's AD gradient).
// With T = double `propto` drops every term (nothing is a parameter), so the
// value-only path keeps the full densities (`kPropto` below).
#pragma once

#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/model/param.hpp"
#include "tests/posteriors/ad/ad_posterior.hpp"

namespace nutshell::posteriors {

/// True when the densities of a model read through `P` may drop their
/// data-only terms (every scalar but double; see the file comment).
template <class P>
inline constexpr bool kPropto = !std::is_same_v<typename P::scalar_type, double>;

/// The data-only constant a model adds when `kPropto<P>`, else 0.
template <class P>
constexpr double propto_constant(double log_norm) {
  return kPropto<P> ? log_norm : 0.0;
}

/// x ~ normal(0, sigma), sigma log-spaced data.
struct Gauss100Spec {
  static constexpr std::string_view kName = "gauss_100";
  static constexpr bool kDenseMetricAdvised = false;
  std::shared_ptr<const std::vector<double>> sigma;
  double log_norm = 0.0;  // normal_lpdf(0 | 0, sigma) = -N log sqrt(2 pi) - sum log sigma

  static absl::StatusOr<Gauss100Spec> load(std::string_view dir);
  std::vector<model::Param> parameters() const { return {model::vector("x", sigma->size())}; }
  template <class P>
  auto operator()(const P& p) const {
    return ad::sum_terms(distributions::normal_lpdf<kPropto<P>>(p.vector("x"), 0.0, *sigma),
                         propto_constant<P>(log_norm));
  }
};

/// v ~ normal(0, 3), x ~ normal(0, exp(v / 2)).
struct Funnel10Spec {
  static constexpr std::string_view kName = "funnel_10";
  static constexpr bool kDenseMetricAdvised = false;
  std::size_t n = 0;
  // normal_lpdf(0 | 0, 3) + N log sqrt(2 pi): log sigma of the x's depends on v, stays.
  double log_norm = 0.0;

  static absl::StatusOr<Funnel10Spec> load(std::string_view dir);
  std::vector<model::Param> parameters() const { return {model::real("v"), model::vector("x", n)}; }
  template <class P>
  auto operator()(const P& p) const {
    using namespace distributions;
    const auto& v = p.scalar("v");
    return ad::sum_terms(normal_lpdf<kPropto<P>>(v, 0.0, 3.0),
                         normal_lpdf<kPropto<P>>(p.vector("x"), 0.0, ad::exp(v / 2.0)),
                         propto_constant<P>(log_norm));
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
  // The four densities' data-only terms: each density at a point where its
  // kernel is 0 (mu = 0, tau = 0, theta_raw = 0, theta = y).
  double log_norm = 0.0;

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
    constexpr bool kDrop = kPropto<P>;
    // One node for the sum (ad::sum_terms), not four additions.
    return ad::sum_terms(normal_lpdf<kDrop>(mu, 0.0, 5.0), cauchy_lpdf<kDrop>(tau, 0.0, 5.0),
                         normal_lpdf<kDrop>(theta_raw, 0.0, 1.0),
                         normal_lpdf<kDrop>(data->y, theta, data->sigma),
                         propto_constant<P>(log_norm));
  }
};

using Gauss100Ad = AdPosterior<Gauss100Spec>;
using Funnel10Ad = AdPosterior<Funnel10Spec>;
using EightSchoolsNcAd = AdPosterior<EightSchoolsNcSpec>;

}  // namespace nutshell::posteriors
