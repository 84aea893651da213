#include "tests/posteriors/gauss_100.hpp"

#include <cmath>
#include <numbers>

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {

absl::StatusOr<Gauss100> Gauss100::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto sigma = detail::get_reals(*file, file->value, "sigma", *n);
  if (!sigma.ok()) return sigma.status();
  auto data = std::make_shared<Data>();
  data->log_norm = -0.5 * static_cast<double>(*n) * std::log(2.0 * std::numbers::pi);
  for (double s : *sigma) {
    if (!(s > 0.0)) return detail::malformed(*file, "sigma must be positive");
    data->inv_var.push_back(1.0 / (s * s));
    data->log_norm -= std::log(s);
  }
  return Gauss100(std::move(data));
}

double Gauss100::operator()(const Vec& x, Vec& grad) const {
  const std::size_t n = dim();
  const double* xp = x.data();
  const double* iv = data_->inv_var.data();
  double* g = grad.data();
  double quad = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    g[i] = -xp[i] * iv[i];
    quad += xp[i] * g[i];
  }
  return data_->log_norm + 0.5 * quad;
}

}  // namespace nutshell::posteriors
