// Conjugate test models with known evidence, split into prior and
// likelihood for tempering, each with a prior sampler.
#pragma once

#include <cmath>
#include <vector>

#include "nutshell/core/key.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::smc::testing {

constexpr double kLog2Pi = 1.8378770664093453;

/// x ~ N(0, prior_sd^2 I) in `dim` dimensions; y_k ~ N(x, noise_sd^2 I).
struct NormalNormal {
  std::size_t dim = 2;
  double prior_sd = 2.0, noise_sd = 1.0;
  std::vector<Vec> data;  // y_k, each of size dim

  static NormalNormal make(std::size_t dim, std::size_t num_obs, std::uint64_t seed) {
    NormalNormal m;
    m.dim = dim;
    Stream s(make_key(seed));
    Vec truth = Vec::from_shape({dim});
    for (double& t : truth) t = 1.5;
    for (std::size_t k = 0; k < num_obs; ++k) {
      Vec y = Vec::from_shape({dim});
      for (std::size_t j = 0; j < dim; ++j) y(j) = truth(j) + m.noise_sd * s.normal();
      m.data.push_back(y);
    }
    return m;
  }
  struct Prior {
    double sd;
    double operator()(const Vec& x, Vec& g) const {
      double lp = 0.0;
      for (std::size_t j = 0; j < x.size(); ++j) {
        lp += -0.5 * x(j) * x(j) / (sd * sd) - std::log(sd) - 0.5 * kLog2Pi;
        g(j) = -x(j) / (sd * sd);
      }
      return lp;
    }
  };
  struct Likelihood {
    const NormalNormal* m;
    double operator()(const Vec& x, Vec& g) const {
      const double s2 = m->noise_sd * m->noise_sd;
      double ll = 0.0;
      for (std::size_t j = 0; j < x.size(); ++j) g(j) = 0.0;
      for (const Vec& y : m->data)
        for (std::size_t j = 0; j < x.size(); ++j) {
          const double r = y(j) - x(j);
          ll += -0.5 * r * r / s2 - std::log(m->noise_sd) - 0.5 * kLog2Pi;
          g(j) += r / s2;
        }
      return ll;
    }
  };
  Prior prior() const { return {prior_sd}; }
  Likelihood likelihood() const { return {this}; }
  Mat prior_draws(const Key& key, std::size_t n) const {
    Mat x = Mat::from_shape({n, dim});
    Stream s(key);
    for (double& v : x) v = prior_sd * s.normal();
    return x;
  }
  /// Posterior mean and sd (the same in every coordinate's formula).
  double posterior_precision() const {
    return 1.0 / (prior_sd * prior_sd) + data.size() / (noise_sd * noise_sd);
  }
  Vec posterior_mean() const {
    Vec mu = xt::zeros<double>({dim});
    for (const Vec& y : data) mu += y;
    return mu / (noise_sd * noise_sd) / posterior_precision();
  }
  /// log Z = log lik(x) + log prior(x) - log posterior(x) at the posterior mean.
  double log_evidence() const {
    const Vec mu = posterior_mean();
    Vec g = Vec::from_shape({dim});
    const double prec = posterior_precision();
    const double log_post = dim * (0.5 * std::log(prec) - 0.5 * kLog2Pi);
    return likelihood()(mu, g) + prior()(mu, g) - log_post;
  }
};

/// theta ~ Beta(a, b), k ~ Binomial(n, theta), sampled as z = logit(theta)
/// with the prior's Jacobian theta (1 - theta).
struct BetaBinomial {
  double a = 2.0, b = 3.0;
  int n = 20, k = 14;

  static double log_beta(double x, double y) { return std::lgamma(x) + std::lgamma(y) - std::lgamma(x + y); }
  static double log_choose(int n, int k) {
    return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
  }
  // log theta and log(1 - theta) at z, stable for large |z|.
  static double log_sigmoid(double z) { return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z)); }

  struct Prior {
    double a, b;
    double operator()(const Vec& z, Vec& g) const {
      const double lt = log_sigmoid(z(0)), l1t = log_sigmoid(-z(0));
      const double theta = std::exp(lt);
      g(0) = a * (1.0 - theta) - b * theta;
      return a * lt + b * l1t - log_beta(a, b);
    }
  };
  struct Likelihood {
    int n, k;
    double operator()(const Vec& z, Vec& g) const {
      const double lt = log_sigmoid(z(0)), l1t = log_sigmoid(-z(0));
      g(0) = k - n * std::exp(lt);
      return log_choose(n, k) + k * lt + (n - k) * l1t;
    }
  };
  Prior prior() const { return {a, b}; }
  Likelihood likelihood() const { return {n, k}; }
  Mat prior_draws(const Key& key, std::size_t num) const {
    Mat z = Mat::from_shape({num, 1});
    for (std::size_t i = 0; i < num; ++i) {
      Stream s(fold_in(key, i));
      z(i, 0) = std::log(s.gamma(a)) - std::log(s.gamma(b));
    }
    return z;
  }
  double log_evidence() const { return log_choose(n, k) + log_beta(a + k, b + n - k) - log_beta(a, b); }
  double posterior_mean_theta() const { return (a + k) / (a + b + n); }
};

}  // namespace nutshell::smc::testing
