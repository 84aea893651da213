// Checked access to the posteriors' JSON files (internal to the loaders).
// Every accessor names the file and key in its error, because a malformed
// data file should say where it is malformed rather than throw from deep
// inside nlohmann::json.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nutshell::posteriors::detail {

/// A parsed JSON file and the path it came from (for error messages).
struct JsonFile {
  nlohmann::json value;
  std::string path;
};

/// Reads and parses `path`: NotFound if it cannot be opened, InvalidArgument
/// if it is not JSON or its top level is not an object.
absl::StatusOr<JsonFile> read_json(const std::string& path);

/// Reads `file` of `posterior` located by `posterior_file`.
absl::StatusOr<JsonFile> read_posterior_json(std::string_view posterior, std::string_view file,
                                             std::string_view dir);

/// `obj[key]` as an integer >= `min`.
absl::StatusOr<long> get_int(const JsonFile& f, const nlohmann::json& obj, std::string_view key,
                             long min);

/// `obj[key]` as a finite real.
absl::StatusOr<double> get_real(const JsonFile& f, const nlohmann::json& obj, std::string_view key);

/// `obj[key]` as an array of finite reals; `size` is enforced unless it is -1.
absl::StatusOr<std::vector<double>> get_reals(const JsonFile& f, const nlohmann::json& obj,
                                              std::string_view key, long size = -1);

/// `obj[key]` as an array of integers of length `size` (-1: any).
absl::StatusOr<std::vector<long>> get_ints(const JsonFile& f, const nlohmann::json& obj,
                                           std::string_view key, long size = -1);

/// `obj[key]` as an array of strings.
absl::StatusOr<std::vector<std::string>> get_strings(const JsonFile& f, const nlohmann::json& obj,
                                                     std::string_view key);

/// `obj[key]` as `rows` arrays of `cols` finite reals, flattened row-major.
absl::StatusOr<std::vector<double>> get_matrix(const JsonFile& f, const nlohmann::json& obj,
                                               std::string_view key, long rows, long cols);

/// Debian's Abseil keeps its own string_view type, so std::string_view needs
/// an explicit conversion before it can go into absl::StrCat.
inline absl::string_view to_absl(std::string_view s) { return {s.data(), s.size()}; }

/// InvalidArgument naming the file.
absl::Status malformed(const JsonFile& f, std::string_view what);

}  // namespace nutshell::posteriors::detail
