// Convergence summary of draws stored in a CSV file, with nutshell's
// diagnostics (rank-normalised split R-hat, bulk and tail ESS; identical to
// R's posterior 1.4.0). compare_with_stan.sh runs both nutshell's and Stan's
// draws through this one program, so the ESS code is the same for both.
//
//   ess draws.csv            (or `ess -` for stdin)
//
// Input: a header line `chain,<name>,<name>,...`, then one row per draw:
// the chain label, then one value per quantity. Rows of a chain need not be
// contiguous but keep their order; every chain must have the same number of
// draws. Output (stdout): a header and one CSV line
//   chains,draws,quantities,min_ess_bulk,min_ess_tail,max_rhat,argmin_ess_bulk,argmin_ess_tail,argmax_rhat
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "benchmarks/common.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"

namespace {

std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '"' && c != '\r') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "ess: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  nutshell::bench::ensure_single_threaded_blas(argv);
  if (argc != 2) return fail("usage: ess draws.csv|-");
  std::ifstream file;
  std::istream* in = &std::cin;
  if (std::string(argv[1]) != "-") {
    file.open(argv[1]);
    if (!file) return fail(std::string("cannot read ") + argv[1]);
    in = &file;
  }
  std::string line;
  if (!std::getline(*in, line)) return fail("empty input");
  const std::vector<std::string> header = split_line(line);
  if (header.size() < 2) return fail("need a chain column and at least one quantity");
  const std::size_t dim = header.size() - 1;
  std::map<std::string, std::vector<std::vector<double>>> chains;  // label -> draws
  std::vector<std::string> order;
  std::size_t lineno = 1;
  while (std::getline(*in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    const auto f = split_line(line);
    if (f.size() != header.size())
      return fail("line " + std::to_string(lineno) + ": expected " +
                  std::to_string(header.size()) + " fields, got " + std::to_string(f.size()));
    std::vector<double> row(dim);
    for (std::size_t k = 0; k < dim; ++k) {
      char* end = nullptr;
      row[k] = std::strtod(f[k + 1].c_str(), &end);
      if (end == f[k + 1].c_str()) return fail("line " + std::to_string(lineno) + ": not a number");
    }
    if (!chains.count(f[0])) order.push_back(f[0]);
    chains[f[0]].push_back(std::move(row));
  }
  if (order.empty()) return fail("no draws");
  const std::size_t num_draws = chains[order[0]].size();
  for (const auto& c : order)
    if (chains[c].size() != num_draws) return fail("chains have different numbers of draws");
  nutshell::diagnostics::Draws draws =
      nutshell::diagnostics::Draws::from_shape({order.size(), num_draws, dim});
  for (std::size_t c = 0; c < order.size(); ++c)
    for (std::size_t i = 0; i < num_draws; ++i)
      for (std::size_t k = 0; k < dim; ++k) draws(c, i, k) = chains[order[c]][i][k];
  auto bulk = nutshell::diagnostics::ess_bulk(draws);
  auto tail = nutshell::diagnostics::ess_tail(draws);
  auto rhat = nutshell::diagnostics::rhat(draws);
  if (!bulk.ok()) return fail(std::string(bulk.status().message()));
  if (!tail.ok()) return fail(std::string(tail.status().message()));
  if (!rhat.ok()) return fail(std::string(rhat.status().message()));
  std::size_t ib = 0, it = 0, ir = 0;
  for (std::size_t k = 1; k < dim; ++k) {
    if ((*bulk)(k) < (*bulk)(ib)) ib = k;
    if ((*tail)(k) < (*tail)(it)) it = k;
    if ((*rhat)(k) > (*rhat)(ir)) ir = k;
  }
  std::printf(
      "chains,draws,quantities,min_ess_bulk,min_ess_tail,max_rhat,argmin_ess_bulk,"
      "argmin_ess_tail,argmax_rhat\n");
  std::printf("%zu,%zu,%zu,%.10g,%.10g,%.10g,%s,%s,%s\n", order.size(), num_draws, dim,
              (*bulk)(ib), (*tail)(it), (*rhat)(ir), header[ib + 1].c_str(),
              header[it + 1].c_str(), header[ir + 1].c_str());
  return 0;
}
