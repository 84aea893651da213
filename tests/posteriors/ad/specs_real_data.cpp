#include "tests/posteriors/ad/specs_real_data.hpp"

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {

absl::StatusOr<std::shared_ptr<const RegressionData>> load_regression_data(std::string_view name,
                                                                           std::string_view dir) {
  auto file = detail::read_posterior_json(name, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  auto k = detail::get_int(*file, file->value, "K", 1);
  if (!n.ok()) return n.status();
  if (!k.ok()) return k.status();
  auto x = detail::get_matrix(*file, file->value, "X", *n, *k);
  auto y = detail::get_reals(*file, file->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  RegressionData d;
  d.n = static_cast<std::size_t>(*n);
  d.k = static_cast<std::size_t>(*k);
  d.X = *std::move(x);
  d.y = *std::move(y);
  return std::make_shared<const RegressionData>(std::move(d));
}

absl::StatusOr<ChickweightHierSpec> ChickweightHierSpec::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  auto j = detail::get_int(*file, file->value, "J", 1);
  if (!n.ok()) return n.status();
  if (!j.ok()) return j.status();
  auto chick = detail::get_ints(*file, file->value, "chick", *n);
  auto time = detail::get_reals(*file, file->value, "time", *n);
  auto y = detail::get_reals(*file, file->value, "y", *n);
  if (!chick.ok()) return chick.status();
  if (!time.ok()) return time.status();
  if (!y.ok()) return y.status();
  Data d;
  d.j = static_cast<std::size_t>(*j);
  for (long c : *chick) {
    if (c < 1 || c > *j) return detail::malformed(*file, "chick must be in 1..J");
    d.chick.push_back(static_cast<std::size_t>(c - 1));
  }
  d.time = *std::move(time);
  d.y = *std::move(y);
  return ChickweightHierSpec{std::make_shared<const Data>(std::move(d))};
}

absl::StatusOr<WarpbreaksPlnSpec> WarpbreaksPlnSpec::load(std::string_view dir) {
  auto design = load_regression_data(kName, dir);
  if (!design.ok()) return design.status();
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto counts = detail::get_ints(*file, file->value, "y", static_cast<long>((*design)->n));
  if (!counts.ok()) return counts.status();
  for (long c : *counts)
    if (c < 0) return detail::malformed(*file, "y must be counts >= 0");
  return WarpbreaksPlnSpec{std::make_shared<const Data>(Data{**design, *std::move(counts)})};
}

}  // namespace nutshell::posteriors
