#include "nutshell/diagnostics/summary.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nutshell/diagnostics/moments.hpp"
#include "nutshell/diagnostics/quantile.hpp"
#include "nutshell/diagnostics/sorted_draws.hpp"

namespace nutshell::diagnostics {
namespace {

// One row per parameter k of the row-major [m, n, d] draws `x` (validated
// by the caller). The draws are sorted once (sorted_draws.hpp): median and
// quantiles are read off them, and R-hat, bulk and tail ESS computed from
// them, bitwise rhat(), ess_bulk() and ess_tail() of the parameter (one
// sort instead of three, and no selections), except that a quantile that
// falls on a -0.0 reads +0.0 (they tie).
class Summarizer {
 public:
  Summarizer(const double* x, std::size_t m, std::size_t n, std::size_t d)
      : x_(x), m_(m), n_(n), d_(d), slice_(m * n) {}

  // Row k; its sorted columns from `ranked` when given, else sorted here.
  SummaryRow row(std::size_t k, std::string name, const RankedColumns* ranked = nullptr) {
    SummaryRow row;
    row.name = std::move(name);
    for (std::size_t i = 0; i < m_ * n_; ++i) slice_[i] = x_[i * d_ + k];
    row.mean = mean(slice_);
    row.sd = sd(slice_);
    if (ranked) {
      row.median = ranked->median, row.q5 = ranked->q5, row.q95 = ranked->q95;
      row.ess_bulk = ranked->ess_bulk, row.ess_tail = ranked->ess_tail, row.rhat = ranked->rhat;
      return row;
    }
    if (scores_.empty()) {  // first sorted row: the scores table, once
      scores_.resize(2 * m_ * (n_ / 2));
      rank_normal_scores(scores_.size(), scores_);
    }
    const BlockView all{x_, m_, n_, d_, 0};
    sort_draws({&all, 1}, k, sorted_, scratch_);
    const std::span<const double> v(sorted_.values);
    row.median = median_sorted(v);
    row.q5 = quantile_sorted(v, 0.05);
    row.q95 = quantile_sorted(v, 0.95);
    const RankDiagnostics r = rank_diagnostics_sorted(sorted_, m_, n_, scores_, scratch_);
    row.ess_bulk = r.ess_bulk;
    row.ess_tail = r.ess_tail;
    row.rhat = r.rhat;
    return row;
  }

 private:
  const double* x_;
  std::size_t m_, n_, d_;
  std::vector<double> slice_, scores_;
  TaggedDraws sorted_;
  SortedScratch scratch_;
};

std::string format_number(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  return absl::StrFormat("%.*f", decimals, v);
}

}  // namespace

absl::StatusOr<Summary> summary(const Draws& draws, std::size_t num_divergences,
                                const std::vector<std::string>& names) {
  if (absl::Status s = validate_draws(draws); !s.ok()) return s;
  const std::size_t m = draws.shape()[0], n = draws.shape()[1],
                    d = draws.shape()[2];
  if (!names.empty() && names.size() != d) {
    return absl::InvalidArgumentError(absl::StrCat(
        "got ", names.size(), " parameter names for ", d, " dimensions"));
  }
  Summary out;
  out.num_divergences = num_divergences;
  out.rows.reserve(d);
  Summarizer summarizer(draws.data(), m, n, d);
  for (std::size_t k = 0; k < d; ++k)
    out.rows.push_back(summarizer.row(k, names.empty() ? absl::StrCat("x[", k, "]") : names[k]));
  return out;
}

absl::StatusOr<Summary> summary(const Draws& draws, std::size_t num_divergences,
                                const std::vector<std::string>& names,
                                std::span<const RankedColumns> ranked) {
  if (absl::Status s = validate_draws(draws); !s.ok()) return s;
  const std::size_t m = draws.shape()[0], n = draws.shape()[1], d = draws.shape()[2];
  if (!names.empty() && names.size() != d)
    return absl::InvalidArgumentError(
        absl::StrCat("got ", names.size(), " parameter names for ", d, " dimensions"));
  if (ranked.size() != d)
    return absl::InvalidArgumentError(
        absl::StrCat("got sorted columns of ", ranked.size(), " parameters for ", d, " dimensions"));
  Summary out;
  out.num_divergences = num_divergences;
  out.rows.reserve(d);
  Summarizer summarizer(draws.data(), m, n, d);
  for (std::size_t k = 0; k < d; ++k)
    out.rows.push_back(
        summarizer.row(k, names.empty() ? absl::StrCat("x[", k, "]") : names[k], &ranked[k]));
  return out;
}

absl::StatusOr<Summary> summary(const ChainDraws& draws, std::size_t num_divergences,
                                const std::string& name) {
  if (absl::Status s = validate_draws(draws); !s.ok()) return s;
  Summary out;
  out.num_divergences = num_divergences;
  out.rows.push_back(Summarizer(draws.data(), draws.shape()[0], draws.shape()[1], 1).row(0, name));
  return out;
}

std::string Summary::to_string() const {
  constexpr std::size_t kColumns = 9;
  const std::array<std::string, kColumns> header = {
      "", "mean", "sd", "median", "5.0%", "95.0%", "ess_bulk", "ess_tail", "r_hat"};
  std::vector<std::array<std::string, kColumns>> cells;
  cells.reserve(rows.size());
  for (const SummaryRow& r : rows) {
    cells.push_back({r.name, format_number(r.mean, 2), format_number(r.sd, 2),
                     format_number(r.median, 2), format_number(r.q5, 2),
                     format_number(r.q95, 2), format_number(r.ess_bulk, 0),
                     format_number(r.ess_tail, 0), format_number(r.rhat, 2)});
  }
  // NumPyro's layout: names right-aligned in at least 10 columns, numbers
  // in at least 9, widened to fit the longest entry.
  std::array<std::size_t, kColumns> width;
  for (std::size_t j = 0; j < kColumns; ++j) {
    width[j] = std::max<std::size_t>(j == 0 ? 10 : 9, header[j].size());
    for (const auto& row : cells) width[j] = std::max(width[j], row[j].size());
  }
  std::ostringstream os;
  auto print_line = [&](const std::array<std::string, kColumns>& line) {
    for (std::size_t j = 0; j < kColumns; ++j) {
      if (j > 0) os << ' ';
      os << std::string(width[j] - line[j].size(), ' ') << line[j];
    }
    os << '\n';
  };
  print_line(header);
  for (const auto& row : cells) print_line(row);
  os << "\nNumber of divergences: " << num_divergences << '\n';
  if (!warnings.empty()) {
    os << "\nWarnings:\n";
    for (const std::string& w : warnings) os << "  - " << w << '\n';
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Summary& summary) {
  return os << summary.to_string();
}

}  // namespace nutshell::diagnostics
