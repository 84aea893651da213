// gp_student_t_100 written once (its Stan program in
// ../../shared/posteriors/gp_student_t_100/model.stan).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/distributions/continuous_positive.hpp"
#include "nutshell/model/param.hpp"
#include "tests/posteriors/ad/ad_posterior.hpp"

namespace nutshell::posteriors {

/// f = cholesky(gp_exp_quad_cov(x, eta, ell) + 1e-6 I) z, y ~ student_t(1 + nu_raw, f, sigma);
/// priors gamma(2, 1), normal(0, 5), normal(0, 2), gamma(2, 0.1), z ~ normal(0, 1).
struct GpStudentT100Spec {
  static constexpr std::string_view kName = "gp_student_t_100";
  static constexpr bool kDenseMetricAdvised = false;
  struct Data {
    std::vector<double> x, y;
  };
  std::shared_ptr<const Data> data;

  static absl::StatusOr<GpStudentT100Spec> load(std::string_view dir);
  std::vector<model::Param> parameters() const {
    return {model::positive("ell"), model::positive("eta"), model::positive("sigma"),
            model::positive("nu_raw"), model::vector("z", data->x.size())};
  }
  template <class P>
  auto operator()(const P& p) const {
    const auto &ell = p.scalar("ell"), &eta = p.scalar("eta");
    const auto &sigma = p.scalar("sigma"), &nu_raw = p.scalar("nu_raw");
    const auto z = p.vector("z");
    const auto K = ad::add_diag(ad::gp_exp_quad_cov(std::span<const double>(data->x), eta, ell), 1e-6);
    const auto f = ad::tri_matvec(ad::cholesky(K), z);
    using namespace distributions;
    return gamma_lpdf(ell, 2.0, 1.0) + normal_lpdf(eta, 0.0, 5.0) + normal_lpdf(sigma, 0.0, 2.0) +
           gamma_lpdf(nu_raw, 2.0, 0.1) + normal_lpdf(z, 0.0, 1.0) +
           student_t_lpdf(data->y, 1.0 + nu_raw, f, sigma);
  }
};

using GpStudentT100Ad = AdPosterior<GpStudentT100Spec>;

}  // namespace nutshell::posteriors
