// funnel_10: Neal's funnel, centered (v and N = 9 x's).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"
#include "tests/posteriors/posterior_base.hpp"

namespace nutshell::posteriors {

/// v ~ N(0, 3^2), x[i] ~ N(0, exp(v)); coordinates (v, x[1..N]). lp equals
/// Stan's lp__. Compare samplers with `reference().exact_*`: the Stan run is
/// biased in the neck. Holds only N: copies are trivial, and evaluation is
/// const, so one object may serve several threads.
class Funnel10 : public PosteriorBase<Funnel10> {
 public:
  /// Folder name under tests/posteriors/data/.
  static constexpr std::string_view kName = "funnel_10";
  static constexpr bool kDenseMetricAdvised = false;

  /// Reads data.json (N >= 1); `dir` as in `posterior_dir`.
  static absl::StatusOr<Funnel10> load(std::string_view dir = {});

  /// Number of unconstrained coordinates (N + 1).

  std::size_t dim() const { return n_ + 1; }
  /// v, x[1], ..., x[N].
  std::vector<std::string> names() const;
  /// log p(v, x) and its gradient.
  double operator()(const Vec& u, Vec& grad) const;

 private:
  explicit Funnel10(std::size_t n) : n_(n) {}
  std::size_t n_;
};

}  // namespace nutshell::posteriors
