#include "tests/posteriors/ad/specs_linear.hpp"

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {

absl::StatusOr<CorrGauss50Spec> CorrGauss50Spec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto sigma = detail::get_matrix(*file, file->value, "Sigma", *n, *n);
  if (!sigma.ok()) return sigma.status();
  const std::size_t N = static_cast<std::size_t>(*n);
  // The factor is data: computed once with doubles (the tape is not touched).
  std::vector<double> L(N * N, 0.0);
  {
    ad::TapeScope scope;
    const auto l = ad::cholesky(ad::MatrixView<const double>{sigma->data(), N, N});
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = 0; j <= i; ++j) L[i * N + j] = l(i, j);
  }
  for (std::size_t i = 0; i < N; ++i)
    if (!(L[i * N + i] > 0.0)) return detail::malformed(*file, "Sigma is not positive definite");
  return CorrGauss50Spec{N, std::make_shared<const std::vector<double>>(std::move(L)),
                         std::make_shared<const std::vector<double>>(N, 0.0)};
}

absl::StatusOr<Logistic1000x25Spec> Logistic1000x25Spec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  auto k = detail::get_int(*file, file->value, "K", 1);
  if (!n.ok()) return n.status();
  if (!k.ok()) return k.status();
  auto x = detail::get_matrix(*file, file->value, "X", *n, *k);
  auto y = detail::get_ints(*file, file->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  Data d;
  d.n = static_cast<std::size_t>(*n);
  d.k = static_cast<std::size_t>(*k);
  d.X = *std::move(x);
  for (long v : *y) {
    if (v != 0 && v != 1) return detail::malformed(*file, "y must be 0 or 1");
    d.y.push_back(static_cast<double>(v));
  }
  return Logistic1000x25Spec{std::make_shared<const Data>(std::move(d))};
}

}  // namespace nutshell::posteriors

#include "tests/posteriors/ad/spec_gp.hpp"

namespace nutshell::posteriors {

absl::StatusOr<GpStudentT100Spec> GpStudentT100Spec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto x = detail::get_reals(*file, file->value, "x", *n);
  auto y = detail::get_reals(*file, file->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  return GpStudentT100Spec{std::make_shared<const Data>(Data{*std::move(x), *std::move(y)})};
}

}  // namespace nutshell::posteriors
