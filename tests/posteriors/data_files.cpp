#include "tests/posteriors/data_files.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nutshell::posteriors {
namespace {

namespace fs = std::filesystem;

absl::string_view to_absl(std::string_view s) { return {s.data(), s.size()}; }

constexpr std::string_view kRepoData = "tests/posteriors/data";

bool has_data(const fs::path& folder) {
  std::error_code ec;
  return fs::is_regular_file(folder / "data.json", ec);
}

// An explicit location may name the posterior's own folder or the folder of
// all posteriors; accepting both saves callers from knowing which one they hold.
std::vector<fs::path> under(const fs::path& base, std::string_view posterior) {
  return {base, base / posterior};
}

}  // namespace

absl::StatusOr<std::string> posterior_dir(std::string_view posterior, std::string_view dir) {
  std::vector<fs::path> candidates;
  if (!dir.empty()) {
    candidates = under(fs::path(dir), posterior);
  } else if (const char* env = std::getenv(kPosteriorsDirEnv); env != nullptr && *env != '\0') {
    candidates = under(fs::path(env), posterior);
  } else {
    candidates.push_back(fs::path(kRepoData) / posterior);
    // Runfiles root env vars cover binaries started from elsewhere than their
    // runfiles directory; the external paths cover depending on @nutshell.
    for (const char* var : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
      if (const char* root = std::getenv(var); root != nullptr && *root != '\0')
        candidates.push_back(fs::path(root) / "nutshell" / kRepoData / posterior);
    }
    candidates.push_back(fs::path("external/nutshell") / kRepoData / posterior);
    candidates.push_back(fs::path("../nutshell") / kRepoData / posterior);
  }
  std::vector<std::string> tried;
  for (const fs::path& c : candidates) {
    if (has_data(c)) return c.string();
    tried.push_back(c.string());
  }
  return absl::NotFoundError(absl::StrCat("no data.json for posterior '", to_absl(posterior),
                                          "'; tried: ", absl::StrJoin(tried, ", ")));
}

absl::StatusOr<std::string> posterior_file(std::string_view posterior, std::string_view file,
                                           std::string_view dir) {
  auto folder = posterior_dir(posterior, dir);
  if (!folder.ok()) return folder.status();
  return absl::StrCat(*folder, "/", to_absl(file));
}

}  // namespace nutshell::posteriors
