// Peak memory of one `sample` run against the draws it returns: a standard
// Gaussian in d dimensions, one chain, (warmup + samples) NUTS transitions.
//
//   bazel run --config=opt //benchmarks:sample_memory -- --dim=20000
//
// Prints the peak resident set size (getrusage), the size of the returned
// positions and their ratio. The issue that asked for this measured 634 MB
// for 160 MB of draws at d = 20 000, 1000 + 1000, before the per-draw Info
// lost its momentum vector, warmup stopped keeping every step's Info and
// chains wrote their draws straight into the result.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "nutshell/run/sample.hpp"

namespace {
long flag(int argc, char** argv, const char* name, long fallback) {
  const std::size_t n = std::strlen(name);
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') return std::atol(argv[i] + n + 1);
  return fallback;
}

struct StandardNormal {
  double operator()(const nutshell::Vec& x, nutshell::Vec& g) const {
    double s = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      g(i) = -x(i);
      s += x(i) * x(i);
    }
    return -0.5 * s;
  }
};
}  // namespace

int main(int argc, char** argv) {
  const auto dim = static_cast<std::size_t>(flag(argc, argv, "--dim", 20000));
  nutshell::SampleOptions o;
  o.num_chains = 1;
  o.num_warmup = static_cast<std::size_t>(flag(argc, argv, "--warmup", 1000));
  o.num_samples = static_cast<std::size_t>(flag(argc, argv, "--samples", 1000));
  o.progress_bar = false;
  o.keep_info_vectors = flag(argc, argv, "--keep_info_vectors", 0) != 0;
  auto d = nutshell::sample(nutshell::make_key(1), StandardNormal{},
                            nutshell::Vec(xt::zeros<double>({dim})), o);
  if (!d.ok()) {
    std::fprintf(stderr, "%s\n", std::string(d.status().message()).c_str());
    return 1;
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double peak_mb = static_cast<double>(u.ru_maxrss) / 1024.0;
  const double draws_mb = static_cast<double>(d->positions.size() * sizeof(double)) / (1024.0 * 1024.0);
  std::printf("dim %zu, %zu + %zu, 1 chain: peak RSS %.0f MB, draws %.0f MB, ratio %.2f\n", dim,
              o.num_warmup, o.num_samples, peak_mb, draws_mb, peak_mb / draws_mb);
  return 0;
}
