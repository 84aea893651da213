#include "tests/posteriors/eight_schools_nc.hpp"

#include <cmath>
#include <numbers>

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {

absl::StatusOr<EightSchoolsNc> EightSchoolsNc::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto j = detail::get_int(*file, file->value, "J", 1);
  if (!j.ok()) return j.status();
  auto y = detail::get_reals(*file, file->value, "y", *j);
  auto sigma = detail::get_reals(*file, file->value, "sigma", *j);
  if (!y.ok()) return y.status();
  if (!sigma.ok()) return sigma.status();

  const double log_2pi = std::log(2.0 * std::numbers::pi);
  auto data = std::make_shared<Data>();
  data->y = std::move(*y);
  // mu prior, tau prior, theta_raw prior, likelihood (without log sigma[j]).
  data->log_norm = (-0.5 * log_2pi - std::log(5.0)) +
                   (-std::log(std::numbers::pi) - std::log(5.0)) +
                   static_cast<double>(*j) * -log_2pi;
  for (double s : *sigma) {
    if (!(s > 0.0)) return detail::malformed(*file, "sigma must be positive");
    data->inv_var.push_back(1.0 / (s * s));
    data->log_norm -= std::log(s);
  }
  return EightSchoolsNc(std::move(data));
}

std::vector<std::string> EightSchoolsNc::names() const {
  std::vector<std::string> out{"mu", "log_tau"};
  for (auto& s : indexed_names("theta_raw", data_->y.size())) out.push_back(std::move(s));
  return out;
}

double EightSchoolsNc::operator()(const Vec& u, Vec& grad) const {
  const std::size_t J = data_->y.size();
  const double mu = u(0), log_tau = u(1), tau = std::exp(log_tau);
  const double* raw = u.data() + 2;
  const double* y = data_->y.data();
  const double* iv = data_->inv_var.data();
  double* g_raw = grad.data() + 2;
  double ss_raw = 0.0, ss_lik = 0.0, sum_r = 0.0, sum_r_raw = 0.0;
  for (std::size_t j = 0; j < J; ++j) {
    const double resid = y[j] - (mu + tau * raw[j]);
    const double r = resid * iv[j];  // d loglik / d theta[j]
    ss_raw += raw[j] * raw[j];
    ss_lik += resid * r;
    sum_r += r;
    sum_r_raw += r * raw[j];
    g_raw[j] = -raw[j] + tau * r;
  }
  const double t5 = tau / 5.0;
  grad(0) = -mu / 25.0 + sum_r;
  grad(1) = -2.0 * tau * tau / (25.0 + tau * tau) + tau * sum_r_raw + 1.0;
  return data_->log_norm - 0.5 * (mu / 5.0) * (mu / 5.0) - std::log1p(t5 * t5) + log_tau -
         0.5 * ss_raw - 0.5 * ss_lik;
}

}  // namespace nutshell::posteriors
