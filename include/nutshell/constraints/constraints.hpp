// Transforms from the unconstrained reals to constrained parameters, with
// their log-Jacobians, written once over the scalar type (double or ad::var).
//
// Every transform is a small value type with the same interface:
//   unconstrained_size(), constrained_size()   sizes (matrices are K*K, row-major)
//   validate()                                  are its own settings sound
//   constrain(span<const T> u, span<T> out, T& lp)    out = f(u), lp += log|J|
//   unconstrain(span<const double> y) -> StatusOr<vector<double>>
//                                               f^-1(y), an error if y is outside
// The non-square maps (simplex, unit vector, Cholesky correlation factor,
// covariance) follow Stan's conventions, stated in their headers.
#pragma once

#include <variant>

#include "nutshell/constraints/cholesky_corr.hpp"
#include "nutshell/constraints/cov_matrix.hpp"
#include "nutshell/constraints/elementwise.hpp"
#include "nutshell/constraints/ordered.hpp"
#include "nutshell/constraints/simplex.hpp"
#include "nutshell/constraints/unit_vector.hpp"

namespace nutshell::constraints {

/// Any one of the transforms, for code that holds a list of them.
using Transform = std::variant<Identity, Lower, Upper, Interval, Ordered, PositiveOrdered, Simplex,
                               UnitVector, CholeskyCorr, CovMatrix>;

}  // namespace nutshell::constraints
