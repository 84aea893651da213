#include "nutshell/run/converge_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nutshell/diagnostics/transforms.hpp"

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
std::size_t worst(const std::vector<double>& v, bool largest, double& value) {
  std::size_t at = 0;
  value = v[0];
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double x = v[i];
    if (std::isnan(x)) {
      value = x;
      return i;
    }
    if (largest ? x > value : x < value) value = x, at = i;
  }
  return at;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// posterior's rhat, ess_bulk and ess_tail of one quantity [chain, draw],
// composed from the public diagnostics exactly as diagnostics.cpp composes
// them (rhat = max of bulk and folded R-hat of split, rank-normalised
// chains; ess_bulk = ESS of the same split, rank-normalised chains; ess_tail
// = the smaller ESS of the 5% and 95% quantiles), so the values are the
// same to the bit, but the split, rank-normalised chains, the costliest
// part, are computed once for R-hat and bulk ESS instead of twice.
struct Three {
  double rhat = kNaN, bulk = kNaN, tail = kNaN;
};
Three three(const diagnostics::ChainDraws& x) {
  Three t;
  const diagnostics::ChainDraws z = diagnostics::z_scale(diagnostics::split_chains(x));
  const auto bulk_rhat = diagnostics::rhat_basic(z, /*split=*/false);
  const auto tail_rhat = diagnostics::rhat_basic(
      diagnostics::z_scale(diagnostics::split_chains(diagnostics::fold_draws(x))), false);
  if (bulk_rhat.ok() && tail_rhat.ok() && !std::isnan(*bulk_rhat) && !std::isnan(*tail_rhat))
    t.rhat = std::max(*bulk_rhat, *tail_rhat);
  if (auto b = diagnostics::ess_basic(z, /*split=*/false); b.ok()) t.bulk = *b;
  const auto q05 = diagnostics::ess_quantile(x, 0.05);
  const auto q95 = diagnostics::ess_quantile(x, 0.95);
  if (q05.ok() && q95.ok() && !std::isnan(*q05) && !std::isnan(*q95))
    t.tail = std::min(*q05, *q95);
  return t;
}
}  // namespace

absl::StatusOr<ConvergenceVerdict> check_convergence(const diagnostics::Draws& draws,
                                                     const ConvergenceOptions& options,
                                                     std::size_t num_threads) {
  if (auto s = validate(options); !s.ok()) return s;
  if (auto s = diagnostics::validate_draws(draws); !s.ok()) return s;
  const std::size_t m = draws.shape(0), n = draws.shape(1), d = draws.shape(2);
  std::vector<double> rhat(d), bulk(d), tail(d);
  // Dimensions are independent: each thread takes every t-th one, so the
  // values (and the verdict) do not depend on the thread count.
  const std::size_t t = std::max<std::size_t>(1, std::min(num_threads, d));
  auto work = [&](std::size_t first) {
    diagnostics::ChainDraws slice = diagnostics::ChainDraws::from_shape({m, n});
    for (std::size_t k = first; k < d; k += t) {
      for (std::size_t i = 0; i < m * n; ++i) slice.data()[i] = draws.data()[i * d + k];
      const Three v = three(slice);
      rhat[k] = v.rhat, bulk[k] = v.bulk, tail[k] = v.tail;
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < t; ++i) threads.emplace_back(work, i);
  work(0);
  for (auto& th : threads) th.join();
  ConvergenceVerdict v;
  v.num_chains = m;
  v.num_draws = n;
  v.worst_rhat_index = worst(rhat, true, v.max_rhat);
  v.worst_ess_bulk_index = worst(bulk, false, v.min_ess_bulk);
  v.worst_ess_tail_index = worst(tail, false, v.min_ess_tail);
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
