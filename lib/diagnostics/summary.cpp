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

namespace nutshell::diagnostics {
namespace {

SummaryRow summarize_quantity(const ChainDraws& x, std::string name) {
  SummaryRow row;
  row.name = std::move(name);
  const std::span<const double> all(x.data(), x.size());
  row.mean = mean(all);
  row.sd = sd(all);
  row.median = median(all);
  row.q5 = quantile(all, 0.05);
  row.q95 = quantile(all, 0.95);
  // `x` is validated by the caller, so these cannot fail.
  row.ess_bulk = *ess_bulk(x);
  row.ess_tail = *ess_tail(x);
  row.rhat = *rhat(x);
  return row;
}

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
  ChainDraws slice({m, n});
  for (std::size_t k = 0; k < d; ++k) {
    for (std::size_t i = 0; i < m * n; ++i) slice.data()[i] = draws.data()[i * d + k];
    out.rows.push_back(summarize_quantity(
        slice, names.empty() ? absl::StrCat("x[", k, "]") : names[k]));
  }
  return out;
}

absl::StatusOr<Summary> summary(const ChainDraws& draws, std::size_t num_divergences,
                                const std::string& name) {
  if (absl::Status s = validate_draws(draws); !s.ok()) return s;
  Summary out;
  out.num_divergences = num_divergences;
  out.rows.push_back(summarize_quantity(draws, name));
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
