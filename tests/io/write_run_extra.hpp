// What write_run writes besides the Stan CSV: the netCDF file and a JSON
// description of what it must hold (for netcdf_check.py), and the report.
#pragma once

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/str_format.h"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/io/netcdf.hpp"
#include "nutshell/io/report.hpp"
#include "nutshell/io/run_data.hpp"
#include "nutshell/io/stan_csv.hpp"

namespace write_run_detail {

inline void json_values(std::ostream& out, const double* v, std::size_t n) {
  out << "[";
  char buf[40];
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(v[i])) std::snprintf(buf, sizeof buf, "NaN");
    else std::snprintf(buf, sizeof buf, "%.17g", v[i]);
    out << (i ? "," : "") << buf;
  }
  out << "]";
}

inline void json_group(std::ostream& out, const nutshell::io::RunData& run,
                       const xt::xtensor<double, 3>& draws,
                       const std::vector<nutshell::io::SampleStat>& stats, bool is_stats) {
  out << "{";
  bool first = true;
  const std::size_t m = draws.shape(0), n = draws.shape(1);
  if (!is_stats) {
    std::size_t offset = 0;
    for (const auto& p : run.parameters) {
      out << (first ? "" : ",") << "\"" << p.name << "\":{\"dims\":[\"chain\",\"draw\"";
      first = false;
      for (std::size_t r = 0; r < p.dims.size(); ++r) out << ",\"" << p.name << "_dim_" << r << "\"";
      out << "],\"shape\":[" << m << "," << n;
      for (std::size_t d : p.dims) out << "," << d;
      out << "],\"values\":";
      std::vector<double> v;
      for (std::size_t c = 0; c < m; ++c)
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t j = 0; j < p.size(); ++j) v.push_back(draws(c, i, offset + j));
      json_values(out, v.data(), v.size());
      out << "}";
      offset += p.size();
    }
  } else {
    for (const auto& s : stats) {
      out << (first ? "" : ",") << "\"" << s.name << "\":{\"dims\":[\"chain\",\"draw\"],\"shape\":["
          << s.values.shape(0) << "," << s.values.shape(1) << "],\"values\":";
      first = false;
      json_values(out, s.values.data(), s.values.size());
      out << "}";
    }
  }
  out << "}";
}

}  // namespace write_run_detail

/// Writes run.nc and expected.json into `dir`; 0 on success.
inline int write_run_extra(const nutshell::io::RunData& run, const std::string& dir) {
  if (auto s = nutshell::io::write_netcdf(run, dir + "/run.nc"); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::ofstream out(dir + "/expected.json");
  out << "{\"inference_library\":\"" << run.inference_library << "\",\"groups\":{";
  out << "\"posterior\":";
  write_run_detail::json_group(out, run, run.draws, run.stats, false);
  out << ",\"sample_stats\":";
  write_run_detail::json_group(out, run, run.draws, run.stats, true);
  if (run.num_warmup_draws() > 0) {
    out << ",\"warmup_posterior\":";
    write_run_detail::json_group(out, run, run.warmup_draws, run.warmup_stats, false);
    out << ",\"warmup_sample_stats\":";
    write_run_detail::json_group(out, run, run.warmup_draws, run.warmup_stats, true);
  }
  out << "}}\n";
  out.close();
  if (!out) return 1;
  // The report, and what its rendered page must hold: the number of
  // plots and one row of the summary table as the DOM serialises it.
  if (auto s = nutshell::io::write_report(run, dir + "/report.html"); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  auto summary = nutshell::diagnostics::summary(run.draws, nutshell::io::num_divergent(run),
                                                nutshell::io::flat_labels(run.parameters));
  if (!summary.ok()) return 1;
  const auto& row = summary->rows.back();
  std::ofstream rep(dir + "/report_expected.txt");
  rep << nutshell::io::report_plot_count(run) << "\n"
      << absl::StrFormat("<td>%s</td><td>%.2f</td><td>%.2f</td>", row.name, row.mean, row.sd) << "\n";
  rep.close();
  return rep ? 0 : 1;
}
