#include "tests/ad/models/ad_posteriors.hpp"

#include <cmath>
#include <numbers>

#include "nutshell/ad/linalg_kernels.hpp"
#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors::ad_models {

absl::StatusOr<Gauss100> Gauss100::load(std::string_view dir) {
  auto file = detail::read_posterior_json("gauss_100", "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto sigma = detail::get_reals(*file, file->value, "sigma", *n);
  if (!sigma.ok()) return sigma.status();
  auto data = std::make_shared<Data>();
  data->log_norm = -0.5 * static_cast<double>(*n) * std::log(2.0 * std::numbers::pi);
  for (double s : *sigma) {
    if (!(s > 0.0)) return detail::malformed(*file, "sigma must be positive");
    data->inv_sigma.push_back(1.0 / s);
    data->log_norm -= std::log(s);
  }
  return Gauss100{std::move(data)};
}

absl::StatusOr<CorrGauss50> CorrGauss50::load(std::string_view dir) {
  auto file = detail::read_posterior_json("corr_gauss_50", "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto sigma = detail::get_matrix(*file, file->value, "Sigma", *n, *n);
  if (!sigma.ok()) return sigma.status();
  auto data = std::make_shared<Data>();
  data->n = static_cast<std::size_t>(*n);
  data->l = std::move(*sigma);
  if (!ad::kernels::cholesky_lower(data->l.data(), data->n))
    return detail::malformed(*file, "Sigma is not positive definite");
  data->log_norm = -0.5 * static_cast<double>(data->n) * std::log(2.0 * std::numbers::pi);
  for (std::size_t i = 0; i < data->n; ++i) data->log_norm -= std::log(data->l[i * data->n + i]);
  return CorrGauss50{std::move(data)};
}

absl::StatusOr<EightSchoolsNc> EightSchoolsNc::load(std::string_view dir) {
  auto file = detail::read_posterior_json("eight_schools_nc", "data.json", dir);
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
  data->log_norm = (-0.5 * log_2pi - std::log(5.0)) + (-std::log(std::numbers::pi) - std::log(5.0)) +
                   static_cast<double>(*j) * -log_2pi;
  for (double s : *sigma) {
    if (!(s > 0.0)) return detail::malformed(*file, "sigma must be positive");
    data->inv_sigma.push_back(1.0 / s);
    data->log_norm -= std::log(s);
  }
  return EightSchoolsNc{std::move(data)};
}

absl::StatusOr<Funnel10> Funnel10::load(std::string_view dir) {
  auto file = detail::read_posterior_json("funnel_10", "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  return Funnel10{static_cast<std::size_t>(*n)};
}

absl::StatusOr<Logistic1000x25> Logistic1000x25::load(std::string_view dir) {
  auto file = detail::read_posterior_json("logistic_1000x25", "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  auto k = detail::get_int(*file, file->value, "K", 1);
  if (!n.ok()) return n.status();
  if (!k.ok()) return k.status();
  auto x = detail::get_matrix(*file, file->value, "X", *n, *k);
  auto y = detail::get_ints(*file, file->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  auto data = std::make_shared<Data>();
  data->n = static_cast<std::size_t>(*n);
  data->k = static_cast<std::size_t>(*k);
  data->x1.reserve(data->n * (data->k + 1));
  for (std::size_t i = 0; i < data->n; ++i) {
    data->x1.push_back(1.0);
    for (std::size_t c = 0; c < data->k; ++c) data->x1.push_back((*x)[i * data->k + c]);
  }
  for (long yi : *y) {
    if (yi != 0 && yi != 1) return detail::malformed(*file, "y must be 0 or 1");
    data->y.push_back(static_cast<double>(yi));
  }
  return Logistic1000x25{std::move(data)};
}

absl::StatusOr<GpStudentT100> GpStudentT100::load(std::string_view dir) {
  auto file = detail::read_posterior_json("gp_student_t_100", "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto x = detail::get_reals(*file, file->value, "x", *n);
  auto y = detail::get_reals(*file, file->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  auto data = std::make_shared<Data>();
  data->x = std::move(*x);
  data->y = std::move(*y);
  return GpStudentT100{std::move(data)};
}

}  // namespace nutshell::posteriors::ad_models
