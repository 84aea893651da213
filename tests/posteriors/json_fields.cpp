#include "tests/posteriors/json_fields.hpp"

#include <cmath>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/posteriors/data_files.hpp"

namespace nutshell::posteriors::detail {
namespace {

using nlohmann::json;

absl::StatusOr<const json*> member(const JsonFile& f, const json& obj, std::string_view key) {
  if (!obj.is_object())
    return malformed(f, absl::StrCat("expected an object holding '", to_absl(key), "'"));
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return malformed(f, absl::StrCat("missing key '", to_absl(key), "'"));
  return &*it;
}

absl::StatusOr<double> as_real(const JsonFile& f, const json& v, std::string_view key) {
  if (!v.is_number()) return malformed(f, absl::StrCat("'", to_absl(key), "' holds a non-number"));
  const double d = v.get<double>();
  if (!std::isfinite(d))
    return malformed(f, absl::StrCat("'", to_absl(key), "' holds a non-finite number"));
  return d;
}

absl::Status check_array(const JsonFile& f, const json& v, std::string_view key, long size) {
  if (!v.is_array()) return malformed(f, absl::StrCat("'", to_absl(key), "' is not an array"));
  if (size >= 0 && v.size() != static_cast<std::size_t>(size))
    return malformed(
        f, absl::StrCat("'", to_absl(key), "' has ", v.size(), " entries, expected ", size));
  return absl::OkStatus();
}

}  // namespace

absl::Status malformed(const JsonFile& f, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(f.path, ": ", to_absl(what)));
}

absl::StatusOr<JsonFile> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  JsonFile f{json::parse(in, nullptr, /*allow_exceptions=*/false), path};
  if (f.value.is_discarded()) return malformed(f, "not valid JSON");
  if (!f.value.is_object()) return malformed(f, "top level is not a JSON object");
  return f;
}

absl::StatusOr<JsonFile> read_posterior_json(std::string_view posterior, std::string_view file,
                                             std::string_view dir) {
  auto path = posterior_file(posterior, file, dir);
  if (!path.ok()) return path.status();
  return read_json(*path);
}

absl::StatusOr<long> get_int(const JsonFile& f, const json& obj, std::string_view key, long min) {
  auto v = member(f, obj, key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_number_integer())
    return malformed(f, absl::StrCat("'", to_absl(key), "' is not an integer"));
  const long n = (*v)->get<long>();
  if (n < min) return malformed(f, absl::StrCat("'", to_absl(key), "' = ", n, " is below ", min));
  return n;
}

absl::StatusOr<double> get_real(const JsonFile& f, const json& obj, std::string_view key) {
  auto v = member(f, obj, key);
  if (!v.ok()) return v.status();
  return as_real(f, **v, key);
}

absl::StatusOr<std::vector<double>> get_reals(const JsonFile& f, const json& obj,
                                              std::string_view key, long size) {
  auto v = member(f, obj, key);
  if (!v.ok()) return v.status();
  if (auto s = check_array(f, **v, key, size); !s.ok()) return s;
  std::vector<double> out;
  out.reserve((*v)->size());
  for (const json& e : **v) {
    auto d = as_real(f, e, key);
    if (!d.ok()) return d.status();
    out.push_back(*d);
  }
  return out;
}

absl::StatusOr<std::vector<long>> get_ints(const JsonFile& f, const json& obj, std::string_view key,
                                           long size) {
  auto v = member(f, obj, key);
  if (!v.ok()) return v.status();
  if (auto s = check_array(f, **v, key, size); !s.ok()) return s;
  std::vector<long> out;
  out.reserve((*v)->size());
  for (const json& e : **v) {
    if (!e.is_number_integer())
      return malformed(f, absl::StrCat("'", to_absl(key), "' holds a non-integer"));
    out.push_back(e.get<long>());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> get_strings(const JsonFile& f, const json& obj,
                                                     std::string_view key) {
  auto v = member(f, obj, key);
  if (!v.ok()) return v.status();
  if (auto s = check_array(f, **v, key, -1); !s.ok()) return s;
  std::vector<std::string> out;
  for (const json& e : **v) {
    if (!e.is_string())
      return malformed(f, absl::StrCat("'", to_absl(key), "' holds a non-string"));
    out.push_back(e.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::vector<double>> get_matrix(const JsonFile& f, const json& obj,
                                               std::string_view key, long rows, long cols) {
  auto v = member(f, obj, key);
  if (!v.ok()) return v.status();
  if (auto s = check_array(f, **v, key, rows); !s.ok()) return s;
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(rows * cols));
  for (const json& row : **v) {
    if (auto s = check_array(f, row, key, cols); !s.ok()) return s;
    for (const json& e : row) {
      auto d = as_real(f, e, key);
      if (!d.ok()) return d.status();
      out.push_back(*d);
    }
  }
  return out;
}

}  // namespace nutshell::posteriors::detail
