// A change point in Poisson counts: NUTS on the two rates, an exact Gibbs
// draw of the discrete switch point: one `sample` call.
//
//   bazel run //examples:change_point
//
// The classic example is the yearly count of British coal-mining disasters,
// whose rate dropped sharply around 1890. We simulate data of that shape:
// T years of counts, a rate lambda_1 before an unknown year tau and
// lambda_2 from tau on:
//
//   lambda_k ~ Gamma(2, 1),  tau ~ uniform{1, ..., T - 1},
//   y_t ~ Poisson(lambda_1) for t < tau,  y_t ~ Poisson(lambda_2) for t >= tau.
//
// NUTS cannot move a discrete tau, but tau's full conditional is a finite
// list of T - 1 probabilities we can compute exactly and draw from: a Gibbs
// step. `mixed` sweeps the two: draw tau | rates, then move the rates with
// NUTS given the new tau (recomputing their cached log density and gradient
// first — the stale cache is the classic bug of hand-made compositions).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <span>
#include <vector>

#include "examples/cli.hpp"
#include "examples/output.hpp"
#include "examples/same_gradient.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/compose/mixed.hpp"
#include "nutshell/distributions/continuous_positive.hpp"
#include "nutshell/distributions/discrete.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/model/conditional.hpp"
#include "nutshell/run/sample_mixed.hpp"

using nutshell::Key;
using nutshell::Vec;

// ---------------------------------------------------------------------------
// 1. Simulated counts.
constexpr int kYears = 110;
constexpr int kTrueTau = 41;
constexpr double kTrueRate1 = 3.1, kTrueRate2 = 0.9;

int poisson(nutshell::Stream& rng, double rate) {  // Knuth's method, fine for small rates
  const double limit = std::exp(-rate);
  int k = 0;
  for (double p = rng.uniform(); p > limit; p *= rng.uniform()) ++k;
  return k;
}

std::vector<int> simulate(const Key& key) {
  nutshell::Stream rng(key);
  std::vector<int> y(kYears);
  for (int t = 0; t < kYears; ++t) y[t] = poisson(rng, t < kTrueTau ? kTrueRate1 : kTrueRate2);
  return y;
}

// ---------------------------------------------------------------------------
// 2. The model, split into blocks: the continuous rates (NUTS) and the
// switch year tau (Gibbs).
struct Blocks {
  int tau = kYears / 2;
};

// The continuous block written once: named positive rates (the layout
// samples log lambda and adds the log-Jacobian), the distributions, and
// reverse-mode autodiff for the gradient.
absl::StatusOr<nutshell::model::Layout> rates_layout() {
  namespace model = nutshell::model;
  return model::Layout::create({model::positive("lambda_1"), model::positive("lambda_2")});
}

struct ChangePoint {
  std::vector<int> y;

  template <class Params>
  auto operator()(const Params& p, const Blocks& b) const {
    namespace dist = nutshell::distributions;
    const auto& lambda_1 = p.scalar("lambda_1");
    const auto& lambda_2 = p.scalar("lambda_2");
    const std::span<const int> counts(y);
    return dist::gamma_lpdf(lambda_1, 2.0, 1.0) + dist::gamma_lpdf(lambda_2, 2.0, 1.0) +
           dist::poisson_lpmf(counts.first(b.tau), lambda_1) +
           dist::poisson_lpmf(counts.subspan(b.tau), lambda_2);
  }
};

// The same conditional density by hand: the zero-overhead option (pass it
// to `sample` instead of the model above). With S_1 and S_2 the total
// counts before and from tau, and u = (log lambda_1, log lambda_2),
//   (2 + S_1) u_1 - (1 + tau) e^{u_1} + (2 + S_2) u_2 - (1 + T - tau) e^{u_2}
// (Gamma(2, 1) priors, Jacobian of the log included). The Gibbs draw of
// tau below uses the same sums.
struct Model {
  std::vector<double> cumulative;  // cumulative[t] = y_0 + ... + y_{t-1}

  explicit Model(const std::vector<int>& y) : cumulative(y.size() + 1, 0.0) {
    for (std::size_t t = 0; t < y.size(); ++t) cumulative[t + 1] = cumulative[t] + y[t];
  }
  double before(int tau) const { return cumulative[tau]; }
  double after(int tau) const { return cumulative.back() - cumulative[tau]; }

  // log p(u | tau) and its gradient.
  double operator()(const Vec& u, Vec& grad, const Blocks& b) const {
    const double a1 = 2.0 + before(b.tau), b1 = 1.0 + b.tau;
    const double a2 = 2.0 + after(b.tau), b2 = 1.0 + (kYears - b.tau);
    grad(0) = a1 - b1 * std::exp(u(0));
    grad(1) = a2 - b2 * std::exp(u(1));
    return a1 * u(0) - b1 * std::exp(u(0)) + a2 * u(1) - b2 * std::exp(u(1));
  }

  // An exact draw of tau | u: log p(tau | rates) for every tau, then a
  // categorical draw.
  int draw_tau(const Key& key, const Vec& u) const {
    std::vector<double> logits(kYears - 1);
    for (int tau = 1; tau < kYears; ++tau)
      logits[tau - 1] = before(tau) * u(0) - tau * std::exp(u(0)) + after(tau) * u(1) -
                        (kYears - tau) * std::exp(u(1));
    return 1 + static_cast<int>(nutshell::categorical_logits(key, logits));
  }
};

