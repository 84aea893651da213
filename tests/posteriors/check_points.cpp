#include "tests/posteriors/check_points.hpp"

#include <algorithm>

#include "absl/status/status.h"
#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {
namespace {

Vec to_vec(const std::vector<double>& v) {
  Vec out = Vec::from_shape({v.size()});
  std::copy(v.begin(), v.end(), out.begin());
  return out;
}

}  // namespace

absl::StatusOr<CheckPoints> load_check_points(std::string_view posterior, std::string_view dir) {
  auto file = detail::read_posterior_json(posterior, "check_points.json", dir);
  if (!file.ok()) return file.status();
  const nlohmann::json& top = file->value;
  CheckPoints out;
  auto coords = detail::get_strings(*file, top, "coordinates");
  auto err_lp = detail::get_real(*file, top, "max_abs_err_lp_R");
  auto err_grad = detail::get_real(*file, top, "max_abs_err_grad_R");
  if (!coords.ok()) return coords.status();
  if (!err_lp.ok()) return err_lp.status();
  if (!err_grad.ok()) return err_grad.status();
  out.coordinates = std::move(*coords);
  out.max_abs_err_lp_R = *err_lp;
  out.max_abs_err_grad_R = *err_grad;

  auto points = top.find("points");
  if (points == top.end() || !points->is_array())
    return detail::malformed(*file, "'points' is missing or not an array");
  const long d = static_cast<long>(out.coordinates.size());
  for (const nlohmann::json& p : *points) {
    auto u = detail::get_reals(*file, p, "u", d);
    auto grad = detail::get_reals(*file, p, "grad", d);
    auto lp = detail::get_real(*file, p, "lp");
    auto lp0 = detail::get_real(*file, p, "lp_without_jacobian");
    if (!u.ok()) return u.status();
    if (!grad.ok()) return grad.status();
    if (!lp.ok()) return lp.status();
    if (!lp0.ok()) return lp0.status();
    std::string label = p.contains("label") && p["label"].is_string()
                            ? p["label"].get<std::string>()
                            : std::string();
    out.points.push_back({std::move(label), to_vec(*u), *lp, to_vec(*grad), *lp0});
  }
  return out;
}

}  // namespace nutshell::posteriors
