// Hessian-vector products through the distributions (forward over reverse:
// the densities' nested-scalar path) for exponential, gamma, inv_gamma and beta.
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

TEST(DistributionsHvp, Exponential) {
  const std::vector<Point> points = {{0.3, 1.3}, {1e-8, 1e-3}, {50.0, 40.0}};
  NUTSHELL_HVP_SCALAR(2, "exponential", (exponential_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x))));
}

TEST(DistributionsHvp, Gamma) {
  const std::vector<Point> points = {{0.3, 2.0, 1.3}, {1e-3, 0.01, 0.5}, {30.0, 200.0, 7.0}};
  NUTSHELL_HVP_SCALAR(3, "gamma", (gamma_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

TEST(DistributionsHvp, InvGamma) {
  const std::vector<Point> points = {{0.3, 2.0, 1.3}, {1e-2, 0.02, 0.05}, {30.0, 200.0, 7.0}};
  NUTSHELL_HVP_SCALAR(3, "inv_gamma", (inv_gamma_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

TEST(DistributionsHvp, Beta) {
  const std::vector<Point> points = {{0.3, 2.0, 1.3}, {1e-4, 0.05, 3.0}, {0.9999, 300.0, 0.2}};
  NUTSHELL_HVP_SCALAR(3, "beta", (beta_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

}  // namespace
}  // namespace nutshell::distributions
