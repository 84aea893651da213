// The HTML diagnostics report (see report.hpp).
#include "nutshell/io/report.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/io/svg_plots.hpp"
#include "nutshell/diagnostics/summary.hpp"

namespace nutshell::io {

namespace {

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:13px}
ul.warn{background:#fff4e5;border:1px solid #f0b35e;padding:8px 8px 8px 28px} ul.ok{background:#eef8ee;border:1px solid #8c8;padding:8px 8px 8px 28px}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums} td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}
td:first-child,th:first-child{text-align:left} tr.bad td{background:#fde8e8}
details{margin:4px 0;border:1px solid #e4e4e4;border-radius:4px;padding:2px 8px} summary{cursor:pointer;font-size:14px}
.plots{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}
svg .t{font-size:11px;fill:#333} svg .a{font-size:9px;fill:#555}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
button{font-size:12px;margin-right:6px}
)";

// Opens or closes every scalar's block; the only script on the page.
constexpr const char* kScript = R"(
function setAll(open){document.querySelectorAll('details.scalar').forEach(function(d){d.open=open;});}
document.addEventListener('DOMContentLoaded',function(){document.body.setAttribute('data-plots',document.querySelectorAll('svg.plot').length);});
)";

std::string num(double v, int digits = 2) {
  if (std::isnan(v)) return "nan";
  return absl::StrFormat("%.*f", digits, v);
}

std::vector<std::vector<double>> column(const xt::xtensor<double, 3>& d, std::size_t j) {
  std::vector<std::vector<double>> out(d.shape(0));
  for (std::size_t c = 0; c < d.shape(0); ++c)
    for (std::size_t i = 0; i < d.shape(1); ++i) out[c].push_back(d(c, i, j));
  return out;
}

std::vector<std::vector<double>> stat_rows(const SampleStat& s) {
  std::vector<std::vector<double>> out(s.values.shape(0));
  for (std::size_t c = 0; c < s.values.shape(0); ++c)
    for (std::size_t i = 0; i < s.values.shape(1); ++i) out[c].push_back(s.values(c, i));
  return out;
}

bool has_step_sizes(const RunData& run) {
  for (const auto& a : run.adaptation)
    if (std::isfinite(a.step_size)) return true;
  return false;
}

}  // namespace

std::vector<double> ebfmi(const RunData& run) {
  std::vector<double> out(run.num_chains(), std::numeric_limits<double>::quiet_NaN());
  const SampleStat* e = run.stat("energy");
  if (!e) return out;
  for (std::size_t c = 0; c < run.num_chains(); ++c) {
    const std::size_t n = e->values.shape(1);
    if (n < 2) continue;
    double mean = 0.0;
    for (std::size_t i = 0; i < n; ++i) mean += e->values(c, i);
    mean /= n;
    double num = 0.0, den = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      den += (e->values(c, i) - mean) * (e->values(c, i) - mean);
      if (i > 0) num += (e->values(c, i) - e->values(c, i - 1)) * (e->values(c, i) - e->values(c, i - 1));
    }
    out[c] = num / den;
  }
  return out;
}

std::size_t report_plot_count(const RunData& run) {
  std::size_t n = 2 * run.flat_size();
  if (run.stat("energy")) n += run.num_chains();
  if (has_step_sizes(run)) n += 1;
  if (run.stat("tree_depth")) n += 1;
  return n;
}

std::vector<std::string> report_warnings(const RunData& run, const ReportOptions& o) {
  std::vector<std::string> w;
  const std::size_t divergent = num_divergent(run);
  const std::size_t total = run.num_chains() * run.num_draws();
  if (divergent > 0)
    w.push_back(absl::StrFormat("%d of %d transitions after warmup ended with a divergence (%.1f%%): the "
                                "posterior is not fully explored; the red dots on the trace plots show where.",
                                divergent, total, 100.0 * divergent / std::max<std::size_t>(1, total)));
  if (const SampleStat* t = run.stat("tree_depth")) {
    std::size_t hit = 0;
    for (double v : t->values) hit += v >= static_cast<double>(o.max_tree_depth) ? 1 : 0;
    if (hit > 0)
      w.push_back(absl::StrFormat("%d transitions hit the maximum tree depth %d.", hit, o.max_tree_depth));
  }
  const auto bfmi = ebfmi(run);
  for (std::size_t c = 0; c < bfmi.size(); ++c)
    if (bfmi[c] < o.min_ebfmi)
      w.push_back(absl::StrFormat("Chain %d has E-BFMI %.3f < %.1f: the momentum resampling explores the energy "
                                  "poorly (a heavy-tailed or badly scaled posterior?).",
                                  c + 1, bfmi[c], o.min_ebfmi));
  auto summary = diagnostics::summary(run.draws, divergent, flat_labels(run.parameters));
  if (!summary.ok()) {
    w.push_back(absl::StrCat("No summary: ", summary.status().message()));
    return w;
  }
  std::vector<std::string> high_rhat, low_ess;
  const double min_ess = o.min_ess_per_chain * static_cast<double>(run.num_chains());
  for (const auto& r : summary->rows) {
    if (!(r.rhat <= o.max_rhat)) high_rhat.push_back(absl::StrFormat("%s (%.3f)", r.name, r.rhat));
    if (!(std::min(r.ess_bulk, r.ess_tail) >= min_ess)) low_ess.push_back(r.name);
  }
  if (!high_rhat.empty())
    w.push_back(absl::StrFormat("R-hat above %.2f for %d scalars: %s. The chains disagree; run longer or "
                                "reparameterise.",
                                o.max_rhat, high_rhat.size(), absl::StrJoin(high_rhat, ", ")));
  if (!low_ess.empty())
    w.push_back(absl::StrFormat("Bulk or tail ESS below %.0f for %d scalars: %s.", min_ess, low_ess.size(),
                                absl::StrJoin(low_ess, ", ")));
  return w;
}

absl::StatusOr<std::string> render_report(const RunData& run, const ReportOptions& o) {
  if (auto s = validate(run); !s.ok()) return s;
  const std::size_t m = run.num_chains();
  const auto labels = flat_labels(run.parameters);
  const std::size_t divergent = num_divergent(run);
  auto summary = diagnostics::summary(run.draws, divergent, labels);
  const std::string title = o.title.empty() ? run.model_name + ": MCMC diagnostics" : o.title;
  std::string h;
  absl::StrAppend(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
                  "<title>", svg::escape(title), "</title><style>", kStyle, "</style><script>", kScript,
                  "</script></head><body>\n");
  absl::StrAppend(&h, "<h1>", svg::escape(title), "</h1>\n<p class=\"meta\">",
                  absl::StrFormat("%d chains &times; %d draws (warmup %d, thin %d); %s / %s; inference library "
                                  "%s; %d divergent transitions.",
                                  m, run.num_draws(), run.num_warmup, run.thin, svg::escape(run.algorithm),
                                  svg::escape(run.engine), svg::escape(run.inference_library), divergent),
                  "</p>\n<p class=\"legend\">Chains:");
  for (std::size_t c = 0; c < m; ++c)
    absl::StrAppend(&h, "<span style=\"background:", svg::chain_color(c), "\"></span>",
                    run.chain_ids.empty() ? c + 1 : run.chain_ids[c]);
  absl::StrAppend(&h, "</p>\n");

  // Warnings.
  const auto warnings = report_warnings(run, o);
  absl::StrAppend(&h, "<h2 id=\"warnings\">Warnings</h2>\n");
  if (warnings.empty()) {
    absl::StrAppend(&h, "<ul class=\"ok\"><li>No warnings: R-hat, ESS, divergences, tree depth and E-BFMI are "
                        "within their thresholds.</li></ul>\n");
  } else {
    absl::StrAppend(&h, "<ul class=\"warn\">");
    for (const auto& w : warnings) absl::StrAppend(&h, "<li>", svg::escape(w), "</li>");
    absl::StrAppend(&h, "</ul>\n");
  }

  // Summary table.
  absl::StrAppend(&h, "<h2 id=\"summary\">Summary</h2>\n");
  if (summary.ok()) {
    absl::StrAppend(&h, "<table id=\"summary-table\"><thead><tr><th>parameter</th><th>mean</th><th>sd</th>"
                        "<th>median</th><th>5%</th><th>95%</th><th>ess_bulk</th><th>ess_tail</th><th>r_hat</th>"
                        "</tr></thead><tbody>\n");
    const double min_ess = o.min_ess_per_chain * static_cast<double>(m);
    for (const auto& r : summary->rows) {
      const bool bad = !(r.rhat <= o.max_rhat) || !(std::min(r.ess_bulk, r.ess_tail) >= min_ess);
      absl::StrAppend(&h, bad ? "<tr class=\"bad\">" : "<tr>", "<td>", svg::escape(r.name), "</td><td>",
                      num(r.mean), "</td><td>", num(r.sd), "</td><td>", num(r.median), "</td><td>", num(r.q5),
                      "</td><td>", num(r.q95), "</td><td>", num(r.ess_bulk, 0), "</td><td>", num(r.ess_tail, 0),
                      "</td><td>", num(r.rhat), "</td></tr>\n");
    }
    absl::StrAppend(&h, "</tbody></table>\n");
  } else {
    absl::StrAppend(&h, "<p>", svg::escape(std::string(summary.status().message())), "</p>\n");
  }

  // Sampler: energy, step size, tree depth.
  absl::StrAppend(&h, "<h2 id=\"sampler\">Sampler</h2>\n<div class=\"plots\">");
  const auto bfmi = ebfmi(run);
  if (const SampleStat* e = run.stat("energy")) {
    const auto rows = stat_rows(*e);
    for (std::size_t c = 0; c < m; ++c) absl::StrAppend(&h, svg::energy(rows[c], bfmi[c], c));
  }
  if (has_step_sizes(run)) {
    std::vector<double> steps;
    for (const auto& a : run.adaptation) steps.push_back(a.step_size);
    absl::StrAppend(&h, svg::chain_bars(steps, "step size after adaptation, per chain"));
  }
  if (const SampleStat* t = run.stat("tree_depth"))
    absl::StrAppend(&h, svg::integer_histogram(stat_rows(*t), "tree depth: share of draws, per chain"));
  absl::StrAppend(&h, "</div>\n<table id=\"chain-table\"><thead><tr><th>chain</th><th>step size</th>"
                      "<th>mean accept</th><th>mean tree depth</th><th>mean steps</th><th>divergent</th>"
                      "<th>E-BFMI</th></tr></thead><tbody>\n");
  auto chain_mean = [&](const char* name, std::size_t c) {
    const SampleStat* s = run.stat(name);
    if (!s || s->values.shape(1) == 0) return std::numeric_limits<double>::quiet_NaN();
    double t = 0.0;
    for (std::size_t i = 0; i < s->values.shape(1); ++i) t += s->values(c, i);
    return t / s->values.shape(1);
  };
  for (std::size_t c = 0; c < m; ++c) {
    const double step = run.adaptation.empty() ? std::numeric_limits<double>::quiet_NaN() : run.adaptation[c].step_size;
    const double div = chain_mean("diverging", c) * run.num_draws();
    absl::StrAppend(&h, "<tr><td>", run.chain_ids.empty() ? c + 1 : run.chain_ids[c], "</td><td>", num(step, 4),
                    "</td><td>", num(chain_mean("acceptance_rate", c), 3), "</td><td>",
                    num(chain_mean("tree_depth", c), 2), "</td><td>", num(chain_mean("n_steps", c), 1), "</td><td>",
                    num(div, 0), "</td><td>", num(bfmi[c], 3), "</td></tr>\n");
  }
  absl::StrAppend(&h, "</tbody></table>\n");

  // Per scalar: trace and rank plots.
  absl::StrAppend(&h, "<h2 id=\"parameters\">Trace and rank plots</h2>\n<p class=\"meta\">",
                  absl::StrFormat("%d scalars; the first %d are open. ", labels.size(),
                                  std::min(o.open_scalars, labels.size())),
                  "<button type=\"button\" onclick=\"setAll(true)\">open all</button>"
                  "<button type=\"button\" onclick=\"setAll(false)\">close all</button></p>\n");
  std::vector<std::vector<bool>> div_marks(m);
  if (const SampleStat* d = run.stat("diverging"))
    for (std::size_t c = 0; c < m; ++c)
      for (std::size_t i = 0; i < run.num_draws(); ++i) div_marks[c].push_back(d->values(c, i) != 0.0);
  for (std::size_t j = 0; j < labels.size(); ++j) {
    std::string line = svg::escape(labels[j]);
    if (summary.ok()) {
      const auto& r = summary->rows[j];
      line += absl::StrFormat(" &mdash; mean %s, sd %s, R-hat %s, ESS %s / %s", num(r.mean), num(r.sd), num(r.rhat, 3),
                              num(r.ess_bulk, 0), num(r.ess_tail, 0));
    }
    const auto col = column(run.draws, j);
    absl::StrAppend(&h, "<details class=\"scalar\"", j < o.open_scalars ? " open" : "", "><summary>", line,
                    "</summary><div class=\"plots\">", svg::trace(col, div_marks, o.max_trace_points, labels[j]),
                    svg::rank(col, o.rank_bins, labels[j]), "</div></details>\n");
  }
  absl::StrAppend(&h, "<p class=\"meta\">Written by nutshell. Rank plots: each chain's histogram of its draws' "
                      "ranks among all chains; flat and overlapping when the chains mix. Energy: ArviZ's energy "
                      "plot; the two histograms should match.</p>\n</body></html>\n");
  return h;
}

absl::Status write_report(const RunData& run, const std::string& path, const ReportOptions& options) {
  auto page = render_report(run, options);
  if (!page.ok()) return page.status();
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  errno = 0;
  bool ok = std::fwrite(page->data(), 1, page->size(), f) == page->size();
  ok = (std::fflush(f) == 0) && ok;
  const int err = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return absl::ResourceExhaustedError(absl::StrCat("writing ", tmp, ": ", std::strerror(err ? err : errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::PermissionDeniedError(absl::StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace nutshell::io
