#include "tests/support/gaussian.hpp"

#include <cmath>
#include <utility>

#include <xtensor-blas/xlinalg.hpp>

namespace nutshell::testing {

Gaussian::Gaussian(Vec mean, Mat covariance)
    : mean_(std::move(mean)), cov_(std::move(covariance)) {
  precision_ = xt::linalg::inv(cov_);
  log_norm_ = -0.5 * static_cast<double>(mean_.size()) * std::log(2.0 * M_PI) -
              0.5 * std::log(xt::linalg::det(cov_));
  diff_ = Vec::from_shape({mean_.size()});
  scratch_grad_ = Vec::from_shape({mean_.size()});
}

}  // namespace nutshell::testing
