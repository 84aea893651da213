// Reads Stan CSV files (CmdStan's) with nutshell's reader and writes
// nutshell's summary of them, and the report, for the R check:
//
//   summarize_stan_csv OUT_DIR FILE...
#include <iostream>

#include "nutshell/io/report.hpp"
#include "nutshell/io/stan_csv.hpp"
#include "tests/io/summary_csv.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: summarize_stan_csv OUT_DIR FILE...\n";
    return 2;
  }
  const std::string dir = argv[1];
  auto csv = nutshell::io::read_stan_csv(std::vector<std::string>(argv + 2, argv + argc));
  if (!csv.ok()) {
    std::cerr << csv.status() << "\n";
    return 1;
  }
  if (!write_summary_csv(csv->run, dir + "/summary.csv")) return 1;
  if (auto s = nutshell::io::write_report(csv->run, dir + "/report.html"); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << "read " << csv->run.num_chains() << " chains x " << csv->run.num_draws() << " draws of "
            << csv->run.flat_size() << " scalars\n";
  return 0;
}
