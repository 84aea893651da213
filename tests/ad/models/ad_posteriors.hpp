// The six shared benchmark posteriors as generic models
// `template <class T> T operator()(std::span<const T> u) const`, written with
// nutshell::ad's operations only, for checking the AD gradients against the
// hand-written ones (tests/posteriors) and benchmarking them. Same coordinates
// and the same lp (Stan's lp__) as the hand-written classes. Each model holds
// its data by shared_ptr: copies are cheap, evaluation is const and
// thread-safe.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <numbers>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/ad/ad.hpp"

namespace nutshell::posteriors::ad_models {

namespace ad = nutshell::ad;

/// x[i] ~ N(0, sigma[i]).
struct Gauss100 {
  struct Data {
    std::vector<double> inv_sigma;
    double log_norm = 0.0;
  };
  std::shared_ptr<const Data> d;
  static absl::StatusOr<Gauss100> load(std::string_view dir = {});
  template <class T>
  T operator()(std::span<const T> x) const {
    return d->log_norm - 0.5 * ad::squared_norm(ad::elt_multiply(x, std::span<const double>(d->inv_sigma)));
  }
};

/// x ~ N(0, Sigma), Sigma = L L^T: lp = c - |L^{-1} x|^2 / 2.
struct CorrGauss50 {
  struct Data {
    std::size_t n = 0;
    std::vector<double> l;  // row-major lower Cholesky factor of Sigma
    double log_norm = 0.0;
  };
  std::shared_ptr<const Data> d;
  static absl::StatusOr<CorrGauss50> load(std::string_view dir = {});
  template <class T>
  T operator()(std::span<const T> x) const {
    const ad::MatrixView<const double> l{d->l.data(), d->n, d->n};
    return d->log_norm - 0.5 * ad::squared_norm(ad::tri_solve(l, x));
  }
};

/// Eight schools, non-centered: (mu, log_tau, theta_raw[1..J]).
struct EightSchoolsNc {
  struct Data {
    std::vector<double> y, inv_sigma;
    double log_norm = 0.0;
  };
  std::shared_ptr<const Data> d;
  static absl::StatusOr<EightSchoolsNc> load(std::string_view dir = {});
  template <class T>
  T operator()(std::span<const T> u) const {
    const std::size_t J = d->y.size();
    const T& mu = u[0];
    const T& log_tau = u[1];
    const T tau = ad::exp(log_tau);
    const std::span<const T> raw = u.subspan(2, J);
    std::span<T> z = ad::arena_vector<T>(J);  // standardised residuals
    for (std::size_t j = 0; j < J; ++j) z[j] = (d->y[j] - (mu + tau * raw[j])) * d->inv_sigma[j];
    return d->log_norm - 0.5 * ad::square(mu / 5.0) - ad::log1p(ad::square(tau / 5.0)) + log_tau -
           0.5 * ad::squared_norm(raw) - 0.5 * ad::squared_norm(std::span<const T>(z));
  }
};

/// Neal's funnel: (v, x[1..N]).
struct Funnel10 {
  std::size_t n = 9;
  static absl::StatusOr<Funnel10> load(std::string_view dir = {});
  template <class T>
  T operator()(std::span<const T> u) const {
    const double nd = static_cast<double>(n);
    const double c = -0.5 * std::log(2.0 * std::numbers::pi) * (1.0 + nd) - std::log(3.0);
    const T& v = u[0];
    return c - ad::square(v) / 18.0 - 0.5 * nd * v - 0.5 * ad::exp(-v) * ad::squared_norm(u.subspan(1));
  }
};

/// Logistic regression: (alpha, beta[1..K]); eta = [1 X] u is one matvec node.
struct Logistic1000x25 {
  struct Data {
    std::size_t n = 0, k = 0;
    std::vector<double> x1;  // N x (K + 1) row-major, first column ones
    std::vector<double> y;
  };
  std::shared_ptr<const Data> d;
  static absl::StatusOr<Logistic1000x25> load(std::string_view dir = {});
  template <class T>
  T operator()(std::span<const T> u) const {
    const double log_2pi = std::log(2.0 * std::numbers::pi);
    const double kd = static_cast<double>(d->k);
    const auto eta = ad::matvec(ad::MatrixView<const double>{d->x1.data(), d->n, d->k + 1}, u);
    const T prior = (-0.5 * log_2pi - std::log(5.0) - ad::square(u[0]) / 50.0) +
                    (-0.5 * kd * log_2pi - 0.5 * ad::squared_norm(u.subspan(1)));
    return prior + ad::dot(eta, std::span<const double>(d->y)) - ad::sum_log1p_exp(eta);
  }
};

/// Latent GP with Student-t noise: (log_ell, log_eta, log_sigma, log_nu_raw, z[1..N]).
struct GpStudentT100 {
  struct Data {
    std::vector<double> x, y;
  };
  std::shared_ptr<const Data> d;
  static absl::StatusOr<GpStudentT100> load(std::string_view dir = {});
  template <class T>
  T operator()(std::span<const T> u) const {
    const std::size_t n = d->x.size();
    const double nd = static_cast<double>(n);
    const double log_2pi = std::log(2.0 * std::numbers::pi);
    const T ell = ad::exp(u[0]), eta = ad::exp(u[1]), sigma = ad::exp(u[2]), nu_raw = ad::exp(u[3]);
    const T nu = 1.0 + nu_raw;
    const std::span<const T> z = u.subspan(4, n);
    const auto k = ad::add_diag(ad::gp_exp_quad_cov(std::span<const double>(d->x), eta, ell), 1e-6);
    const auto f = ad::tri_matvec(ad::cholesky(k), z);
    const T nu_s2 = nu * ad::square(sigma);
    T sum_log1p = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum_log1p += ad::log1p(ad::square(d->y[i] - f[i]) / nu_s2);
    const T loglik = nd * (ad::lgamma(0.5 * (nu + 1.0)) - ad::lgamma(0.5 * nu) -
                           0.5 * ad::log(nu * std::numbers::pi) - u[2]) -
                     0.5 * (nu + 1.0) * sum_log1p;
    const T priors = (u[0] - ell) + (-0.5 * log_2pi - std::log(5.0) - ad::square(eta) / 50.0) +
                     (-0.5 * log_2pi - std::log(2.0) - ad::square(sigma) / 8.0) +
                     (2.0 * std::log(0.1) + u[3] - 0.1 * nu_raw) +
                     (-0.5 * nd * log_2pi - 0.5 * ad::squared_norm(z));
    return priors + loglik + (u[0] + u[1] + u[2] + u[3]);
  }
};

}  // namespace nutshell::posteriors::ad_models
