// The reverse-mode scalar `var`, its tape nodes, arithmetic and comparisons,
// and `precomputed`, the node builder other modules use for vectorised ops.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <type_traits>

#include "nutshell/ad/arena.hpp"

namespace nutshell::ad {

/// A tape node: its value, its adjoint, and `chain()`, which adds
/// adjoint * partial to each operand's adjoint. Nodes live in the arena (their
/// `operator new` bumps it) and are never destroyed, only rewound.
struct vari {
  double val_;
  double adj_ = 0.0;
  explicit vari(double v) : val_(v) {}
  virtual void chain() {}
  [[gnu::always_inline]] static void* operator new(std::size_t n) { return tape().arena().allocate(n); }
  static void operator delete(void*) noexcept {}

 protected:
  ~vari() = default;
};

/// A node that is swept: it records itself on the tape when constructed.
struct chain_vari : vari {
  // Always inlined, as operator new: the per-node fixed cost is what a
  // small model's gradient pays for.
  [[gnu::always_inline]] explicit chain_vari(double v) : vari(v) { tape().push(this); }
};

inline void Tape::sweep(Mark m) {
  for (std::size_t i = stack_.size(); i-- > m.nodes;) stack_[i]->chain();
}

/// One operand with its partial, computed at recording time.
struct unary_vari final : chain_vari {
  vari* a;
  double da;
  unary_vari(double v, vari* a_, double da_) : chain_vari(v), a(a_), da(da_) {}
  void chain() override { a->adj_ += adj_ * da; }
};

/// Two operands with their partials.
struct binary_vari final : chain_vari {
  vari *a, *b;
  double da, db;
  binary_vari(double v, vari* a_, vari* b_, double da_, double db_)
      : chain_vari(v), a(a_), b(b_), da(da_), db(db_) {}
  void chain() override {
    a->adj_ += adj_ * da;
    b->adj_ += adj_ * db;
  }
};

/// n operands with their partials, both arrays in the arena.
struct nary_vari final : chain_vari {
  std::size_t n;
  vari** ops;
  const double* d;
  nary_vari(double v, std::size_t n_, vari** ops_, const double* d_)
      : chain_vari(v), n(n_), ops(ops_), d(d_) {}
  void chain() override {
    const double a = adj_;
    for (std::size_t i = 0; i < n; ++i) ops[i]->adj_ += a * d[i];
  }
};

/// The reverse-mode scalar: a handle to a node of this thread's tape. It is
/// valid while the evaluation that created it lasts (`make_logdensity`,
/// `value_and_gradient`, or a `TapeScope`); never keep one across gradients
/// or hand one to another thread.
class var {
 public:
  vari* vi_;
  /// A constant 0.
  var() : vi_(new vari(0.0)) {}
  /// A constant (a leaf of the tape).
  var(double v) : vi_(new vari(v)) {}  // NOLINT: implicit, as Stan's
  explicit var(vari* vi) : vi_(vi) {}
  /// The value.
  double val() const { return vi_->val_; }
  /// The adjoint (d root / d this after a reverse sweep).
  double adj() const { return vi_->adj_; }

