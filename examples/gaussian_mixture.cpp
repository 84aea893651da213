// A Gaussian mixture: Gibbs on the discrete assignments and the weights,
// NUTS on the means and scales.
//
//   bazel run //examples:gaussian_mixture
//
// Data x_1..x_n come from K Gaussians. Each point has a latent assignment
// z_i in {0, ..., K-1}:
//
//   w ~ Dirichlet(1, ..., 1),  mu_k ~ N(0, 10),  log sigma_k ~ N(0, 1),
//   z_i ~ Categorical(w),  x_i ~ N(mu_{z_i}, sigma_{z_i}).
//
// Given everything else, each z_i is a categorical draw and w a Dirichlet
// draw: exact Gibbs updates. The means and scales are continuous and
// correlated with each other, which is where NUTS shines. One transition of
// the mixed kernel draws z, then w, then moves (mu, log sigma) by NUTS.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <span>
#include <vector>

#include "examples/cli.hpp"
#include "examples/output.hpp"
#include "examples/same_gradient.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/compose/mixed.hpp"
#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/model/conditional.hpp"
#include "nutshell/run/sample_mixed.hpp"

using nutshell::Key;
using nutshell::Vec;

constexpr int K = 3;
constexpr std::array<double, K> kTrueWeight = {0.3, 0.4, 0.3};
constexpr std::array<double, K> kTrueMean = {-4.0, 0.0, 5.0};
constexpr std::array<double, K> kTrueSd = {1.0, 0.6, 1.5};

// ---------------------------------------------------------------------------
// 1. Simulated data.
std::vector<double> simulate(std::size_t n, const Key& key) {
  nutshell::Stream rng(key);
  std::vector<double> x(n);
  for (double& xi : x) {
    const double u = rng.uniform();
    const int k = u < kTrueWeight[0] ? 0 : (u < kTrueWeight[0] + kTrueWeight[1] ? 1 : 2);
    xi = kTrueMean[k] + kTrueSd[k] * rng.normal();
  }
  return x;
}

// ---------------------------------------------------------------------------
// 2. The blocks. The continuous block is u = (mu_0..mu_{K-1}, log
// sigma_0..log sigma_{K-1}); the others are the assignments and the weights.
struct Blocks {
  std::vector<int> z;
  Vec w;
};

// The continuous block written once: named parameters (sigma > 0, sampled
// as log sigma with its log-Jacobian added by the layout), the
// distributions, and reverse-mode autodiff for the gradient. The points of each component are
// gathered into the autodiff arena (no heap allocation), so the likelihood
// is K calls of normal_lpdf: K tape nodes.
absl::StatusOr<nutshell::model::Layout> mixture_layout() {
  namespace model = nutshell::model;
  return model::Layout::create({model::vector("mu", K), model::positive("sigma", K)});
}

struct MixtureModel {
  std::vector<double> x;

  template <class Params>
  auto operator()(const Params& p, const Blocks& b) const {
    namespace ad = nutshell::ad;
    namespace dist = nutshell::distributions;
    const auto mu = p.vector("mu");
    const auto sigma = p.vector("sigma");
    auto lp = dist::normal_lpdf(mu, 0.0, 10.0) + dist::lognormal_lpdf(sigma, 0.0, 1.0);
    const std::span<double> xk = ad::arena_vector<double>(x.size());
    for (int k = 0; k < K; ++k) {
      std::size_t n = 0;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (b.z[i] == k) xk[n++] = x[i];
      lp += dist::normal_lpdf(xk.first(n), mu[k], sigma[k]);
    }
    return lp;
  }
};

// The same conditional density by hand: the zero-overhead option (pass it
// to `sample` instead), and the Gibbs draws of z and w.
struct Mixture {
  std::vector<double> x;

