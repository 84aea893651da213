// Declarations of named parameters: a name, a shape and a constraint. A list
// of them makes a `Layout` (layout.hpp).
//
//   model::real("mu"), model::positive("tau"), model::vector("theta", 8),
//   model::cholesky_corr("L", 3), model::simplex("w", 4), model::ordered("c", 3)
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "nutshell/constraints/constraints.hpp"

namespace nutshell::model {

/// One declared parameter. `shape` is {} for a scalar, {n} for a vector,
/// {rows, cols} for a matrix (stored row-major in the reader).
struct Param {
  std::string name;
  std::vector<std::size_t> shape;
  constraints::Transform transform;
};

/// An unconstrained real.
inline Param real(std::string name) { return {std::move(name), {}, constraints::Identity{1}}; }
/// A vector of n unconstrained reals.
inline Param vector(std::string name, std::size_t n) {
  return {std::move(name), {n}, constraints::Identity{n}};
}
/// A rows x cols matrix of unconstrained reals.
inline Param matrix(std::string name, std::size_t rows, std::size_t cols) {
  return {std::move(name), {rows, cols}, constraints::Identity{rows * cols}};
}
/// A real > lb.
inline Param lower(std::string name, double lb) {
  return {std::move(name), {}, constraints::Lower{lb, 1}};
}
/// A vector of n reals, each > lb.
inline Param lower(std::string name, double lb, std::size_t n) {
  return {std::move(name), {n}, constraints::Lower{lb, n}};
}
/// A real > 0.
inline Param positive(std::string name) { return lower(std::move(name), 0.0); }
/// A vector of n reals, each > 0.
inline Param positive(std::string name, std::size_t n) { return lower(std::move(name), 0.0, n); }
/// A real < ub.
inline Param upper(std::string name, double ub) {
  return {std::move(name), {}, constraints::Upper{ub, 1}};
}
/// A vector of n reals, each < ub.
inline Param upper(std::string name, double ub, std::size_t n) {
  return {std::move(name), {n}, constraints::Upper{ub, n}};
}
/// A real in (lb, ub).
inline Param interval(std::string name, double lb, double ub) {
  return {std::move(name), {}, constraints::Interval{lb, ub, 1}};
}
/// A vector of n reals, each in (lb, ub).
inline Param interval(std::string name, double lb, double ub, std::size_t n) {
  return {std::move(name), {n}, constraints::Interval{lb, ub, n}};
}
/// A strictly increasing vector of n reals.
inline Param ordered(std::string name, std::size_t n) {
  return {std::move(name), {n}, constraints::Ordered{n}};
}
/// A strictly increasing vector of n positive reals.
inline Param positive_ordered(std::string name, std::size_t n) {
  return {std::move(name), {n}, constraints::PositiveOrdered{n}};
}
/// K non-negative reals summing to 1.
inline Param simplex(std::string name, std::size_t K) {
  return {std::move(name), {K}, constraints::Simplex{K}};
}
/// A vector of K reals with Euclidean norm 1.
inline Param unit_vector(std::string name, std::size_t K) {
  return {std::move(name), {K}, constraints::UnitVector{K}};
}
/// The K x K Cholesky factor of a correlation matrix.
inline Param cholesky_corr(std::string name, std::size_t K) {
  return {std::move(name), {K, K}, constraints::CholeskyCorr{K}};
}
/// A K x K covariance matrix (symmetric positive definite).
inline Param cov_matrix(std::string name, std::size_t K) {
  return {std::move(name), {K, K}, constraints::CovMatrix{K}};
}

}  // namespace nutshell::model
