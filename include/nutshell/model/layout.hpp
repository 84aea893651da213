// A parameter layout: named, shaped, constrained parameters laid out on one
// flat unconstrained vector, which is what the kernels sample.
//
//   auto layout = model::Layout::create({model::real("mu"), model::positive("tau"),
//                                        model::vector("theta_raw", 8)});
//   layout->dim();                       // 10 unconstrained coordinates
//   layout->names();                     // mu, tau, theta_raw[1], ..., theta_raw[8]
//   layout->unconstrain({{"mu", {0}}, {"tau", {2}}, {"theta_raw", std::vector(8, 0.0)}});
//
// Inside a log density a `Reader` (reader.hpp) gives the constrained values.
// Outside it, the layout maps draws back to named constrained values in
// Stan's order (matrices column-major, as Stan's summary and CSV list them).
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"
#include "nutshell/model/param.hpp"

namespace nutshell::model {

/// Constrained values by parameter name, for initial values: a scalar is
/// one entry, a vector its entries, a matrix its entries row-major.
using Values = std::map<std::string, std::vector<double>, std::less<>>;

/// Draws shaped [chain, draw, dimension], as diagnostics::Draws.
using Draws = xt::xtensor<double, 3>;

/// A parameter and where it sits: `u_offset` on the unconstrained vector,
/// `c_offset` in the constrained scratch (row-major for matrices).
/// `identity`: no constraint, so a `Reader` reads the entry in place from the
/// unconstrained vector (its scratch slots are never written).
struct Entry {
  Param param;
  std::size_t u_offset = 0, u_size = 0;
  std::size_t c_offset = 0, c_size = 0;
  bool identity = false;
};

/// An immutable list of parameter declarations with their offsets.
class Layout {
 public:
  /// Checks the declarations (non-empty, unique names; sound constraint
  /// settings; shapes matching the constraint) and lays them out in order.
  static absl::StatusOr<Layout> create(std::vector<Param> params);

  /// Number of unconstrained coordinates: the dimension the kernels sample.
  std::size_t dim() const { return dim_; }
  /// Number of constrained values (a K x K matrix counts K*K): the scratch
  /// size a `Reader` needs.
  std::size_t constrained_size() const { return constrained_size_; }
  /// True when some parameter has a constraint (a transform to apply and a
  /// log-Jacobian to add); false when every parameter is an unconstrained
  /// real, and a `Reader` then needs no scratch and adds nothing to lp.
  bool constrains() const { return constrains_; }
  /// The parameters in declaration order.
  const std::vector<Entry>& entries() const { return entries_; }
  /// The entry called `name`, or nullptr.
  const Entry* find(std::string_view name) const;

  /// Flattened constrained names in Stan's order with Stan's summary
  /// indexing: `tau`, `theta[3]`, `L[2,1]` (1-based, matrices column-major).
  std::vector<std::string> names() const;
  /// The same in Stan CSV's spelling: `tau`, `theta.3`, `L.2.1`.
  std::vector<std::string> csv_names() const;

  /// One unconstrained draw to its constrained values, ordered as `names()`.
  absl::StatusOr<Vec> constrain(std::span<const double> u) const;
  /// A [chain, draw, dim()] array of unconstrained draws to a
  /// [chain, draw, names().size()] array of constrained ones.
  absl::StatusOr<Draws> constrain_draws(const Draws& draws) const;
  /// Constrained values by name (every parameter, nothing else) to the
  /// unconstrained vector; an error names the parameter that is missing,
  /// misshaped or outside its constraint.
  absl::StatusOr<Vec> unconstrain(const Values& values) const;

 private:
  std::vector<Entry> entries_;
  std::size_t dim_ = 0, constrained_size_ = 0, num_names_ = 0;
  bool constrains_ = false;
};

}  // namespace nutshell::model