  // log p(u | z) and its gradient, u = (mu, log sigma). Only the points
  // assigned to component k inform (mu_k, sigma_k), through their count,
  // sum and sum of squares.
  double operator()(const Vec& u, Vec& grad, const Blocks& b) const {
    std::array<double, K> n{}, s1{}, s2{};
    for (std::size_t i = 0; i < x.size(); ++i) {
      n[b.z[i]] += 1;
      s1[b.z[i]] += x[i];
      s2[b.z[i]] += x[i] * x[i];
    }
    double lp = 0.0;
    for (int k = 0; k < K; ++k) {
      const double mu = u(k), log_sigma = u(K + k), var = std::exp(2 * log_sigma);
      const double sq = s2[k] - 2 * mu * s1[k] + n[k] * mu * mu;  // sum of (x_i - mu)^2
      lp += -mu * mu / 200.0 - 0.5 * log_sigma * log_sigma;       // priors
      lp += -n[k] * log_sigma - 0.5 * sq / var;                   // likelihood
      grad(k) = -mu / 100.0 + (s1[k] - n[k] * mu) / var;
      grad(K + k) = -log_sigma - n[k] + sq / var;
    }
    return lp;
  }

  // z_i | u, w: proportional to w_k N(x_i | mu_k, sigma_k); point i uses its
  // own key fold_in(key, i).
  std::vector<int> draw_z(const Key& key, const Vec& u, const Blocks& b) const {
    std::vector<int> z(x.size());
    std::array<double, K> logits;
    for (std::size_t i = 0; i < x.size(); ++i) {
      for (int k = 0; k < K; ++k) {
        const double d = (x[i] - u(k)) / std::exp(u(K + k));
        logits[k] = std::log(b.w(k)) - u(K + k) - 0.5 * d * d;
      }
      z[i] = static_cast<int>(nutshell::categorical_logits(nutshell::fold_in(key, i), logits));
    }
    return z;
  }

  // w | z ~ Dirichlet(1 + counts), as normalised Gamma draws.
  static Vec draw_w(const Key& key, const Vec&, const Blocks& b) {
    std::array<double, K> count{};
    for (int zi : b.z) count[zi] += 1;
    nutshell::Stream rng(key);
    Vec w = Vec::from_shape({K});
    double total = 0.0;
    for (int k = 0; k < K; ++k) total += (w(k) = rng.gamma(1.0 + count[k]));
    return w / total;
  }
};

