// Where the benchmark posteriors' JSON files live at run time.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nutshell::posteriors {

/// Environment variable naming a directory with one folder per posterior.
inline constexpr const char* kPosteriorsDirEnv = "NUTSHELL_POSTERIORS_DIR";

/// The folder holding `posterior`'s data.json (e.g. posterior = "gauss_100").
///
/// `dir`, when not empty, is either that folder itself or a directory with one
/// folder per posterior; nothing else is tried then, so a wrong explicit path
/// is an error rather than a silent fallback. Otherwise `$NUTSHELL_POSTERIORS_DIR`
/// is used the same way, and failing that the repository copy
/// `tests/posteriors/data/<posterior>`, looked up relative to the working
/// directory (the runfiles root under `bazel test` / `bazel run`), the
/// runfiles tree, and as an external repository `@nutshell`.
/// NotFound lists every place tried.
absl::StatusOr<std::string> posterior_dir(std::string_view posterior, std::string_view dir = {});

/// `posterior_dir(posterior, dir) + "/" + file`.
absl::StatusOr<std::string> posterior_file(std::string_view posterior, std::string_view file,
                                           std::string_view dir = {});

}  // namespace nutshell::posteriors
