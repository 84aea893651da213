// Argument checks shared by the log densities and the random draws.
//
// Convention (Stan's): an invalid *parameter* of a distribution (a scale
// <= 0, a probability outside [0, 1], a NaN) throws std::domain_error,
// which the samplers treat as a rejected proposal; a *variate* outside the
// support (y < 0 under a gamma, a count above the number of trials) is not an
// error, its log density is -infinity.
#pragma once

#include <cmath>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

namespace nutshell::distributions::detail {

/// Throws std::domain_error "fn: name is value, but must ...".
[[noreturn]] inline void throw_domain(const char* fn, const char* name, double value,
                                      const char* must) {
  std::ostringstream msg;
  msg.precision(17);
  msg << fn << ": " << name << " is " << value << ", but " << must;
  throw std::domain_error(msg.str());
}

/// Throws std::invalid_argument for a programming error (mismatched sizes).
[[noreturn]] inline void throw_size(const char* fn, const std::string& what) {
  throw std::invalid_argument(std::string(fn) + ": " + what);
}

inline void check_finite(const char* fn, const char* name, double x) {
  if (!std::isfinite(x)) throw_domain(fn, name, x, "must be finite");
}
inline void check_not_nan(const char* fn, const char* name, double x) {
  if (std::isnan(x)) throw_domain(fn, name, x, "must not be NaN");
}
inline void check_positive_finite(const char* fn, const char* name, double x) {
  if (!(x > 0.0) || !std::isfinite(x)) throw_domain(fn, name, x, "must be positive and finite");
}
inline void check_nonnegative_finite(const char* fn, const char* name, double x) {
  if (!(x >= 0.0) || !std::isfinite(x)) throw_domain(fn, name, x, "must be non-negative and finite");
}
inline void check_probability(const char* fn, const char* name, double x) {
  if (!(x >= 0.0 && x <= 1.0)) throw_domain(fn, name, x, "must be in [0, 1]");
}
inline void check_nonnegative_count(const char* fn, const char* name, long long n) {
  if (n < 0) throw_domain(fn, name, static_cast<double>(n), "must be non-negative");
}

/// Throws unless `theta` is a non-empty simplex: entries in [0, 1] summing
/// to 1 within 1e-8.
template <class Range, class Value>
void check_simplex(const char* fn, const Range& theta, Value value) {
  if (std::size(theta) == 0) throw_size(fn, "the probability vector is empty");
  double total = 0.0;
  for (const auto& t : theta) {
    check_probability(fn, "a probability", value(t));
    total += value(t);
  }
  if (!(std::abs(total - 1.0) <= 1e-8)) throw_domain(fn, "the sum of the probabilities", total, "must be 1");
}
template <class Range>
void check_simplex(const char* fn, const Range& theta) {
  check_simplex(fn, theta, [](double t) { return t; });
}

}  // namespace nutshell::distributions::detail
