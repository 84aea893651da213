// eight_schools_nc: the eight schools model, non-centered.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"
#include "tests/posteriors/posterior_base.hpp"

namespace nutshell::posteriors {

/// mu ~ N(0, 5), tau ~ half-Cauchy(0, 5), theta_raw ~ N(0, 1),
/// y[j] ~ N(mu + tau theta_raw[j], sigma[j]). Coordinates
/// (mu, log_tau, theta_raw[1..J]); lp equals Stan's lp__ (Jacobian included,
/// half-Cauchy's log 2 not). Copies share the data; evaluation is const and
/// uses no scratch, so one object may serve several threads.
class EightSchoolsNc : public PosteriorBase<EightSchoolsNc> {
 public:
  /// Folder name under tests/posteriors/data/.
  static constexpr std::string_view kName = "eight_schools_nc";
  static constexpr bool kDenseMetricAdvised = false;

  /// Reads data.json (J, y, sigma > 0); `dir` as in `posterior_dir`.
  static absl::StatusOr<EightSchoolsNc> load(std::string_view dir = {});

  /// Number of unconstrained coordinates (J + 2).

  std::size_t dim() const { return data_->y.size() + 2; }
  /// mu, log_tau, theta_raw[1], ..., theta_raw[J].
  std::vector<std::string> names() const;
  /// log p(u) and its gradient.
  double operator()(const Vec& u, Vec& grad) const;

 private:
  struct Data {
    std::vector<double> y, inv_var;
    double log_norm = 0.0;  // every constant of lp__, summed once
  };
  explicit EightSchoolsNc(std::shared_ptr<const Data> d) : data_(std::move(d)) {}
  std::shared_ptr<const Data> data_;
};

}  // namespace nutshell::posteriors
