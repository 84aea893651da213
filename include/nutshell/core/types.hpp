// Array types shared by every kernel.
#pragma once

#include <cstddef>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

namespace nutshell {

/// A position, momentum or gradient: a 1-D xtensor of doubles.
using Vec = xt::xtensor<double, 1>;
/// A matrix (inverse mass matrix, covariance, collected draws): row-major 2-D.
using Mat = xt::xtensor<double, 2>;

/// Resizes `v` to `n` entries only when its size differs, so buffers that are
/// reused across steps allocate once and never again.
inline void ensure_size(Vec& v, std::size_t n) {
  if (v.size() != n) v.resize({n});
}

/// The result of one transition: the new state and what happened on the way.
/// Structured bindings work: `auto [state, info] = *result;`.
template <class State, class Info>
struct Transition {
  State state;
  Info info;
};

}  // namespace nutshell
