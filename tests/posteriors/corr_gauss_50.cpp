#include "tests/posteriors/corr_gauss_50.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {

absl::StatusOr<CorrGauss50> CorrGauss50::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n_or = detail::get_int(*file, file->value, "N", 1);
  if (!n_or.ok()) return n_or.status();
  const auto n = static_cast<std::size_t>(*n_or);
  auto sigma_or = detail::get_matrix(*file, file->value, "Sigma", *n_or, *n_or);
  if (!sigma_or.ok()) return sigma_or.status();
  const Mat sigma = xt::adapt(*sigma_or, std::vector<std::size_t>{n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (sigma(i, j) != sigma(j, i)) return detail::malformed(*file, "Sigma is not symmetric");

  auto data = std::make_shared<Data>();
  data->n = n;
  data->l_rows.assign(n * n, 0.0);
  data->l_cols.assign(n * n, 0.0);
  try {
    const auto l = xt::linalg::cholesky(sigma);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        data->l_rows[i * n + j] = l(i, j);
        data->l_cols[j * n + i] = l(i, j);
      }
  } catch (const std::runtime_error&) {
    return detail::malformed(*file, "Sigma is not positive definite");
  }
  data->log_norm = -0.5 * static_cast<double>(n) * std::log(2.0 * std::numbers::pi);
  for (std::size_t i = 0; i < n; ++i) data->log_norm -= std::log(data->l_rows[i * n + i]);
  return CorrGauss50(std::move(data));
}

double CorrGauss50::operator()(const Vec& x, Vec& grad) const {
  const std::size_t n = data_->n;
  const double* lc = data_->l_cols.data();
  const double* lr = data_->l_rows.data();
  double* w = grad.data();
  std::copy(x.begin(), x.end(), w);
  // w = L^{-1} x, column by column: each update is a contiguous axpy.
  double ss = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    const double* col = lc + j * n;
    const double wj = w[j] / col[j];
    w[j] = wj;
    ss += wj * wj;
    for (std::size_t i = j + 1; i < n; ++i) w[i] -= col[i] * wj;
  }
  // w = L^{-T} w: column i of L^T is row i of L, again an axpy.
  for (std::size_t i = n; i-- > 0;) {
    const double* row = lr + i * n;
    const double vi = w[i] / row[i];
    w[i] = vi;
    for (std::size_t j = 0; j < i; ++j) w[j] -= row[j] * vi;
  }
  for (std::size_t i = 0; i < n; ++i) w[i] = -w[i];
  return data_->log_norm - 0.5 * ss;
}

}  // namespace nutshell::posteriors