int main(int argc, char** argv) {
  const long chains = examples::int_flag(argc, argv, "--chains", 4);
  const long warmup = examples::int_flag(argc, argv, "--warmup", 1000);
  const long samples = examples::int_flag(argc, argv, "--samples", 2000);
  const Key key = nutshell::make_key(static_cast<std::uint64_t>(examples::int_flag(argc, argv, "--seed", 3)));

  const std::vector<int> counts = simulate(nutshell::split_one(key, 0));
  const Model model(counts);  // the Gibbs draw of tau, and the gradient by hand
  auto layout = rates_layout();
  if (!layout.ok()) {
    std::cerr << "bad model: " << layout.status() << "\n";
    return 1;
  }
  const auto written_once = nutshell::model::make_conditional_model<Blocks>(*layout, ChangePoint{counts});

  // -------------------------------------------------------------------------
  // 3. The mixed kernel: Gibbs on tau, then NUTS on u. It is an ordinary
  // kernel, so window adaptation tunes NUTS's step size and metric with the
  // Gibbs draws running inside every warmup transition.
  auto kernel = nutshell::mixed::build_kernel<Blocks>(
      nutshell::nuts::build_kernel(),
      nutshell::mixed::gibbs(&Blocks::tau, [model](const Key& k, const Vec& u, const Blocks&) {
        return model.draw_tau(k, u);
      }));

  // -------------------------------------------------------------------------
  // 4. One call: every chain starts at u near 0 and tau in the middle,
  // adapts, samples, and keeps (lambda_1, lambda_2, tau) at every draw.
  // Chain c uses split_one(key, c), so results do not depend on threads.
  nutshell::SampleOptions options;
  options.num_chains = static_cast<std::size_t>(chains);
  options.num_warmup = static_cast<std::size_t>(warmup);
  options.num_samples = static_cast<std::size_t>(samples);
  options.init_radius = 0.5;
  options.names = {"log_lambda_1", "log_lambda_2"};
  auto starts = nutshell::mixed_starts(Vec{0.0, 0.0}, Blocks{})
                    .keep({"lambda_1", "lambda_2", "tau"}, [](const Vec& u, const Blocks& b) {
                      return Vec{std::exp(u(0)), std::exp(u(1)), static_cast<double>(b.tau)};
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
  // The table (with the divergence count the library computed, and its
  // warnings, if any).
  std::cout << *draws->summary << "\n";
  // With --output DIR: Stan CSV, netCDF and the HTML report of the kept
  // quantities (draws only: a Gibbs sweep has no per-draw sampler statistics).
  if (const auto output = examples::string_flag(argc, argv, "--output", ""); !output.empty()) {
    std::vector<nutshell::io::Parameter> columns;
    for (const auto& n : draws->derived_names) columns.push_back({n, {}});
    auto files = examples::plain_run(draws->derived, columns, "change_point", "mixed", options.num_warmup);
    if (examples::write_outputs(files, output, "change_point") != 0) return 1;
  }

  // -------------------------------------------------------------------------
  // 5. The posterior of the switch year, from the kept discrete blocks.
  std::map<int, int> tau_counts;
  for (const auto& chain : draws->others)
    for (const Blocks& b : chain) ++tau_counts[b.tau];
  const double total = static_cast<double>(draws->num_chains() * draws->num_draws());
  int mode = 0;
  for (const auto& [tau, n] : tau_counts)
    if (n > tau_counts[mode]) mode = tau;
  std::printf("true switch year %d; posterior mode %d\n", kTrueTau, mode);
  double near = 0.0;
  for (const auto& [tau, n] : tau_counts) {
    if (n >= 0.02 * total) std::printf("  P(tau = %3d) = %.3f\n", tau, n / total);
    if (std::abs(tau - kTrueTau) <= 3) near += n / total;
  }
  std::printf("P(|tau - %d| <= 3) = %.3f\n", kTrueTau, near);

  if (examples::has_flag(argc, argv, "--check")) {
    const auto& rows = draws->summary->rows;  // log_lambda_1, log_lambda_2, lambda_1, lambda_2, tau
    bool ok = draws->status.ok() && std::abs(mode - kTrueTau) <= 3 && near > 0.5;
    const double truth[2] = {kTrueRate1, kTrueRate2};
    for (int j = 2; j < 5; ++j) ok = ok && rows[j].rhat < 1.05;
    for (int j = 0; j < 2; ++j)
      ok = ok && std::abs(rows[2 + j].mean - truth[j]) < 4.0 * rows[2 + j].sd;
    ok = ok && draws->summary->num_divergences == draws->num_divergent;
    // The model written once and the one by hand: the same density and
    // gradient at a grid of rates and switch years.
    for (int tau : {1, kTrueTau, kYears - 1}) {
      std::vector<Vec> points;
      for (double a : {-2.0, 0.3, 1.5})
        for (double b : {-1.0, 0.1, 2.0}) points.push_back(Vec{a, b});
      const Blocks blocks{tau};
      ok = examples::same_gradient(
               [&](const Vec& u, Vec& g) { return written_once(u, g, blocks); },
               [&](const Vec& u, Vec& g) { return model(u, g, blocks); }, points) &&
           ok;
    }
    std::printf("check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
