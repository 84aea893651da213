// Hessian-vector products through the distributions (forward over reverse:
// the densities' nested-scalar path) for normal and student_t.
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

TEST(DistributionsHvp, Normal) {
  const std::vector<Point> points = {{0.3, -0.2, 1.3}, {4.0, 0.1, 0.01}, {-1e3, 2e3, 50.0}};
  NUTSHELL_HVP_SCALAR(3, "normal", (normal_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x))));
}

TEST(DistributionsHvp, StudentT) {
  const std::vector<Point> points = {{0.3, 3.0, -0.2, 1.3}, {40.0, 0.05, 0.1, 0.02}, {-1.0, 500.0, 1.0, 3.0}};
  NUTSHELL_HVP_SCALAR(4, "student_t",
                      (student_t_lpdf<propto>(arg<M, 0>(x), arg<M, 1>(x), arg<M, 2>(x), arg<M, 3>(x))));
}

}  // namespace
}  // namespace nutshell::distributions
