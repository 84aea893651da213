// A zero-inflated Poisson with latent indicators: NUTS on the two
// continuous parameters, an exact Gibbs draw of which zeros are structural,
// in one `sample` call.
//
//   bazel run //examples:zero_inflated_poisson
//
// Counts y_i are 0 with probability pi (a "structural" zero: a site never
// visited, a machine switched off) and Poisson(lambda) otherwise:
//
//   pi ~ Beta(1, 1),  lambda ~ Gamma(2, 1),  z_i ~ Bernoulli(pi),
//   y_i = 0 if z_i = 1,  y_i ~ Poisson(lambda) if z_i = 0.
//
// Given the indicators z the continuous block (a, v) = (logit pi, log
// lambda) has a closed-form log density (below); given (pi, lambda) each
// z_i is an exact Bernoulli draw: 0 when y_i > 0, else 1 with probability
// pi / (pi + (1 - pi) e^-lambda). `mixed` sweeps the two and `sample` runs
// the chains, adapts NUTS inside the sweeps, counts divergences and warns.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <span>
#include <vector>

#include "examples/cli.hpp"
#include "examples/same_gradient.hpp"
#include "nutshell/ad/ad.hpp"
#include "nutshell/compose/mixed.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/distributions/continuous_positive.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/model/conditional.hpp"
#include "nutshell/run/sample_mixed.hpp"

using nutshell::Key;
using nutshell::Vec;

constexpr int kN = 300;
constexpr double kTruePi = 0.3, kTrueLambda = 2.5;

// ---------------------------------------------------------------------------
// 1. Simulated counts.
std::vector<int> simulate(const Key& key) {
  nutshell::Stream rng(key);
  std::vector<int> y(kN);
  for (int& yi : y) {
    if (rng.uniform() < kTruePi) {
      yi = 0;
      continue;
    }
    const double limit = std::exp(-kTrueLambda);  // Knuth's method
    int k = 0;
    for (double p = rng.uniform(); p > limit; p *= rng.uniform()) ++k;
    yi = k;
  }
  return y;
}

// ---------------------------------------------------------------------------
// 2. The blocks: the indicators are the other block.
struct Latent {
  std::vector<int> z;  // 1: structural zero
};

// The continuous block written once: pi in (0, 1) and lambda > 0 (the
// layout samples logit pi and log lambda and adds their log-Jacobians), the
// distributions, and reverse-mode autodiff for the gradient. The counts of
// the non-structural points are gathered into the autodiff arena (no heap
// allocation).
absl::StatusOr<nutshell::model::Layout> zip_layout() {
  namespace model = nutshell::model;
  return model::Layout::create({model::interval("pi", 0.0, 1.0), model::positive("lambda")});
}

struct ZeroInflatedPoisson {
  std::vector<int> y;

  template <class Params>
  auto operator()(const Params& p, const Latent& l) const {
    namespace dist = nutshell::distributions;
    const auto& pi = p.scalar("pi");
    const auto& lambda = p.scalar("lambda");
    const std::span<int> counts = nutshell::ad::arena_vector<int>(y.size());
    std::size_t n = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (l.z[i] == 0) counts[n++] = y[i];
    return dist::beta_lpdf(pi, 1.0, 1.0) + dist::gamma_lpdf(lambda, 2.0, 1.0) +
           dist::bernoulli_lpmf(l.z, pi) + dist::poisson_lpmf(counts.first(n), lambda);
  }
};

// The same conditional density by hand: the zero-overhead option (pass it
// to `sample` instead), and the Gibbs draw of z.
double log_sigmoid(double a) { return a >= 0 ? -std::log1p(std::exp(-a)) : a - std::log1p(std::exp(a)); }

struct Model {
  std::vector<int> y;
  double total = 0.0;  // sum of y

  explicit Model(std::vector<int> counts) : y(std::move(counts)) {
    for (int v : y) total += v;
  }

  // log p(a, v | z) with a = logit pi, v = log lambda (Jacobians included).
  double operator()(const Vec& u, Vec& grad, const Latent& l) const {
    double zeros = 0.0;
    for (int zi : l.z) zeros += zi;
    const double a = u(0), v = u(1), n = static_cast<double>(y.size());
    const double pi = std::exp(log_sigmoid(a)), lambda = std::exp(v);
    grad(0) = (zeros + 1.0) * (1.0 - pi) - (n - zeros + 1.0) * pi;
    grad(1) = (total + 2.0) - (n - zeros + 1.0) * lambda;
    return (zeros + 1.0) * log_sigmoid(a) + (n - zeros + 1.0) * log_sigmoid(-a) +
           (total + 2.0) * v - (n - zeros + 1.0) * lambda;
  }

