// Reading constrained parameters inside a log density templated on the
// scalar T (double or ad::var).
//
//   model::Reader<T> p(layout, u, scratch, lp);   // constrains all, lp += log|J|
//   T tau = p.scalar("tau");
//   std::span<const T> theta = p.vector("theta");
//   model::MatrixView<T> L = p.matrix("L");       // L(i, j), 0-based
//
// Every constrained parameter is constrained once, eagerly, in the
// constructor, so the log-Jacobian is complete whatever the density reads,
// and reads are views into `scratch` (layout.constrained_size() values owned
// by the caller and reused from call to call: reading allocates nothing). An
// unconstrained parameter (no transform) is read in place from `u`: copying
// it into the scratch cost a pass over it on every gradient and bought
// nothing, so its scratch slots are left untouched. Misuse inside a log
// density (an unknown name, a vector read as a scalar) throws
// std::invalid_argument, which the kernels turn into an error status.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "nutshell/ad/matrix_view.hpp"
#include "nutshell/model/layout.hpp"

namespace nutshell::model {

/// A read-only row-major matrix view: the type ad's matrix operations take.
template <class T>
using MatrixView = ad::MatrixView<const T>;

/// Typed constrained views of one unconstrained point.
template <class T>
class Reader {
 public:
  /// The scalar type (double, ad::var, ...), for code that needs to name it.
  using scalar_type = T;

  /// Constrains every parameter of `layout` from `u` (size layout.dim())
  /// into `scratch` (size >= layout.constrained_size(); may be empty when
  /// !layout.constrains()) and adds the total
  /// log-Jacobian to `lp`. Throws std::invalid_argument on wrong sizes.
  Reader(const Layout& layout, std::span<const T> u, std::span<T> scratch, T& lp)
      : layout_(&layout), u_(u.data()), values_(scratch.data()) {
    if (u.size() != layout.dim()) [[unlikely]]
      fail_size(u.size(), layout.dim());
    // A layout without constraints reads everything from u: no scratch needed.
    if (layout.constrains() && scratch.size() < layout.constrained_size()) [[unlikely]]
      fail_size(0, 0);
    if (!layout.constrains()) return;  // every parameter is read in place from u
    for (const Entry& e : layout.entries()) {
      if (e.identity) continue;
      std::visit(
          [&](const auto& t) {
            t.template constrain<T>(u.subspan(e.u_offset, e.u_size),
                                    scratch.subspan(e.c_offset, e.c_size), lp);
          },
          e.param.transform);
    }
  }

  /// A scalar parameter.
  const T& scalar(std::string_view name) const {
    return *data(entry(name, 0, "a scalar"));
  }
  /// A vector parameter (also simplex, ordered, unit vector, ...).
  std::span<const T> vector(std::string_view name) const {
    const Entry& e = entry(name, 1, "a vector");
    return std::span<const T>(data(e), e.c_size);
  }
  /// A matrix parameter (also Cholesky correlation factor, covariance).
  MatrixView<T> matrix(std::string_view name) const {
    const Entry& e = entry(name, 2, "a matrix");
    return {data(e), e.param.shape[0], e.param.shape[1]};
  }

 private:
  // Where an entry's constrained values are: in place in u when it has no
  // transform, else its slots of the scratch.
  const T* data(const Entry& e) const { return e.identity ? u_ + e.u_offset : values_ + e.c_offset; }

  // Names are short (a few characters): compared inline, sizes and first
  // characters first, rather than through a memcmp call (perf: 4 % of
  // funnel_10's gradient).
  static bool same_name(const std::string& a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < b.size(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  }

  // Always inlined, with the throwing paths out of line: the scan is a few
  // instructions for a model's handful of parameters, and it runs on every
  // read (perf showed it as a separate call).
  [[gnu::always_inline]] const Entry& entry(std::string_view name, std::size_t rank,
                                            const char* what) const {
    for (const Entry& c : layout_->entries())
      if (same_name(c.param.name, name)) {
        if (c.param.shape.size() != rank) [[unlikely]]
          fail(name, what);
        return c;
      }
    fail(name, nullptr);
  }

  [[noreturn, gnu::noinline, gnu::cold]] static void fail_size(std::size_t u_size, std::size_t dim) {
    if (u_size != dim)
      throw std::invalid_argument("model::Reader: the point has " + std::to_string(u_size) +
                                  " coordinates, the layout " + std::to_string(dim));
    throw std::invalid_argument("model::Reader: scratch smaller than layout.constrained_size()");
  }

  [[noreturn, gnu::noinline, gnu::cold]] static void fail(std::string_view name, const char* what) {
    if (what == nullptr)
      throw std::invalid_argument("model::Reader: no parameter named '" + std::string(name) + "'");
    throw std::invalid_argument("model::Reader: parameter '" + std::string(name) + "' is not " +
                                what);
  }

  const Layout* layout_;
  const T* u_;
  const T* values_;
};

}  // namespace nutshell::model
