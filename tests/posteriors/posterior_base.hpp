// What every benchmark posterior offers besides its log density: starting
// points, its reference summaries, and a metric hint. Mixed in by CRTP so each
// model class spells out only its density.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"
#include "tests/posteriors/reference.hpp"

namespace nutshell::posteriors {

/// Stan-style names `base[1]`, ..., `base[n]` (1-based, as in reference.json).
inline std::vector<std::string> indexed_names(std::string_view base, std::size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 1; i <= n; ++i)
    out.push_back(std::string(base) + "[" + std::to_string(i) + "]");
  return out;
}

/// Mixin for a model `M` that provides `dim()`, `names()`, `M::kName` (its
/// folder name) and `M::kDenseMetricAdvised` (what its README says).
template <class M>
class PosteriorBase {
 public:
  /// The origin of the unconstrained space: finite for every model here.
  Vec initial_point() const { return xt::zeros<double>({self().dim()}); }

  /// Stan's default initialisation: each unconstrained coordinate uniform on
  /// (-radius, radius). Different keys give the chains dispersed starts.
  Vec initial_point(const Key& key, double radius = 2.0) const {
    Vec x = Vec::from_shape({self().dim()});
    Stream draws(key);
    for (double& xi : x) xi = radius * (2.0 * draws.uniform() - 1.0);
    return x;
  }

  /// reference.json arranged in this model's coordinate order (see
  /// `Reference`); `dir` as in `posterior_dir`.
  absl::StatusOr<Reference> reference(std::string_view dir = {}) const {
    return load_reference(M::kName, self().names(), dir);
  }

  /// Whether the README advises a dense metric (only corr_gauss_50 does).
  static constexpr bool dense_metric_advised() { return M::kDenseMetricAdvised; }

 private:
  const M& self() const { return static_cast<const M&>(*this); }
};

}  // namespace nutshell::posteriors
