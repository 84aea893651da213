// A benchmark posterior written once (a Spec: its data, its parameter
// declarations and its log density templated on the scalar), made into the
// same interface as the hand-written models of tests/posteriors, so every
// test and validation over those runs on the AD versions unchanged.
//
// A Spec provides kName, kDenseMetricAdvised, `static StatusOr<Spec>
// load(dir)`, `std::vector<model::Param> parameters() const` and
// `template <class P> auto operator()(const P& params) const`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"
#include "nutshell/model/layout.hpp"
#include "nutshell/model/make_model.hpp"
#include "tests/posteriors/posterior_base.hpp"

namespace nutshell::posteriors {

/// The hand-written models' coordinate names: a positive scalar `tau` is
/// sampled as `log_tau`, everything else under its own name.
inline std::vector<std::string> unconstrained_names(const model::Layout& layout) {
  std::vector<std::string> out;
  for (const model::Entry& e : layout.entries()) {
    const bool log_scale = std::holds_alternative<constraints::Lower>(e.param.transform);
    const std::string base = (log_scale ? "log_" : "") + e.param.name;
    if (e.param.shape.empty()) {
      out.push_back(base);
    } else {
      for (auto& s : indexed_names(base, e.u_size)) out.push_back(std::move(s));
    }
  }
  return out;
}

/// A Spec as a posterior of tests/posteriors (see the file comment).
template <class Spec>
class AdPosterior : public PosteriorBase<AdPosterior<Spec>> {
 public:
  static constexpr std::string_view kName = Spec::kName;
  static constexpr bool kDenseMetricAdvised = Spec::kDenseMetricAdvised;

  /// Loads the Spec's data and lays out its parameters.
  static absl::StatusOr<AdPosterior> load(std::string_view dir = {}) {
    auto spec = Spec::load(dir);
    if (!spec.ok()) return spec.status();
    auto layout = model::Layout::create(spec->parameters());
    if (!layout.ok()) return layout.status();
    return AdPosterior(model::make_model(*std::move(layout), *std::move(spec)));
  }

  /// Number of unconstrained coordinates.
  std::size_t dim() const { return model_.dim(); }
  /// The hand-written model's coordinate names.
  std::vector<std::string> names() const { return unconstrained_names(model_.layout()); }
  /// log p(u) and its gradient, by reverse-mode AD.
  double operator()(const Vec& u, Vec& grad) { return model_(u, grad); }
  /// The model (layout, density).
  const model::Model<Spec>& model() const { return model_; }

 private:
  explicit AdPosterior(model::Model<Spec> m) : model_(std::move(m)) {}
  model::Model<Spec> model_;
};

}  // namespace nutshell::posteriors
