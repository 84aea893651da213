// Built against nutshell as an external repository: samples a standard
// normal with HMC and checks the mean. Exits non-zero on failure.
#include <cmath>
#include <cstdio>

// The umbrella header: a user who wants everything includes this one file.
#include "nutshell/nutshell.hpp"

int main() {
  using nutshell::Vec;
  auto logdensity = [](const Vec& x, Vec& grad) {
    grad = -x;
    return -0.5 * x(0) * x(0);
  };
  auto alg = nutshell::hmc::sampler(
      logdensity, nutshell::hmc::Params{0.5, nutshell::Metric::identity(1), 3});
  auto state = alg.init(Vec{1.0});
  if (!state.ok()) return 1;
  auto run = nutshell::run_inference_algorithm(nutshell::make_key(0), alg, *state, 4000);
  if (!run.ok()) return 2;
  double mean = 0.0;
  for (std::size_t i = 0; i < run->positions.shape(0); ++i) mean += run->positions(i, 0);
  mean /= run->positions.shape(0);
  std::printf("mean %.4f\n", mean);
  return std::abs(mean) < 0.15 ? 0 : 3;  // sd of the mean ~ 0.03 at ESS ~ 1000
}
