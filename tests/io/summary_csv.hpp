// nutshell's summary of a RunData as CSV, in Stan's column order under
// rstan's names (theta[1], L[2,1]) and full precision, for the R checks.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/io/run_data.hpp"
#include "nutshell/io/stan_csv.hpp"

/// Writes the summary to `path`; false on error.
inline bool write_summary_csv(const nutshell::io::RunData& run, const std::string& path) {
  std::vector<std::string> stan;
  const auto order = nutshell::io::detail::stan_column_order(run.parameters, &stan);
  nutshell::diagnostics::Draws d =
      nutshell::diagnostics::Draws::from_shape({run.num_chains(), run.num_draws(), order.size()});
  for (std::size_t c = 0; c < run.num_chains(); ++c)
    for (std::size_t i = 0; i < run.num_draws(); ++i)
      for (std::size_t k = 0; k < order.size(); ++k) d(c, i, k) = run.draws(c, i, order[k]);
  std::vector<std::string> rnames;
  for (std::string n : stan) {
    auto dot = n.find('.');
    if (dot != std::string::npos) {
      n[dot] = '[';
      for (char& ch : n)
        if (ch == '.') ch = ',';
      n += "]";
    }
    rnames.push_back(n);
  }
  auto summary = nutshell::diagnostics::summary(d, 0, rnames);
  if (!summary.ok()) return false;
  std::ofstream out(path);
  out << "variable,mean,sd,median,q5,q95,ess_bulk,ess_tail,rhat\n";
  char buf[512];
  for (const auto& r : summary->rows) {
    std::snprintf(buf, sizeof buf, "\"%s\",%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", r.name.c_str(), r.mean,
                  r.sd, r.median, r.q5, r.q95, r.ess_bulk, r.ess_tail, r.rhat);
    out << buf;
  }
  out.close();
  return static_cast<bool>(out);
}