int main(int argc, char** argv) {
  const long chains = examples::int_flag(argc, argv, "--chains", 4);
  const long warmup = examples::int_flag(argc, argv, "--warmup", 500);
  const long samples = examples::int_flag(argc, argv, "--samples", 1000);
  const Key key = nutshell::make_key(static_cast<std::uint64_t>(examples::int_flag(argc, argv, "--seed", 5)));

  const Mixture model{simulate(300, nutshell::split_one(key, 0))};
  auto layout = mixture_layout();
  if (!layout.ok()) {
    std::cerr << "bad model: " << layout.status() << "\n";
    return 1;
  }
  const auto written_once = nutshell::model::make_conditional_model<Blocks>(*layout, MixtureModel{model.x});

  // -------------------------------------------------------------------------
  // 3. The mixed kernel: z, then w, then NUTS on (mu, log sigma).
  auto kernel = nutshell::mixed::build_kernel<Blocks>(
      nutshell::nuts::build_kernel(),
      nutshell::mixed::gibbs(&Blocks::z,
                             [model](const Key& k, const Vec& u, const Blocks& b) {
                               return model.draw_z(k, u, b);
                             }),
      nutshell::mixed::gibbs(&Blocks::w, &Mixture::draw_w));

  // -------------------------------------------------------------------------
  // 4. Where to start. Mixtures have K! equivalent labellings; starting the
  // means at spread-out data quantiles, in increasing order, keeps every
  // chain in the same labelling (the components are well separated, so a
  // chain never switches labels by itself).
  std::vector<double> sorted = model.x;
  std::sort(sorted.begin(), sorted.end());
  Vec u0 = Vec::from_shape({2 * K});
  Blocks b0{std::vector<int>(model.x.size(), 0), Vec::from_shape({K})};
  for (int k = 0; k < K; ++k) {
    u0(k) = sorted[(2 * k + 1) * sorted.size() / (2 * K)];
    u0(K + k) = 0.0;
    b0.w(k) = 1.0 / K;
  }

  // -------------------------------------------------------------------------
  // 5. One call: chains on threads, each adapting NUTS inside the sweeps,
  // then sampling; sigma and w are kept at every draw for the summary.
  nutshell::SampleOptions options;
  options.num_chains = static_cast<std::size_t>(chains);
  options.num_warmup = static_cast<std::size_t>(warmup);
  options.num_samples = static_cast<std::size_t>(samples);
  options.init_radius = 0.0;  // every chain in the labelling of section 4
  std::vector<std::string> kept;
  for (int k = 0; k < K; ++k) options.names.push_back("mu[" + std::to_string(k) + "]");
  for (int k = 0; k < K; ++k) options.names.push_back("log_sigma[" + std::to_string(k) + "]");
  for (const char* p : {"sigma", "w"})
    for (int k = 0; k < K; ++k) kept.push_back(std::string(p) + "[" + std::to_string(k) + "]");
  auto starts = nutshell::mixed_starts(u0, b0).keep(kept, [](const Vec& u, const Blocks& b) {
    Vec row = Vec::from_shape({2 * K});
    for (int k = 0; k < K; ++k) {
      row(k) = std::exp(u(K + k));
      row(K + k) = b.w(k);
    }
    return row;
  });
  auto draws = nutshell::sample(nutshell::split_one(key, 1), kernel, written_once, starts, options);
  if (!draws.ok()) {
    std::cerr << draws.status() << "\n";
    return 1;
  }
  if (!draws->status.ok()) std::cerr << draws->status << "\n";  // some chains failed
  if (!draws->summary.ok()) {
    std::cerr << draws->summary.status() << "\n";
    return 1;
  }

  // -------------------------------------------------------------------------
  // 6. The summary (divergences counted by the library, warnings under it),
  // and the truth next to it.
  std::cout << *draws->summary << "\n";
  // With --output DIR: Stan CSV, netCDF and the HTML report of the kept
  // quantities (draws only: a Gibbs sweep has no per-draw sampler statistics).
  if (const auto output = examples::string_flag(argc, argv, "--output", ""); !output.empty()) {
    std::vector<nutshell::io::Parameter> columns;
    for (const auto& n : draws->derived_names) columns.push_back({n, {}});
    auto files = examples::plain_run(draws->derived, columns, "gaussian_mixture", "mixed", options.num_warmup);
    if (examples::write_outputs(files, output, "gaussian_mixture") != 0) return 1;
  }
  const auto& rows = draws->summary->rows;  // mu, log_sigma, sigma, w
  bool ok = draws->status.ok();
  std::printf("%-8s %7s %7s %7s\n", "", "true", "mean", "sd");
  for (int j = 0; j < 3 * K; ++j) {
    const double truth = j < K ? kTrueMean[j] : (j < 2 * K ? kTrueSd[j - K] : kTrueWeight[j - 2 * K]);
    const auto& row = rows[j < K ? j : j + K];
    std::printf("%-8s %7.2f %7.2f %7.2f\n", row.name.c_str(), truth, row.mean, row.sd);
    ok = ok && std::abs(row.mean - truth) < 4.0 * row.sd && row.rhat < 1.05;
  }
  if (examples::has_flag(argc, argv, "--check")) {
    // The model written once and the one by hand: the same density and
    // gradient at a few points and assignments (one leaves a component empty).
    std::vector<Vec> points;
    for (double a : {-1.0, 0.5})
      for (double c : {-0.7, 0.0, 0.9}) {
        Vec u = Vec::from_shape({2 * K});
        for (int k = 0; k < K; ++k) u(k) = a * (k + 1) + c, u(K + k) = c - 0.3 * k;
        points.push_back(u);
      }
    for (int empty : {-1, 2}) {
      Blocks blocks = b0;
      for (std::size_t i = 0; i < blocks.z.size(); ++i) blocks.z[i] = static_cast<int>(i % (empty < 0 ? K : K - 1));
      ok = examples::same_gradient([&](const Vec& u, Vec& g) { return written_once(u, g, blocks); },
                                   [&](const Vec& u, Vec& g) { return model(u, g, blocks); }, points) &&
           ok;
    }
    std::printf("check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
