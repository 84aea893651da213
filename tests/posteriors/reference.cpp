#include "tests/posteriors/reference.hpp"

#include <limits>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {
namespace {

using detail::JsonFile;
using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double field(const json& row, const char* key) {
  auto it = row.find(key);
  return (it != row.end() && it->is_number()) ? it->get<double>() : kNaN;
}

absl::StatusOr<std::vector<Summary>> section(const JsonFile& f, std::string_view key) {
  std::vector<Summary> out;
  auto it = f.value.find(std::string(key));
  if (it == f.value.end()) return out;
  if (!it->is_array())
    return detail::malformed(f, absl::StrCat("'", detail::to_absl(key), "' is not an array"));
  for (const json& row : *it) {
    if (!row.is_object() || !row.contains("name") || !row["name"].is_string())
      return detail::malformed(
          f, absl::StrCat("'", detail::to_absl(key), "' holds a row without a name"));
    Summary s{row["name"].get<std::string>(),
              row.contains("block") && row["block"].is_string() ? row["block"].get<std::string>()
                                                                : std::string(),
              field(row, "mean"),
              field(row, "sd"),
              field(row, "mcse_mean"),
              field(row, "mcse_sd"),
              field(row, "q05"),
              field(row, "q50"),
              field(row, "q95"),
              field(row, "ess_bulk"),
              field(row, "ess_tail"),
              field(row, "rhat")};
    out.push_back(std::move(s));
  }
  return out;
}

std::string text(const json& obj, const char* key) {
  auto it = obj.find(key);
  return (it != obj.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<Summary> Reference::variable(std::string_view name) const {
  for (const Summary& s : stan_variables)
    if (s.name == name) return s;
  return std::nullopt;
}

absl::StatusOr<Reference> load_reference(std::string_view posterior,
                                         const std::vector<std::string>& names,
                                         std::string_view dir) {
  auto file = detail::read_posterior_json(posterior, "reference.json", dir);
  if (!file.ok()) return file.status();
  auto variables = section(*file, "variables");
  auto unconstrained = section(*file, "unconstrained");
  auto exact = section(*file, "exact");
  for (const auto* s : {&variables, &unconstrained, &exact})
    if (!s->ok()) return s->status();

  // Coordinates on the log scale appear only under 'unconstrained'; the rest
  // under 'variables'. Looking in that order also keeps a constrained row from
  // ever standing in for its log.
  std::map<std::string, const Summary*, std::less<>> stan, analytic;
  for (const Summary& s : *variables) stan.emplace(s.name, &s);
  for (const Summary& s : *unconstrained) stan.insert_or_assign(s.name, &s);
  for (const Summary& s : *exact) analytic.emplace(s.name, &s);

  const std::size_t d = names.size();
  Reference ref;
  ref.names = names;
  ref.mean = Vec::from_shape({d});
  ref.sd = Vec::from_shape({d});
  ref.mcse_mean = Vec::from_shape({d});
  ref.mcse_sd = Vec::from_shape({d});
  if (!exact->empty()) {
    ref.exact_mean = Vec::from_shape({d});
    ref.exact_sd = Vec::from_shape({d});
  }
  for (std::size_t i = 0; i < d; ++i) {
    auto it = stan.find(names[i]);
    if (it == stan.end())
      return detail::malformed(*file, absl::StrCat("no summary for coordinate '", names[i], "'"));
    ref.mean(i) = it->second->mean;
    ref.sd(i) = it->second->sd;
    ref.mcse_mean(i) = it->second->mcse_mean;
    ref.mcse_sd(i) = it->second->mcse_sd;
    if (exact->empty()) continue;
    auto ex = analytic.find(names[i]);
    if (ex == analytic.end())
      return detail::malformed(*file, absl::StrCat("no exact value for '", names[i], "'"));
    ref.exact_mean(i) = ex->second->mean;
    ref.exact_sd(i) = ex->second->sd;
  }
  ref.stan_variables = std::move(*variables);
  ref.source = text(file->value, "source");
  ref.note = text(file->value, "note");
  return ref;
}

}  // namespace nutshell::posteriors
