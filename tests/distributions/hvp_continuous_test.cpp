// Hessian-vector products through the distributions (forward over reverse:
// the densities' nested-scalar path) for cauchy, lognormal and uniform.
// See hvp_check.hpp for what each check asserts: HVP against finite
// differences of the gradient at points including the domain's edges, for
// each subset of the arguments made autodiff, full and propto; symmetry; no
// NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "hvp_check.hpp"
#include "nutshell/ad/ad.hpp"
#include "nutshell/constraints/constraints.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace nutshell::distributions {
namespace {

using namespace hvp_test;  // NOLINT: the shared checks of this test family

TEST(DistributionsHvp, Cauchy) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {40.0, 0.1, 0.01}, {-2.0, 1.0, 300.0}};
  NUTSHELL_HVP_SCALAR(3, "cauchy", (cauchy_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

TEST(DistributionsHvp, Lognormal) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {1e-6, 0.1, 0.05}, {200.0, 3.0, 0.5}};
  NUTSHELL_HVP_SCALAR(3, "lognormal", (lognormal_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

TEST(DistributionsHvp, Uniform) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {1e-3, -1e-3, 1e-2}};
  NUTSHELL_HVP_SCALAR(3, "uniform", (uniform_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

}  // namespace
}  // namespace nutshell::distributions
