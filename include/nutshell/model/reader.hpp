// Reading constrained parameters inside a log density templated on the
// scalar T (double or ad::var).
//
//   model::Reader<T> p(layout, u, scratch, lp);   // constrains all, lp += log|J|
//   T tau = p.scalar("tau");
//   std::span<const T> theta = p.vector("theta");
//   model::MatrixView<T> L = p.matrix("L");       // L(i, j), 0-based
//
// Every parameter is constrained once, eagerly, in the constructor, so the
// log-Jacobian is complete whatever the density reads, and reads are views
// into `scratch` (layout.constrained_size() values owned by the caller and
// reused from call to call: reading allocates nothing). Misuse inside a log
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
  /// into `scratch` (size >= layout.constrained_size()) and adds the total
  /// log-Jacobian to `lp`. Throws std::invalid_argument on wrong sizes.
  Reader(const Layout& layout, std::span<const T> u, std::span<T> scratch, T& lp)
      : layout_(&layout), values_(scratch) {
    if (u.size() != layout.dim())
      throw std::invalid_argument("model::Reader: the point has " + std::to_string(u.size()) +
                                  " coordinates, the layout " + std::to_string(layout.dim()));
    if (scratch.size() < layout.constrained_size())
      throw std::invalid_argument("model::Reader: scratch smaller than layout.constrained_size()");
    for (const Entry& e : layout.entries()) {
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
    const Entry& e = entry(name, 0, "a scalar");
    return values_[e.c_offset];
  }
  /// A vector parameter (also simplex, ordered, unit vector, ...).
  std::span<const T> vector(std::string_view name) const {
    const Entry& e = entry(name, 1, "a vector");
    return std::span<const T>(values_.data() + e.c_offset, e.c_size);
  }
  /// A matrix parameter (also Cholesky correlation factor, covariance).
  MatrixView<T> matrix(std::string_view name) const {
    const Entry& e = entry(name, 2, "a matrix");
    return {values_.data() + e.c_offset, e.param.shape[0], e.param.shape[1]};
  }

 private:
  const Entry& entry(std::string_view name, std::size_t rank, const char* what) const {
    // Inline linear scan, sizes compared first: a model reads a handful of
    // parameters per evaluation, and this runs on every read.
    const Entry* e = nullptr;
    for (const Entry& c : layout_->entries())
      if (c.param.name.size() == name.size() && std::string_view(c.param.name) == name) {
        e = &c;
        break;
      }
    if (e == nullptr)
      throw std::invalid_argument("model::Reader: no parameter named '" + std::string(name) + "'");
    if (e->param.shape.size() != rank)
      throw std::invalid_argument("model::Reader: parameter '" + std::string(name) +
                                  "' is not " + what);
    return *e;
  }

  const Layout* layout_;
  std::span<T> values_;
};

}  // namespace nutshell::model
