// Writes a small NUTS run in every output format, for the tests that check
// the files with other tools (R, Python, Chromium):
//
//   write_run OUT_DIR
//
// writes OUT_DIR/run_{1..4}.csv (Stan CSV), OUT_DIR/summary.csv (nutshell's
// summary of the same draws, full precision, in Stan's column order with
// rstan's names), OUT_DIR/run.nc (ArviZ netCDF) and OUT_DIR/expected.json
// (what the netCDF must hold), and OUT_DIR/report.html.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/io/csv_stream.hpp"
#include "nutshell/io/from_draws.hpp"
#include "nutshell/io/stan_csv.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/io/summary_csv.hpp"
#include "tests/io/write_run_extra.hpp"

using nutshell::Vec;

namespace {
// Independent normals with scales 1..7: a scalar a, a vector v[2] and a
// 2x2 matrix L (row-major in the flat draw).
double gaussian(const Vec& x, Vec& g) {
  double lp = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double s = 1.0 + i, m = 0.5 * i;
    g(i) = -(x(i) - m) / (s * s);
    lp += -0.5 * (x(i) - m) * (x(i) - m) / (s * s);
  }
  return lp;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_run OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  // L is 2x2 but only 2 coordinates are sampled for it: fill the other
  // two from them, so the matrix's Stan order (L.1.1, L.2.1, ...) matters.
  auto constrain = [](std::span<const double> u, std::span<double> out) {
    for (std::size_t j = 0; j < 5; ++j) out[j] = u[j];
    out[5] = u[3] * u[4];
    out[6] = std::exp(0.1 * u[4]);
  };
  nutshell::SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = 200;
  o.num_samples = 300;
  o.progress_bar = false;
  nutshell::io::CsvStreamOptions so;
  so.prefix = dir + "/run";
  so.num_chains = o.num_chains;
  so.model_name = "gaussian";
  so.parameters = {{"a", {}}, {"v", {2}}, {"L", {2, 2}}};
  so.constrain = constrain;
  so.num_warmup = o.num_warmup;
  so.num_samples = o.num_samples;
  so.seed = 11;
  so.save_warmup = true;
  nutshell::io::CsvStream stream(so);
  auto draws = nutshell::sample(nutshell::make_key(11), gaussian, Vec(xt::zeros<double>({5})), o, stream);
  if (!draws.ok() || !draws->status.ok()) {
    std::cerr << "sampling failed\n";
    return 1;
  }
  nutshell::io::RunInfo info;
  info.model_name = "gaussian";
  info.parameters = {{"a", {}}, {"v", {2}}, {"L", {2, 2}}};
  info.num_warmup = o.num_warmup;
  info.num_samples = o.num_samples;
  info.seed = 11;
  info.constrain = constrain;
  auto run = nutshell::io::from_draws(*draws, info);
  if (!run.ok()) {
    std::cerr << run.status() << "\n";
    return 1;
  }
  auto paths = stream.finish(*run);
  if (!paths.ok()) {
    std::cerr << paths.status() << "\n";
    return 1;
  }
  // From here on, the run as read back from the files (warmup included).
  auto back = nutshell::io::read_stan_csv(*paths);
  if (!back.ok()) {
    std::cerr << back.status() << "\n";
    return 1;
  }
  run = std::move(back->run);
  // nutshell's summary, in Stan's column order under rstan's names.
  if (!write_summary_csv(*run, dir + "/summary.csv")) return 1;
  return write_run_extra(*run, dir);
}
