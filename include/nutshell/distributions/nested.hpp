// The generic path of the log densities for nested autodiff scalars:
// `ad::fvar<S>` with S other than double, above all `fvar<var>` (forward
// over reverse), which is how `ad::hessian_vector_product` runs a model.
//
// The fast paths (vectorise.hpp) compute each density's partials once, in
// doubles, and record one node: first-order information only, which is all
// a gradient (var) or a directional derivative (dual) needs. A
// Hessian-vector product needs the partials' own derivatives, so for nested
// scalars each density is instead written out in the ad:: scalar math (one
// node per operation; the second derivatives of lgamma, digamma, log1p_exp,
// ... come from their nested overloads). This is the slow, exact path: an
// HVP is a diagnostic or a second-order method's step, not a sampler's hot
// loop. The argument checks and the support are those of the fast path,
// which each generic density runs first on the arguments' values (the same
// errors, the same -infinity outside the support): nested_sum below is
// that skeleton, each family supplies only its per-element terms.
#pragma once

#include <cstddef>
#include <limits>
#include <ranges>
#include <span>
#include <type_traits>

#include "nutshell/ad/arena.hpp"
#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/var.hpp"
#include "nutshell/distributions/vectorise.hpp"

namespace nutshell::distributions::detail {

/// True for forward-mode scalars over anything but double (fvar<var>, ...).
template <class S>
inline constexpr bool is_nested_v = false;
template <class S>
inline constexpr bool is_nested_v<ad::fvar<S>> = !std::is_same_v<S, double>;

/// A nested scalar argument.
template <class A>
concept NestedScalar = is_nested_v<std::remove_cvref_t<A>>;

/// A vector (contiguous sized range) of nested scalars.
template <class A>
concept NestedVector = std::ranges::contiguous_range<const std::remove_cvref_t<A>> &&
                       std::ranges::sized_range<const std::remove_cvref_t<A>> &&
                       NestedScalar<std::ranges::range_value_t<std::remove_cvref_t<A>>>;

/// Any argument of a density, nested scalars included.
template <class A>
concept AnyArg = Arg<A> || NestedScalar<A> || NestedVector<A>;

template <class A>
struct any_element {
  using type = std::remove_cvref_t<A>;
};
template <class A>
  requires(Vector<A> || NestedVector<A>)
struct any_element<A> {
  using type = std::remove_cv_t<std::ranges::range_value_t<std::remove_cvref_t<A>>>;
};
/// The element type of any argument (the argument itself for a scalar).
template <class A>
using any_element_t = typename any_element<A>::type;

/// True when argument type A carries a nested scalar.
template <class A>
inline constexpr bool is_nested_arg = is_nested_v<any_element_t<A>>;

/// At least one argument is nested: the generic path applies.
template <class... A>
concept AnyNested = (is_nested_arg<A> || ...);

template <class... A>
struct nested_result;
template <class A, class... Rest>
struct nested_result<A, Rest...> {
  using type = std::conditional_t<is_nested_arg<A>, any_element_t<A>,
                                  typename nested_result<Rest...>::type>;
};
template <>
struct nested_result<> {
  using type = void;
};
/// The nested scalar of a call (every nested argument must carry the same
/// one; the others must be data: double, integers).
template <class... A>
using nested_t = typename nested_result<A...>::type;

/// Argument types a generic call accepts alongside its nested scalar R.
template <class R, class... A>
inline constexpr bool nested_compatible =
    ((std::is_same_v<any_element_t<A>, R> || std::is_arithmetic_v<any_element_t<A>>) && ...);

/// Stan's include_summand for the generic path: a term is kept unless propto
/// is on and none of the arguments it depends on is nested.
template <bool propto, class... A>
inline constexpr bool nested_include = !propto || (is_nested_arg<A> || ...);

/// The values of an argument as the fast path takes them: a double for a
/// nested scalar, doubles in the arena for a nested vector, a span over a
/// data vector, a data scalar as it is.
template <class A>
auto values(const A& a) {
  if constexpr (NestedScalar<A>) {
    return a.val();
  } else if constexpr (NestedVector<A>) {
    const std::size_t n = std::ranges::size(a);
    const auto* p = std::ranges::data(a);
    double* v = ad::arena_alloc<double>(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = p[i].val();
    return std::span<const double>(v, n);
  } else if constexpr (Vector<A>) {
    return std::span<const element_t<A>>(std::ranges::data(a), std::ranges::size(a));
  } else {
    return a;
  }
}

/// Element i of an argument (the scalar itself for any i): a nested scalar
/// by reference, data as a double.
template <class A>
decltype(auto) at(const A& a, std::size_t i) {
  if constexpr (NestedVector<A>) {
    return static_cast<const any_element_t<A>&>(std::ranges::data(a)[i]);
  } else if constexpr (NestedScalar<A>) {
    return static_cast<const A&>(a);
  } else if constexpr (Vector<A>) {
    return static_cast<double>(std::ranges::data(a)[i]);
  } else {
    return static_cast<double>(a);
  }
}

/// The broadcast length (the fast path has already checked the lengths).
template <class... A>
std::size_t any_size(const A&... a) {
  std::size_t n = 1;
  bool any_vector = false;
  auto visit = [&](auto const& x) {
    using X = std::remove_cvref_t<decltype(x)>;
    if constexpr (Vector<X> || NestedVector<X>) {
      if (!any_vector) n = std::ranges::size(x);
      any_vector = true;
    }
  };
  (visit(a), ...);
  return n;
}

inline constexpr double kNestedNegInf = -std::numeric_limits<double>::infinity();

/// True when the fast path, run on the arguments' values by `fast` (a
/// generic lambda forwarding to the double overload), gives -infinity: the
/// point is outside the support. The fast path's argument checks throw the
/// same errors as for doubles.
template <class Fast, class... A>
bool nested_outside_support(const Fast& fast, const A&... a) {
  return fast(values(a)...) == kNestedNegInf;
}

/// The skeleton of an elementwise nested density: -infinity outside the
/// support (see nested_outside_support), else n * constant plus the terms
/// `term(lp, i)` adds to lp for each broadcast element i < n. `constant` is
/// the per-element term of no argument (0 with propto); `term` writes the
/// family's terms in the ad:: scalar math and reads elements with `at`.
template <class R, class Fast, class Term, class... A>
R nested_sum(double constant, const Fast& fast, const Term& term, const A&... a) {
  if (nested_outside_support(fast, a...)) return R(kNestedNegInf);
  const std::size_t n = any_size(a...);
  R lp = static_cast<double>(n) * constant;
  for (std::size_t i = 0; i < n; ++i) term(lp, i);
  return lp;
}

}  // namespace nutshell::distributions::detail
