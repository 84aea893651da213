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
  return Gauss100Spec{std::make_shared<const std::vector<double>>(*std::move(sigma))};
}

absl::StatusOr<Funnel10Spec> Funnel10Spec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  return Funnel10Spec{static_cast<std::size_t>(*n)};
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
  return EightSchoolsNcSpec{std::make_shared<const Data>(Data{*std::move(y), *std::move(sigma)})};
}

}  // namespace nutshell::posteriors
