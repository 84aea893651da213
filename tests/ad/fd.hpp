// Finite differences for the autodiff tests: Richardson-extrapolated central
// differences (error O(h^4)), so steps can be kept well inside a domain edge.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace nutshell::ad::testing {

/// d f / dx at x with step h (Richardson on central differences).
inline double fd_derivative(const std::function<double(double)>& f, double x, double h) {
  // Divide by the distance actually stepped (x + s is rounded).
  auto central = [&](double s) {
    const double xp = x + s, xm = x - s;
    return (f(xp) - f(xm)) / (xp - xm);
  };
  return (4.0 * central(0.5 * h) - central(h)) / 3.0;
}

/// The gradient of f at x by `fd_derivative` in each coordinate; step
/// h * max(1, |x_i|).
inline std::vector<double> fd_gradient(const std::function<double(std::span<const double>)>& f,
                                       std::vector<double> x, double h) {
  std::vector<double> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i];
    g[i] = fd_derivative(
        [&](double t) {
          x[i] = t;
          const double v = f(x);
          x[i] = xi;
          return v;
        },
        xi, h * std::max(1.0, std::abs(xi)));
  }
  return g;
}

/// |a - b| <= rel * max(|a|, |b|) + abs.
inline bool close(double a, double b, double rel, double abs) {
  return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + abs;
}

}  // namespace nutshell::ad::testing
