#include "nutshell/run/converge_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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

namespace {
// Index of the worst entry (largest when `largest`), NaN counting as worst.
std::size_t worst(const diagnostics::PerDimension& v, bool largest, double& value) {
  std::size_t at = 0;
  value = v(0);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double x = v(i);
    if (std::isnan(x)) {
      value = x;
      return i;
    }
    if (largest ? x > value : x < value) value = x, at = i;
  }
  return at;
}
}  // namespace

absl::StatusOr<ConvergenceVerdict> check_convergence(const diagnostics::Draws& draws,
                                                     const ConvergenceOptions& options) {
  if (auto s = validate(options); !s.ok()) return s;
  auto rhat = diagnostics::rhat(draws);
  if (!rhat.ok()) return rhat.status();
  auto bulk = diagnostics::ess_bulk(draws);
  if (!bulk.ok()) return bulk.status();
  auto tail = diagnostics::ess_tail(draws);
  if (!tail.ok()) return tail.status();
  ConvergenceVerdict v;
  v.num_chains = draws.shape(0);
  v.num_draws = draws.shape(1);
  v.worst_rhat_index = worst(*rhat, true, v.max_rhat);
  v.worst_ess_bulk_index = worst(*bulk, false, v.min_ess_bulk);
  v.worst_ess_tail_index = worst(*tail, false, v.min_ess_tail);
  v.converged = v.max_rhat < options.max_rhat && v.min_ess_bulk >= options.min_ess_bulk &&
                v.min_ess_tail >= options.min_ess_tail;
  return v;
}

std::string format_verdict(const ConvergenceVerdict& v, const ConvergenceOptions& o) {
  return absl::StrFormat(
      "converge: %d draws/chain | R-hat %.3f (< %g) | ESS bulk %.0f (>= %g) | ESS tail %.0f "
      "(>= %g) | %s",
      v.num_draws, v.max_rhat, o.max_rhat, v.min_ess_bulk, o.min_ess_bulk, v.min_ess_tail,
      o.min_ess_tail, v.converged ? "converged" : "not yet");
}

}  // namespace nutshell
