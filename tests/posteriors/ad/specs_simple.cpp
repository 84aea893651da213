#include "tests/posteriors/ad/specs_simple.hpp"

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {

absl::StatusOr<Gauss100Spec> Gauss100Spec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  auto sigma = detail::get_reals(*file, file->value, "sigma", *n);
  if (!sigma.ok()) return sigma.status();
  Gauss100Spec spec{std::make_shared<const std::vector<double>>(*std::move(sigma))};
  spec.log_norm = distributions::normal_lpdf(std::vector<double>(spec.sigma->size(), 0.0), 0.0,
                                             *spec.sigma);
  return spec;
}

absl::StatusOr<Funnel10Spec> Funnel10Spec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  Funnel10Spec spec{static_cast<std::size_t>(*n)};
  spec.log_norm = distributions::normal_lpdf(0.0, 0.0, 3.0) +
                  distributions::normal_lpdf(std::vector<double>(spec.n, 0.0), 0.0, 1.0);
  return spec;
}

absl::StatusOr<EightSchoolsNcSpec> EightSchoolsNcSpec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto j = detail::get_int(*file, file->value, "J", 1);
  if (!j.ok()) return j.status();
  auto y = detail::get_reals(*file, file->value, "y", *j);
  auto sigma = detail::get_reals(*file, file->value, "sigma", *j);
  if (!y.ok()) return y.status();
  if (!sigma.ok()) return sigma.status();
  EightSchoolsNcSpec spec{std::make_shared<const Data>(Data{*std::move(y), *std::move(sigma)})};
  const Data& d = *spec.data;
  using namespace distributions;
  spec.log_norm = normal_lpdf(0.0, 0.0, 5.0) + cauchy_lpdf(0.0, 0.0, 5.0) +
                  normal_lpdf(std::vector<double>(d.y.size(), 0.0), 0.0, 1.0) +
                  normal_lpdf(d.y, d.y, d.sigma);
  return spec;
}

}  // namespace nutshell::posteriors
