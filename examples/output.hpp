// `--output DIR`, shared by the examples: writes the run as Stan CSV (one
// file per chain), ArviZ netCDF and the HTML diagnostics report.
//
//   DIR/<name>_1.csv ...   rstan::read_stan_csv(...), CmdStan tools
//   DIR/<name>.nc          arviz.from_netcdf("DIR/<name>.nc")
//   DIR/<name>.html        open in a browser
#pragma once

#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/io/netcdf.hpp"
#include "nutshell/io/report.hpp"
#include "nutshell/io/run_data.hpp"
#include "nutshell/io/stan_csv.hpp"

namespace examples {

/// Creates `dir` and writes the netCDF file and the report (and, unless
/// `csv_written`, the Stan CSV files). Prints the paths; 0 on success.
inline int write_outputs(const nutshell::io::RunData& run, const std::string& dir, const std::string& name,
                         bool csv_written = false) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  if (!csv_written) {
    auto csv = nutshell::io::write_stan_csv_files(run, dir + "/" + name);
    if (!csv.ok()) {
      std::cerr << csv.status() << "\n";
      return 1;
    }
  }
  if (auto s = nutshell::io::write_netcdf(run, dir + "/" + name + ".nc"); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (auto s = nutshell::io::write_report(run, dir + "/" + name + ".html"); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << "wrote " << dir << "/" << name << "_*.csv, " << name << ".nc and " << name << ".html\n";
  return 0;
}

/// A RunData from [chain, draw, dim] draws alone (samplers whose chains
/// are assembled by hand, without per-draw statistics).
inline nutshell::io::RunData plain_run(const nutshell::diagnostics::Draws& draws,
                                       std::vector<nutshell::io::Parameter> parameters, const std::string& model,
                                       const std::string& engine, std::size_t num_warmup) {
  nutshell::io::RunData run;
  run.model_name = model;
  run.algorithm = engine;
  run.engine = engine;
  run.parameters = std::move(parameters);
  run.draws = draws;
  run.num_warmup = num_warmup;
  run.num_samples = draws.shape(1);
  return run;
}

}  // namespace examples
