// The machinery behind every log density: arguments that are scalars or
// vectors of double, ad::var or ad::dual, broadcast against each other, and
// one tape node per call.
//
// A density computes its value and its partial derivatives in a plain double
// loop, adds each partial with `Partials::add<K>(i, d)` (a no-op unless
// argument K is a var), and returns `Partials::build(value)`: a double when no
// argument is a var, otherwise ONE node (`ad::precomputed`) whose operands are
// every var element of every argument. So `normal_lpdf(y, mu, sigma)` over
// a thousand observations records one node, not thousands, and its partials
// live in the tape's arena (nothing is allocated in steady state). With
// ad::dual arguments (forward mode, first order) the same partials give the
// result's tangent: sum_k d value / d arg_k * tangent_k.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <numbers>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>

#include "nutshell/ad/arena.hpp"
#include "nutshell/ad/dual.hpp"
#include "nutshell/ad/var.hpp"
#include "nutshell/ad/vector_kernels.hpp"
#include "nutshell/distributions/checks.hpp"

namespace nutshell::distributions::detail {

/// True for ad::dual (forward mode over doubles).
template <class A>
inline constexpr bool is_dual_v = std::is_same_v<std::remove_cvref_t<A>, ad::dual>;

/// A scalar argument: an arithmetic type (double, int, ...), ad::var or
/// ad::dual.
template <class A>
concept Scalar = std::is_arithmetic_v<std::remove_cvref_t<A>> || ad::is_var_v<A> || is_dual_v<A>;

/// A vector argument: a contiguous sized range of scalars (std::span,
/// std::vector, std::array, ...).
template <class A>
concept Vector = std::ranges::contiguous_range<const std::remove_cvref_t<A>> &&
                 std::ranges::sized_range<const std::remove_cvref_t<A>> &&
                 Scalar<std::ranges::range_value_t<std::remove_cvref_t<A>>>;

/// An argument of a density.
template <class A>
concept Arg = Scalar<A> || Vector<A>;

template <class A>
struct element {
  using type = std::remove_cvref_t<A>;
};
template <Vector A>
struct element<A> {
  using type = std::remove_cv_t<std::ranges::range_value_t<std::remove_cvref_t<A>>>;
};
/// The element type of an argument (the argument itself for a scalar).
template <class A>
using element_t = typename element<A>::type;

/// True when argument type A carries an autodiff scalar, ad::var or
/// ad::dual (it needs partials).
template <class A>
inline constexpr bool is_var_arg = ad::is_var_v<element_t<A>> || is_dual_v<element_t<A>>;

/// True when argument type A carries ad::var (it records on the tape).
template <class A>
inline constexpr bool is_reverse_arg = ad::is_var_v<element_t<A>>;

/// double, ad::var when any argument carries one, else ad::dual when any
/// argument carries one. var and dual do not mix in one call.
template <class... A>
using return_t = std::conditional_t<(is_reverse_arg<A> || ...), ad::var,
                                    std::conditional_t<(is_var_arg<A> || ...), ad::dual, double>>;

/// Stan's include_summand: a term is kept unless propto is on and none of
/// the arguments it depends on is a var.
template <bool propto, class... A>
inline constexpr bool include = !propto || (is_var_arg<A> || ...);

/// The value of one scalar as a double.
template <class S>
double to_double(const S& x) {
  if constexpr (ad::is_var_v<S> || is_dual_v<S>)
    return x.val();
  else
    return static_cast<double>(x);
}

/// A read-only view of an argument: `val(i)` is element i of a vector or the
/// scalar itself for any i (broadcasting). Whether the argument is a vector
/// is known at compile time, so the densities' loops carry no branch on it.
template <class A>
struct Seq {
  using E = element_t<A>;
  static constexpr bool is_vector = Vector<A>;
  const E* data;
  std::size_t size;
  // For ad::var elements: the values, read once by `seq` (a vector's gathered
  // into the arena, contiguous), so a density's passes over them (check,
  // value and partials) read with unit stride instead of through each
  // element's node.
  const double* vals = nullptr;
  double val(std::size_t i) const {
    const std::size_t k = is_vector ? i : 0;
    if constexpr (ad::is_var_v<E>)
      return vals[k];
    else
      return to_double(data[k]);
  }
  double operator[](std::size_t i) const { return val(i); }
  /// A vector's values as contiguous doubles (double data, or a var
  /// vector's gathered values), else nullptr (scalars, ints, duals).
  const double* contiguous() const {
    if constexpr (!is_vector)
      return nullptr;
    else if constexpr (ad::is_var_v<E>)
      return vals;
    else if constexpr (std::is_same_v<E, double>)
      return data;
    else
      return nullptr;
  }
};

/// The number of elements of an argument (1 for a scalar).
template <class A>
std::size_t arg_size(const A& a) {
  if constexpr (Vector<A>)
    return std::ranges::size(a);
  else
    return 1;
}

/// The elements of an argument (the scalar itself for a scalar).
template <class A>
const element_t<A>* arg_data(const A& a) {
  if constexpr (Vector<A>)
    return std::ranges::data(a);
  else
    return &a;
}

template <class A>
Seq<A> seq(const A& a) {
  Seq<A> s{arg_data(a), arg_size(a)};
  if constexpr (ad::is_var_v<element_t<A>>) {
    if constexpr (Vector<A>) {
      double* v = ad::arena_alloc<double>(s.size);
      for (std::size_t i = 0; i < s.size; ++i) v[i] = s.data[i].vi_->val_;
      s.vals = v;
    } else {
      s.vals = &a.vi_->val_;
    }
  }
  return s;
}

/// The common length of the vector arguments (1 when all are scalars, 0 when
/// a vector is empty); throws std::invalid_argument when two vectors differ.
template <class... A>
std::size_t broadcast_size(const char* fn, const Seq<A>&... s) {
  std::size_t n = 1;
  bool any_vector = false, mismatch = false;
  auto visit = [&](auto const& x) {
    if (!x.is_vector) return;
    if (!any_vector) n = x.size;
    else if (x.size != n) mismatch = true;
    any_vector = true;
  };
  (visit(s), ...);
  if (mismatch) throw_size(fn, "vector arguments must have the same length");
  return n;
}

/// Applies `check(name-less value)` to every element of an argument.
template <class A, class F>
void for_each_value(const Seq<A>& s, F&& check) {
  for (std::size_t i = 0; i < s.size; ++i) check(s.val(i));
}

/// sum_i log(s[i]) over the first n elements of a checked positive
/// argument: the mantissas are multiplied in blocks of 16 (each in [1, 2),
/// so a block stays below 2^16) and the exponents summed, one log per block
/// instead of one per element (data scales are logged on every call).
/// Subnormal or infinite values take the plain log.
template <class A>
double sum_log(const Seq<A>& s, std::size_t n) {
  double total = 0.0;
  std::size_t i = 0;
  while (i < n) {
    const std::size_t end = std::min(n, i + 16);
    double m = 1.0;
    std::int64_t e = 0;
    for (; i < end; ++i) {
      const double x = s[i];
      const auto bits = std::bit_cast<std::uint64_t>(x);
      const auto ex = static_cast<std::int64_t>((bits >> 52) & 0x7ff);
      if (ex == 0 || ex == 0x7ff) {
        total += std::log(x);
        continue;
      }
      e += ex - 1023;
      m *= std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
    }
    total += std::log(m) + static_cast<double>(e) * std::numbers::ln2;
  }
  return total;
}

/// The partials of one call, and the node (or double) it returns.
template <class... A>
class Partials {
 public:
  static constexpr std::size_t kArgs = sizeof...(A);
  static constexpr std::array<bool, kArgs> kVar{is_var_arg<A>...};
  static constexpr std::array<bool, kArgs> kVec{Vector<A>...};
  static constexpr bool kAnyVar = (is_var_arg<A> || ...);
  static constexpr bool kAnyVec = (Vector<A> || ...);
  static constexpr bool kAnyReverse = (is_reverse_arg<A> || ...);
  static_assert(!kAnyReverse || ((is_reverse_arg<A> || !is_var_arg<A>) && ...),
                "ad::var and ad::dual arguments do not mix in one call");

