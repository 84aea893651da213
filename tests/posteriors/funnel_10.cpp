#include "tests/posteriors/funnel_10.hpp"

#include <cmath>
#include <numbers>

#include "tests/posteriors/json_fields.hpp"

namespace nutshell::posteriors {

absl::StatusOr<Funnel10> Funnel10::load(std::string_view dir) {
  auto file = detail::read_posterior_json(kName, "data.json", dir);
  if (!file.ok()) return file.status();
  auto n = detail::get_int(*file, file->value, "N", 1);
  if (!n.ok()) return n.status();
  return Funnel10(static_cast<std::size_t>(*n));
}

std::vector<std::string> Funnel10::names() const {
  std::vector<std::string> out{"v"};
  for (auto& s : indexed_names("x", n_)) out.push_back(std::move(s));
  return out;
}

double Funnel10::operator()(const Vec& u, Vec& grad) const {
  const double half_log_2pi = 0.5 * std::log(2.0 * std::numbers::pi);
  const double n = static_cast<double>(n_);
  const double v = u(0);
  const double prec = std::exp(-v);
  const double* x = u.data() + 1;
  double* gx = grad.data() + 1;
  double ss = 0.0;
  for (std::size_t i = 0; i < n_; ++i) {
    ss += x[i] * x[i];
    gx[i] = -x[i] * prec;
  }
  grad(0) = -v / 9.0 - 0.5 * n + 0.5 * prec * ss;
  return -half_log_2pi - std::log(3.0) - v * v / 18.0 - n * half_log_2pi - 0.5 * n * v -
         0.5 * prec * ss;
}

}  // namespace nutshell::posteriors
