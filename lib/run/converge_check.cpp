#include "nutshell/run/converge_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nutshell/run/converge_state.hpp"

namespace nutshell {

absl::Status validate(const ConvergenceOptions& o) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("ConvergenceOptions: ", what));
  };
  if (!(o.max_rhat > 1.0) || !std::isfinite(o.max_rhat))
    return bad(absl::StrCat("max_rhat must be a finite number > 1, got ", o.max_rhat));
  if (!(o.min_ess_bulk >= 0.0) || !std::isfinite(o.min_ess_bulk))
    return bad(absl::StrCat("min_ess_bulk must be finite and >= 0, got ", o.min_ess_bulk));
  if (!(o.min_ess_tail >= 0.0) || !std::isfinite(o.min_ess_tail))
    return bad(absl::StrCat("min_ess_tail must be finite and >= 0, got ", o.min_ess_tail));
  if (o.block_size < diagnostics::kMinDraws)
    return bad(absl::StrCat("block_size must be >= ", diagnostics::kMinDraws,
                            " (the diagnostics need that many draws), got ", o.block_size));
  if (!(o.block_growth >= 1.0) || !std::isfinite(o.block_growth))
    return bad(absl::StrCat("block_growth must be a finite number >= 1, got ", o.block_growth));
  if (o.max_draws < o.block_size)
    return bad(absl::StrCat("max_draws (", o.max_draws, ") must be >= block_size (", o.block_size,
                            ")"));
  return absl::OkStatus();
}

std::size_t next_block_size(std::size_t draws_so_far, const ConvergenceOptions& o) {
  if (draws_so_far >= o.max_draws) return 0;
  std::size_t block = o.block_size;
  if (draws_so_far > 0) {
    const double grown = std::ceil((o.block_growth - 1.0) * static_cast<double>(draws_so_far));
    if (grown > static_cast<double>(block))
      block = grown >= static_cast<double>(o.max_draws) ? o.max_draws
                                                          : static_cast<std::size_t>(grown);
  }
  return std::min(block, o.max_draws - draws_so_far);
}

absl::StatusOr<ConvergenceVerdict> check_convergence(const diagnostics::Draws& draws,
                                                     const ConvergenceOptions& options,
                                                     std::size_t num_threads) {
  if (auto s = validate(options); !s.ok()) return s;
  if (auto s = diagnostics::validate_draws(draws); !s.ok()) return s;
  // One implementation of the check: the checker of sample_until_converged, fed one block.
  std::vector<std::size_t> chains(draws.shape(0));
  for (std::size_t c = 0; c < chains.size(); ++c) chains[c] = c;
  ConvergenceChecker checker;
  if (auto s = checker.add(draws, chains); !s.ok()) return s;
  return checker.check(options, num_threads);
}

std::string format_verdict(const ConvergenceVerdict& v, const ConvergenceOptions& o,
                           const std::vector<std::string>& names) {
  std::string which;
  if (v.partial) {
    const std::size_t k = v.worst_rhat_index;
    std::vector<std::string> missed;
    if (!(v.max_rhat < o.max_rhat)) missed.push_back("R-hat");
    if (!(v.min_ess_bulk >= o.min_ess_bulk)) missed.push_back("ESS bulk");
    if (!(v.min_ess_tail >= o.min_ess_tail)) missed.push_back("ESS tail");
    which = absl::StrFormat(
        "%s misses %s (parameter %d checked) | ",
        k < names.size() ? names[k] : absl::StrCat("x[", k, "]"), absl::StrJoin(missed, ", "),
        v.parameters_checked);
  }
  return absl::StrFormat(
      "converge: %d draws/chain | %sR-hat %.3f (< %g) | ESS bulk %.0f (>= %g) | ESS tail %.0f "
      "(>= %g) | %s",
      v.num_draws, which, v.max_rhat, o.max_rhat, v.min_ess_bulk, o.min_ess_bulk, v.min_ess_tail,
      o.min_ess_tail, v.converged ? "converged" : "not yet");
}

}  // namespace nutshell