  // z | pi, lambda: each zero is structural with probability
  // pi / (pi + (1 - pi) e^-lambda); point i uses its own key.
  std::vector<int> draw_z(const Key& key, const Vec& u) const {
    const double pi = std::exp(log_sigmoid(u(0))), lambda = std::exp(u(1));
    const double p = pi / (pi + (1.0 - pi) * std::exp(-lambda));
    std::vector<int> z(y.size(), 0);
    for (std::size_t i = 0; i < y.size(); ++i)
      if (y[i] == 0) z[i] = nutshell::Stream(nutshell::fold_in(key, i)).uniform() < p ? 1 : 0;
    return z;
  }
};

int main(int argc, char** argv) {
  const long chains = examples::int_flag(argc, argv, "--chains", 4);
  const long warmup = examples::int_flag(argc, argv, "--warmup", 1000);
  const long samples = examples::int_flag(argc, argv, "--samples", 1000);
  const Key key = nutshell::make_key(static_cast<std::uint64_t>(examples::int_flag(argc, argv, "--seed", 7)));
  const Model model(simulate(nutshell::split_one(key, 0)));
  auto layout = zip_layout();
  if (!layout.ok()) {
    std::cerr << "bad model: " << layout.status() << "\n";
    return 1;
  }
  const auto written_once =
      nutshell::model::make_conditional_model<Latent>(*layout, ZeroInflatedPoisson{model.y});

  // -------------------------------------------------------------------------
  // 3. Gibbs on z, then NUTS on (logit pi, log lambda).
  auto kernel = nutshell::mixed::build_kernel<Latent>(
      nutshell::nuts::build_kernel(),
      nutshell::mixed::gibbs(&Latent::z, [&model](const Key& k, const Vec& u, const Latent&) {
        return model.draw_z(k, u);
      }));

  // -------------------------------------------------------------------------
  // 4. One call. Every chain starts with (a, v) uniform in (-2, 2) (Stan's
  // rule) and every zero marked structural; pi, lambda and the number of
  // structural zeros are kept for the summary.
  nutshell::SampleOptions options;
  options.num_chains = static_cast<std::size_t>(chains);
  options.num_warmup = static_cast<std::size_t>(warmup);
  options.num_samples = static_cast<std::size_t>(samples);
  options.names = {"logit_pi", "log_lambda"};
  Latent start;
  for (int yi : model.y) start.z.push_back(yi == 0 ? 1 : 0);
  auto starts = nutshell::mixed_starts(nutshell::InitialPositions::uniform(2), start)
                    .keep({"pi", "lambda", "structural_zeros"}, [](const Vec& u, const Latent& l) {
                      double zeros = 0.0;
                      for (int zi : l.z) zeros += zi;
                      return Vec{std::exp(log_sigmoid(u(0))), std::exp(u(1)), zeros};
                    });
  auto draws = nutshell::sample(nutshell::split_one(key, 1), kernel, written_once, starts, options);
  if (!draws.ok()) {
    std::cerr << draws.status() << "\n";
    return 1;
  }
  if (!draws->status.ok()) std::cerr << draws->status << "\n";
  if (!draws->summary.ok()) {
    std::cerr << draws->summary.status() << "\n";
    return 1;
  }
  std::cout << *draws->summary << "\n";  // with the library's divergence count and warnings

  const auto& rows = draws->summary->rows;  // logit_pi, log_lambda, pi, lambda, structural_zeros
  std::printf("true pi %.2f, lambda %.2f\n", kTruePi, kTrueLambda);
  if (examples::has_flag(argc, argv, "--check")) {
    bool ok = draws->status.ok() && draws->summary->num_divergences == draws->num_divergent;
    ok = ok && std::abs(rows[2].mean - kTruePi) < 4.0 * rows[2].sd;
    ok = ok && std::abs(rows[3].mean - kTrueLambda) < 4.0 * rows[3].sd;
    for (const auto& r : rows) ok = ok && r.rhat < 1.05;
    // The model written once and the one by hand: the same density and
    // gradient at a grid of points, with and without structural zeros.
    std::vector<Vec> points;
    for (double a : {-2.0, 0.3, 1.5})
      for (double v : {-1.0, 0.2, 1.8}) points.push_back(Vec{a, v});
    for (bool none : {false, true}) {
      Latent latent = start;
      if (none) latent.z.assign(latent.z.size(), 0);
      ok = examples::same_gradient([&](const Vec& u, Vec& g) { return written_once(u, g, latent); },
                                   [&](const Vec& u, Vec& g) { return model(u, g, latent); }, points) &&
           ok;
    }
    std::printf("check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
