// Small helpers shared by the benchmark programs: a --key=value flag parser,
// the scaled Gaussians used for the d = 10 / 1000 scaling points, and a
// log-density wrapper that counts evaluations.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "nutshell/core/types.hpp"

extern "C" void openblas_set_num_threads(int);

namespace nutshell::bench {
/// OpenBLAS must run single-threaded in the benchmarks (chains are the
/// parallelism, and its idle worker threads spin in sched_yield, stealing one
/// of two cores). It reads OPENBLAS_NUM_THREADS when the library loads, i.e.
/// before main, so if the variable is not 1 this sets it and re-executes the
/// program; call first thing in main. Falls back to openblas_set_num_threads.
inline void ensure_single_threaded_blas(char** argv) {
  const char* v = std::getenv("OPENBLAS_NUM_THREADS");
  if (v == nullptr || std::string_view(v) != "1") {
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);  // returns only on failure
  }
  openblas_set_num_threads(1);
}


/// `--name=value` / `--name value` / `--flag` command-line flags. Unknown
/// names are reported by `unused()` so typos do not go unnoticed.
class Flags {
 public:
  Flags(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        positional_.push_back(a);
        continue;
      }
      a = a.substr(2);
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        values_[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) {
        values_[a] = argv[++i];
      } else {
        values_[a] = "true";
      }
    }
  }
  std::string get(const std::string& name, const std::string& def) {
    used_[name] = true;
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }
  long get_int(const std::string& name, long def) {
    const std::string v = get(name, "");
    return v.empty() ? def : std::strtol(v.c_str(), nullptr, 10);
  }
  double get_double(const std::string& name, double def) {
    const std::string v = get(name, "");
    return v.empty() ? def : std::strtod(v.c_str(), nullptr);
  }
  bool get_bool(const std::string& name, bool def) {
    const std::string v = get(name, "");
    if (v.empty()) return def;
    return v == "true" || v == "1" || v == "yes";
  }
  /// Flags given on the command line but never asked for.
  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : values_)
      if (!used_.count(k)) out.push_back(k);
    return out;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
  std::vector<std::string> positional_;
};

/// Splits "a,b,c" at commas (empty pieces dropped).
inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

/// d independent Gaussians with sds log-spaced from 0.1 to 10: gauss_100's
/// target at any dimension, evaluated by the same loop as
/// posteriors::Gauss100 (so d = 10 / 100 / 1000 differ only in size).
class ScaledGaussian {
 public:
  explicit ScaledGaussian(std::size_t d) : inv_var_(d) {
    log_norm_ = -0.5 * static_cast<double>(d) * std::log(2.0 * std::numbers::pi);
    for (std::size_t i = 0; i < d; ++i) {
      const double t = d > 1 ? static_cast<double>(i) / static_cast<double>(d - 1) : 0.0;
      const double sigma = std::exp(std::log(0.1) + t * (std::log(10.0) - std::log(0.1)));
      inv_var_[i] = 1.0 / (sigma * sigma);
      log_norm_ -= std::log(sigma);
    }
  }
  std::size_t dim() const { return inv_var_.size(); }
  double operator()(const Vec& x, Vec& grad) const {
    const std::size_t n = inv_var_.size();
    const double* xp = x.data();
    const double* iv = inv_var_.data();
    double* g = grad.data();
    double quad = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      g[i] = -xp[i] * iv[i];
      quad += xp[i] * g[i];
    }
    return log_norm_ + 0.5 * quad;
  }

 private:
  std::vector<double> inv_var_;
  double log_norm_ = 0.0;
};

/// Forwards to a log density and counts the calls (every gradient
/// evaluation, step-size searches and initialisation included).
template <class F>
class Counted {
 public:
  explicit Counted(F f) : f_(std::move(f)) {}
  double operator()(const Vec& x, Vec& g) {
    ++count_;
    return f_(x, g);
  }
  std::uint64_t count() const { return count_; }

 private:
  F f_;
  std::uint64_t count_ = 0;
};

}  // namespace nutshell::bench
