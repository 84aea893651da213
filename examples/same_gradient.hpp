// The examples' --check for models written twice (once with the AD scalar,
// the layout and the distributions; once by hand as the zero-overhead
// option): the two log densities and gradients agree at a few points.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "nutshell/core/types.hpp"

namespace examples {

/// The largest difference between `a(u, grad)` and `b(u, grad)` over
/// `points`, in gradient (relative to max(1, the largest entry of b's)) and
/// in log density up to a constant (the hand-written densities drop the
/// normalising constants the distributions keep: la - lb must be the same
/// at every point, to `tolerance` relative to max(1, |lb|)). Prints both;
/// true when both are within `tolerance`.
template <class A, class B>
bool same_gradient(A&& a, B&& b, const std::vector<nutshell::Vec>& points,
                   double tolerance = 1e-10) {
  double worst_lp = 0.0, worst_grad = 0.0, offset = NAN;
  for (const nutshell::Vec& u : points) {
    nutshell::Vec ga = nutshell::Vec::from_shape({u.size()}), gb = ga;
    const double la = a(u, ga), lb = b(u, gb);
    if (std::isnan(offset)) offset = la - lb;
    worst_lp = std::max(worst_lp, std::abs(la - lb - offset) / std::max(1.0, std::abs(lb)));
    double scale = 1.0;
    for (std::size_t i = 0; i < u.size(); ++i) scale = std::max(scale, std::abs(gb(i)));
    for (std::size_t i = 0; i < u.size(); ++i)
      worst_grad = std::max(worst_grad, std::abs(ga(i) - gb(i)) / scale);
    if (!std::isfinite(la) || !std::isfinite(lb)) worst_lp = INFINITY;
  }
  std::printf("written once vs by hand at %zu points: max rel lp difference (up to a constant) %.2g, gradient %.2g\n",
              points.size(), worst_lp, worst_grad);
  return worst_lp <= tolerance && worst_grad <= tolerance;
}

}  // namespace examples