  var& operator+=(const var& b);
  var& operator+=(double b);
  var& operator-=(const var& b);
  var& operator-=(double b);
  var& operator*=(const var& b);
  var& operator*=(double b);
  var& operator/=(const var& b);
  var& operator/=(double b);
};

/// True for `var` (the types that record on the tape).
template <class T>
inline constexpr bool is_var_v = std::is_same_v<std::remove_cvref_t<T>, var>;

/// The value of a scalar as a double.
inline double value_of(double x) { return x; }
/// The value of a `var`.
inline double value_of(const var& x) { return x.val(); }

/// A node with one operand and its partial d value / d a.
[[gnu::always_inline]] inline var make_unary(double v, const var& a, double da) {
  return var(new unary_vari(v, a.vi_, da));
}
/// A node with two operands and their partials.
[[gnu::always_inline]] inline var make_binary(double v, const var& a, const var& b, double da, double db) {
  return var(new binary_vari(v, a.vi_, b.vi_, da, db));
}

/// One tape node of value `value` whose adjoint adds adj * partials[i] to
/// operand i (Stan's precomputed_gradients). Operands and partials are copied
/// into the arena, so the spans may be temporaries; allocation-free in steady
/// state. `operands.size()` must equal `partials.size()`.
inline var precomputed(double value, std::span<const var> operands,
                       std::span<const double> partials) {
  const std::size_t n = operands.size();
  vari** ops = arena_alloc<vari*>(n);
  double* d = arena_alloc<double>(n);
  for (std::size_t i = 0; i < n; ++i) {
    ops[i] = operands[i].vi_;
    d[i] = partials[i];
  }
  return var(new nary_vari(value, n, ops, d));
}

namespace detail {
// `n` leaf nodes (not swept) with the given values, contiguous in the arena
// (one bump allocation), and the vars pointing at them.
inline var* arena_leaves(const double* vals, std::size_t n) {
  void* mem = tape().arena().allocate(n * sizeof(vari));
  auto* leaves = static_cast<vari*>(mem);
  var* out = arena_alloc<var>(n);
  for (std::size_t i = 0; i < n; ++i) {
    ::new (static_cast<void*>(leaves + i)) vari(vals[i]);
    out[i] = var(leaves + i);
  }
  return out;
}
}  // namespace detail

/// Runs the reverse sweep from `root` over the nodes recorded after `from`
/// (the mark of the enclosing `TapeScope`): afterwards `x.adj()` is
/// d root / d x for every var x recorded after `from`.
inline void grad(const var& root, Tape::Mark from) {
  root.vi_->adj_ = 1.0;
  tape().sweep(from);
}

// ---- arithmetic ----------------------------------------------------------
// Each operator records one node with its partials (1, -1, the other
// operand's value, ...); the value is computed exactly as for doubles.

/// Unary plus: the same var, no node.
inline var operator+(const var& a) { return a; }
inline var operator-(const var& a) { return make_unary(-a.val(), a, -1.0); }
inline var operator+(const var& a, const var& b) {
  return make_binary(a.val() + b.val(), a, b, 1.0, 1.0);
}
inline var operator+(const var& a, double b) { return make_unary(a.val() + b, a, 1.0); }
inline var operator+(double a, const var& b) { return make_unary(a + b.val(), b, 1.0); }
inline var operator-(const var& a, const var& b) {
  return make_binary(a.val() - b.val(), a, b, 1.0, -1.0);
}
inline var operator-(const var& a, double b) { return make_unary(a.val() - b, a, 1.0); }
inline var operator-(double a, const var& b) { return make_unary(a - b.val(), b, -1.0); }
inline var operator*(const var& a, const var& b) {
  return make_binary(a.val() * b.val(), a, b, b.val(), a.val());
}
inline var operator*(const var& a, double b) { return make_unary(a.val() * b, a, b); }
inline var operator*(double a, const var& b) { return make_unary(a * b.val(), b, a); }
inline var operator/(const var& a, const var& b) {
  const double q = a.val() / b.val();
  return make_binary(q, a, b, 1.0 / b.val(), -q / b.val());
}
inline var operator/(const var& a, double b) { return make_unary(a.val() / b, a, 1.0 / b); }
inline var operator/(double a, const var& b) {
  const double q = a / b.val();
  return make_unary(q, b, -q / b.val());
}

inline var& var::operator+=(const var& b) { return *this = *this + b; }
inline var& var::operator+=(double b) { return *this = *this + b; }
inline var& var::operator-=(const var& b) { return *this = *this - b; }
inline var& var::operator-=(double b) { return *this = *this - b; }
inline var& var::operator*=(const var& b) { return *this = *this * b; }
inline var& var::operator*=(double b) { return *this = *this * b; }
inline var& var::operator/=(const var& b) { return *this = *this / b; }
inline var& var::operator/=(double b) { return *this = *this / b; }

// ---- comparisons, on values ------------------------------------------------
// Comparisons read values only and record nothing (branching on a value is
// how models select a formula; the derivative follows the chosen branch).

#define NUTSHELL_AD_VAR_COMPARE(OP)                                                    \
  inline bool operator OP(const var& a, const var& b) { return a.val() OP b.val(); } \
  inline bool operator OP(const var& a, double b) { return a.val() OP b; }           \
  inline bool operator OP(double a, const var& b) { return a OP b.val(); }
NUTSHELL_AD_VAR_COMPARE(==)
NUTSHELL_AD_VAR_COMPARE(!=)
NUTSHELL_AD_VAR_COMPARE(<)
NUTSHELL_AD_VAR_COMPARE(<=)
NUTSHELL_AD_VAR_COMPARE(>)
NUTSHELL_AD_VAR_COMPARE(>=)
#undef NUTSHELL_AD_VAR_COMPARE

}  // namespace nutshell::ad