  explicit Partials(const A&... args) {
    std::size_t k = 0;
    auto visit = [&](auto const& a) {
      off_[k] = total_;
      if (kVar[k]) total_ += arg_size(a);
      ++k;
    };
    (visit(args), ...);
    if constexpr (kAnyVar) {
      d_ = ad::arena_alloc<double>(total_);
      if constexpr (kAnyVec) {
        std::fill(d_, d_ + total_, 0.0);
      } else {
        // Scalars only (a prior): at most kArgs partials, zeroed inline
        // rather than through a memset call.
        for (std::size_t j = 0; j < kArgs; ++j)
          if (j < total_) d_[j] = 0.0;
      }
    }
  }

  /// Adds `v` to d value / d (argument K, element i); element i of a scalar
  /// argument is the scalar itself, so its partial sums over the broadcast.
  template <std::size_t K>
  void add(std::size_t i, double v) {
    if constexpr (kVar[K]) d_[offset<K>() + (kVec[K] ? i : 0)] += v;
  }

  /// True when argument K needs its partials (lets a density skip work).
  template <std::size_t K>
  static constexpr bool needs() {
    return kVar[K];
  }

  /// The result: `value` as a double, or one tape node over every var
  /// element of `args` (the same arguments, in the same order).
  return_t<A...> build(double value, const A&... args) const {
    if constexpr (!kAnyVar) {
      return value;
    } else if constexpr (!kAnyReverse) {
      // Forward mode: the tangent is the partials times the arguments' tangents.
      double tangent = 0.0;
      std::size_t pos = 0;
      auto append = [&](auto const& a) {
        using T = std::remove_cvref_t<decltype(a)>;
        if constexpr (is_var_arg<T>) {
          const auto* data = arg_data(a);
          for (std::size_t i = 0, m = arg_size(a); i < m; ++i) tangent += d_[pos++] * data[i].d_;
        }
      };
      (append(args), ...);
      return ad::dual(value, tangent);
    } else {
      // One operand (a scalar density): a unary node, no operand arrays.
      if (total_ == 1) {
        const ad::var* only = nullptr;
        auto first = [&](auto const& a) {
          using T = std::remove_cvref_t<decltype(a)>;
          if constexpr (is_var_arg<T>)
            if (!only && arg_size(a) > 0) only = arg_data(a);
        };
        (first(args), ...);
        return ad::make_unary(value, *only, d_[0]);
      }
      // The partials already live in the arena: the node points at them
      // (Stan's precomputed_gradients without the copy).
      ad::vari** ops = ad::arena_alloc<ad::vari*>(total_);
      std::size_t pos = 0;
      auto append = [&](auto const& a) {
        using T = std::remove_cvref_t<decltype(a)>;
        if constexpr (is_var_arg<T>) {
          // A var is its node pointer: the operands are a plain copy.
          static_assert(sizeof(ad::var) == sizeof(ad::vari*) && std::is_trivially_copyable_v<ad::var>);
          const std::size_t m = arg_size(a);
          if (m) std::memcpy(ops + pos, arg_data(a), m * sizeof(ad::vari*));
          pos += m;
        }
      };
      (append(args), ...);
      return ad::var(new ad::nary_vari(value, total_, ops, d_));
    }
  }

 private:
  // The offset of argument K's partials: 0 at compile time when no earlier
  // argument is a var (the common case: the first var argument).
  template <std::size_t K>
  std::size_t offset() const {
    constexpr bool earlier = [] {
      for (std::size_t j = 0; j < K; ++j)
        if (kVar[j]) return true;
      return false;
    }();
    if constexpr (earlier)
      return off_[K];
    else
      return 0;
  }

  std::array<std::size_t, kArgs> off_{};
  std::size_t total_ = 0;
  double* d_ = nullptr;
};

/// A constant result (no dependence on any argument): for -infinity outside
/// the support, and for 0 when propto drops every term.
template <class... A>
return_t<A...> constant(double value) {
  return return_t<A...>(value);
}

}  // namespace nutshell::distributions::detail
