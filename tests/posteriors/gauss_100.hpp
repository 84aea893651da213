// gauss_100: 100 independent Gaussians with scales 0.1..10.
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

/// x[i] ~ N(0, sigma[i]^2) with sigma from data.json; coordinates x[1..N].
/// lp equals Stan's lp__ (all constants). Copies share the data. Evaluation
/// is const and uses no scratch, so one object may serve several threads.
class Gauss100 : public PosteriorBase<Gauss100> {
 public:
  /// Folder name under tests/posteriors/data/.
  static constexpr std::string_view kName = "gauss_100";
  static constexpr bool kDenseMetricAdvised = false;

  /// Reads data.json (N, sigma > 0); `dir` as in `posterior_dir`.
  static absl::StatusOr<Gauss100> load(std::string_view dir = {});

  /// Number of unconstrained coordinates (N).

  std::size_t dim() const { return data_->inv_var.size(); }
  /// x[1], ..., x[N].
  std::vector<std::string> names() const { return indexed_names("x", dim()); }
  /// log p(x); writes -x / sigma^2 into grad.
  double operator()(const Vec& x, Vec& grad) const;

 private:
  struct Data {
    std::vector<double> inv_var;
    double log_norm = 0.0;  // -N/2 log(2 pi) - sum log sigma
  };
  explicit Gauss100(std::shared_ptr<const Data> d) : data_(std::move(d)) {}
  std::shared_ptr<const Data> data_;
};

}  // namespace nutshell::posteriors
