#include "nutshell/run/warnings.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nutshell {

double ebfmi(const double* energy, std::size_t n, std::size_t stride) {
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += energy[i * stride];
  mean /= static_cast<double>(n);
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = energy[i * stride];
    den += (e - mean) * (e - mean);
    if (i > 0) {
      const double d = e - energy[(i - 1) * stride];
      num += d * d;
    }
  }
  if (!(den > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return num / den;
}

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void stuck_chains(const diagnostics::ChainDraws& lp, const WarningThresholds& t,
                  const std::vector<ChainAccounting>& accounting, std::vector<RunWarning>& out) {
  const std::size_t m = lp.shape(0), n = lp.shape(1);
  if (m < 2 || n < 2) return;
  std::vector<double> means(m, 0.0);
  double pooled_var = 0.0;
  for (std::size_t c = 0; c < m; ++c) {
    for (std::size_t i = 0; i < n; ++i) means[c] += lp(c, i);
    means[c] /= static_cast<double>(n);
    double v = 0.0;
    for (std::size_t i = 0; i < n; ++i) v += (lp(c, i) - means[c]) * (lp(c, i) - means[c]);
    pooled_var += v / static_cast<double>(n - 1);
  }
  const double sd = std::sqrt(pooled_var / static_cast<double>(m));
  if (!(sd > 0.0) || !std::isfinite(sd)) return;
  for (std::size_t c = 0; c < m; ++c) {
    std::vector<double> others;
    for (std::size_t k = 0; k < m; ++k)
      if (k != c) others.push_back(means[k]);
    const double ref = median(others);
    const double z = (means[c] - ref) / sd;
    if (std::abs(z) > t.stuck_chain_sds) {
      const std::size_t id = c < accounting.size() ? accounting[c].chain : c;
      out.push_back({"stuck_chain",
                     absl::StrFormat("chain %d: mean log density %.3g is %.2f pooled sds %s the "
                                     "other chains' (%.3g); it may be stuck in a %s mode",
                                     id, means[c], std::abs(z), z < 0 ? "below" : "above", ref,
                                     z < 0 ? "minor" : "different")});
    }
  }
}

}  // namespace

std::vector<RunWarning> run_warnings(const diagnostics::Summary* summary,
                                     const diagnostics::ChainDraws& lp, const SampleStats& stats,
                                     const std::vector<ChainAccounting>& accounting,
                                     std::size_t num_sampling_steps, const WarningThresholds& t) {
  std::vector<RunWarning> out;
  const std::size_t m = lp.shape(0);
  if (summary != nullptr && !summary->rows.empty()) {
    double max_rhat = 0.0, min_bulk = std::numeric_limits<double>::infinity(), min_tail = min_bulk;
    std::string rhat_name, bulk_name, tail_name;
    for (const auto& r : summary->rows) {
      if (r.rhat > max_rhat) max_rhat = r.rhat, rhat_name = r.name;
      if (r.ess_bulk < min_bulk) min_bulk = r.ess_bulk, bulk_name = r.name;
      if (r.ess_tail < min_tail) min_tail = r.ess_tail, tail_name = r.name;
    }
    if (max_rhat > t.max_rhat)
      out.push_back({"rhat", absl::StrFormat("max R-hat %.3f (%s) is above %.2f: the chains have "
                                             "not mixed",
                                             max_rhat, rhat_name, t.max_rhat)});
    const double min_ess = t.min_ess_per_chain * static_cast<double>(m);
    if (min_bulk < min_ess)
      out.push_back({"ess_bulk", absl::StrFormat("bulk ESS %.0f (%s) is below %.0f (%.0f per chain)",
                                                 min_bulk, bulk_name, min_ess,
                                                 t.min_ess_per_chain)});
    if (min_tail < min_ess)
      out.push_back({"ess_tail", absl::StrFormat("tail ESS %.0f (%s) is below %.0f (%.0f per chain)",
                                                 min_tail, tail_name, min_ess,
                                                 t.min_ess_per_chain)});
  }
  std::size_t divergent = 0, saturated = 0;
  std::uint64_t rejected = 0;
  for (const auto& a : accounting) {
    divergent += a.num_divergent;
    saturated += a.num_max_tree_depth;
    rejected += a.num_rejected_evaluations;
  }
  if (divergent > 0)
    out.push_back({"divergences",
                   absl::StrCat(divergent, " divergent transitions after warmup: the draws may "
                                           "be biased; reparametrise or raise the target "
                                           "acceptance rate")});
  const double total = static_cast<double>(num_sampling_steps * accounting.size());
  if (total > 0 && static_cast<double>(saturated) > t.max_tree_depth_fraction * total)
    out.push_back({"tree_depth",
                   absl::StrFormat("%d of %.0f transitions (%.1f%%) hit the maximum tree depth",
                                   saturated, total, 100.0 * saturated / total)});
  if (rejected > 0)
    out.push_back({"rejected_evaluations",
                   absl::StrCat(rejected, " log density evaluations after warmup threw "
                                          "std::domain_error or were not finite (rejected)")});
  const long e = stats.index("energy");
  if (e >= 0 && stats.values.dimension() == 3) {
    const std::size_t n = stats.values.shape(1), k = stats.values.shape(2);
    for (std::size_t c = 0; c < stats.values.shape(0); ++c) {
      const double b = ebfmi(&stats.values(c, 0, static_cast<std::size_t>(e)), n, k);
      if (b < t.min_ebfmi) {
        const std::size_t id = c < accounting.size() ? accounting[c].chain : c;
        out.push_back({"ebfmi", absl::StrFormat("chain %d: E-BFMI %.2f is below %.1f: the "
                                                "momentum resampling explores the energy poorly",
                                                id, b, t.min_ebfmi)});
      }
    }
  }
  stuck_chains(lp, t, accounting, out);
  return out;
}

std::string format_warnings(const std::vector<RunWarning>& warnings) {
  if (warnings.empty()) return "";
  std::string s = "Warnings:\n";
  for (const auto& w : warnings) absl::StrAppend(&s, "  - ", w.message, "\n");
  return s;
}

}  // namespace nutshell
