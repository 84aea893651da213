// Quickstart: the eight schools model with NUTS and window adaptation,
// four chains on threads, and the summary table.
//
//   bazel run //examples:quickstart
//   bazel run //examples:quickstart -- --chains 8 --warmup 2000 --samples 2000 --seed 7
//   bazel run //examples:quickstart -- --hand-written   # the hand-written gradient instead
//
// Eight schools (Rubin 1981) estimates the effect of SAT coaching in eight
// schools from each school's estimated effect y_j and its standard error
// sigma_j. Each school has its own effect theta_j, drawn from a population
// with mean mu and spread tau:
//
//   mu ~ N(0, 5),  tau ~ half-Cauchy(0, 5),  theta_j ~ N(mu, tau),  y_j ~ N(theta_j, sigma_j).
//
// With so little data, the posterior of tau reaches down to 0, where theta
// is squeezed into a narrow funnel that NUTS cannot explore. The
// *non-centered* form samples theta_raw_j ~ N(0, 1) and sets
// theta_j = mu + tau * theta_raw_j, which removes the funnel.

#include <array>
#include <cmath>
#include <span>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "examples/cli.hpp"
#include "examples/output.hpp"
#include "nutshell/io/from_draws.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/run/sample.hpp"
#include "nutshell/ad/affine.hpp"
#include "nutshell/distributions/continuous.hpp"
#include "nutshell/model/make_model.hpp"

using nutshell::Vec;

// ---------------------------------------------------------------------------
// 1. The data.
constexpr int kSchools = 8;
constexpr std::array<double, kSchools> kY = {28, 8, -3, 7, -1, 1, 18, 12};
constexpr std::array<double, kSchools> kSigma = {15, 10, 16, 11, 9, 11, 10, 18};

// ---------------------------------------------------------------------------
// 2. The model, written once.
//
// Declare the parameters with their constraints, then write log p as a
// template over the scalar type: nutshell's reverse-mode autodiff gives the
// gradient, and the layout maps tau > 0 to the unconstrained log(tau) that
// NUTS samples, adding the log-Jacobian for us. The sampled coordinates are
// u = (mu, log_tau, theta_raw_1..8).
absl::StatusOr<nutshell::model::Layout> eight_schools_layout() {
  namespace model = nutshell::model;
  return model::Layout::create(
      {model::real("mu"), model::positive("tau"), model::vector("theta_raw", kSchools)});
}

struct EightSchools {
  template <class Params>
  auto operator()(const Params& p) const {
    namespace dist = nutshell::distributions;
    using T = typename Params::scalar_type;  // double, or nutshell::ad::var for gradients
    const T& mu = p.scalar("mu");
    const T& tau = p.scalar("tau");
    const std::span<const T> theta_raw = p.vector("theta_raw");
    // theta_j = mu + tau * theta_raw_j for every school as ONE tape node (a
    // loop would record two per school); no heap allocation.
    const std::span<const T> theta = nutshell::ad::affine(mu, tau, theta_raw);
    return dist::normal_lpdf(mu, 0.0, 5.0) + dist::cauchy_lpdf(tau, 0.0, 5.0) +
           dist::normal_lpdf(theta_raw, 0.0, 1.0) + dist::normal_lpdf(kY, theta, kSigma);
  }
};

// ---------------------------------------------------------------------------
// 2'. The zero-overhead option: the log density and its gradient by hand
// (run with --hand-written; the draws agree with the model above up to
// rounding, as the same keys drive both).
//
// A nutshell log density is a callable `double f(const Vec& u, Vec& grad)`:
// it returns log p(u) up to a constant and writes d log p / du into `grad`
// (already sized like u). Here u = (mu, log_tau, theta_raw_1..8).
//
// log p = -mu^2 / (2 * 25)                         mu's prior
//         - log(1 + tau^2 / 25) + log_tau          tau's prior, plus the
//                                                  Jacobian of tau = exp(log_tau)
//         - sum_j theta_raw_j^2 / 2                theta_raw's prior
//         - sum_j r_j^2 / (2 sigma_j^2)            the likelihood, with
//                                                  r_j = y_j - mu - tau theta_raw_j
double eight_schools_by_hand(const Vec& u, Vec& grad) {
  const double mu = u(0), log_tau = u(1), tau = std::exp(log_tau);
  double lp = -mu * mu / 50.0 - std::log1p(tau * tau / 25.0) + log_tau;
  double d_mu = -mu / 25.0;
  double d_tau = -2.0 * tau / (25.0 + tau * tau);  // d/dtau of tau's prior
  for (int j = 0; j < kSchools; ++j) {
    const double z = u(2 + j);
    const double r = kY[j] - mu - tau * z;
    const double w = 1.0 / (kSigma[j] * kSigma[j]);
    lp += -0.5 * z * z - 0.5 * r * r * w;
    d_mu += r * w;
    d_tau += r * z * w;
    grad(2 + j) = -z + tau * r * w;
  }
  grad(0) = d_mu;
  grad(1) = tau * d_tau + 1.0;  // chain rule through tau = exp(log_tau), plus the Jacobian's 1
  return lp;
}

int main(int argc, char** argv) {
  const long chains = examples::int_flag(argc, argv, "--chains", 4);
  const long warmup = examples::int_flag(argc, argv, "--warmup", 1000);
  const long samples = examples::int_flag(argc, argv, "--samples", 1000);
  const long seed = examples::int_flag(argc, argv, "--seed", 0);

  // -------------------------------------------------------------------------
  // 3. Sample.
  //
  // `sample` runs, for each chain, window adaptation of NUTS's step size and
  // (diagonal) inverse mass matrix, then `num_samples` NUTS transitions, all
  // chains in parallel on threads. Chain c starts at the given point plus
  // U(-2, 2) noise, as Stan does. Every random number comes from the key:
  // the same seed gives the same draws, bit for bit, on any number of threads.
  nutshell::SampleOptions options;
  options.num_chains = static_cast<std::size_t>(chains);
  options.num_warmup = static_cast<std::size_t>(warmup);
  options.num_samples = static_cast<std::size_t>(samples);
  options.adaptation.target_acceptance_rate = 0.9;  // a little care for the funnel's neck
  auto layout = eight_schools_layout();
  if (!layout.ok()) {
    std::cerr << "bad model: " << layout.status() << "\n";
    return 1;
  }
  auto model = nutshell::model::make_model(*layout, EightSchools{});
  // Where the chains start (each jittered by U(-2, 2) on the unconstrained
  // scale), given on the constrained scale: tau = 1, not log(tau) = 0.
  auto init = layout->unconstrain(
      {{"mu", {0.0}}, {"tau", {1.0}}, {"theta_raw", std::vector<double>(kSchools, 0.0)}});
  if (!init.ok()) {
    std::cerr << "bad initial values: " << init.status() << "\n";
    return 1;
  }
  nutshell::diagnostics::Draws positions;  // [chain, draw, dimension], unconstrained
  std::size_t num_divergent = 0;
  std::vector<double> step_sizes;
  // --output DIR writes the run as Stan CSV, netCDF and an HTML report.
  const std::string output = examples::string_flag(argc, argv, "--output", "");
  auto run = [&](auto&& logdensity) -> absl::Status {
    auto draws = nutshell::sample(nutshell::make_key(static_cast<std::uint64_t>(seed)), logdensity,
                                  *init, options);
    if (!draws.ok()) return draws.status();
    if (!draws->status.ok()) std::cerr << "warning: " << draws->status << "\n";
    // With --output DIR: Stan CSV files, the ArviZ netCDF file and the HTML
    // report of this run, with mu, tau and theta[8] on the constrained scale.
    if (!output.empty()) {
      nutshell::io::RunInfo info;
      info.model_name = "eight_schools_noncentered";
      info.parameters = {{"mu", {}}, {"tau", {}}, {"theta", {kSchools}}};
      info.constrain = [](std::span<const double> u, std::span<double> out) {
        const double mu = u[0], tau = std::exp(u[1]);
        out[0] = mu;
        out[1] = tau;
        for (int j = 0; j < kSchools; ++j) out[2 + j] = mu + tau * u[2 + j];
      };
      info.seed = static_cast<std::uint64_t>(seed);
      info.num_warmup = options.num_warmup;
      info.num_samples = options.num_samples;
      auto files = nutshell::io::from_draws(*draws, info);
      if (!files.ok()) return files.status();
      if (examples::write_outputs(*files, output, "eight_schools") != 0)
        return absl::InternalError("writing the output files failed");
    }
    positions = std::move(draws->positions);
    num_divergent = draws->num_divergent;
    for (const auto& p : draws->params) step_sizes.push_back(p.step_size);
    return absl::OkStatus();
  };
  const absl::Status sampled = examples::has_flag(argc, argv, "--hand-written")
                                   ? run(eight_schools_by_hand)
                                   : run(model);
  if (!sampled.ok()) {
    std::cerr << "sampling failed: " << sampled << "\n";
    return 1;
  }

  // -------------------------------------------------------------------------
  // 4. Summarise what we care about: mu, tau and the school effects
  // theta_j = mu + tau theta_raw_j, from the draws on the constrained scale
  // (the layout maps them back: column 1 is tau, not log tau).
  auto constrained = layout->constrain_draws(positions);
  if (!constrained.ok()) {
    std::cerr << "constraining failed: " << constrained.status() << "\n";
    return 1;
  }
  const auto& c = *constrained;  // [chain, draw, (mu, tau, theta_raw[1..8])]
  nutshell::diagnostics::Draws derived =
      nutshell::diagnostics::Draws::from_shape({c.shape(0), c.shape(1), 2 + kSchools});
  std::vector<std::string> names = {"mu", "tau"};
  for (int j = 1; j <= kSchools; ++j) names.push_back("theta[" + std::to_string(j) + "]");
  for (std::size_t ch = 0; ch < c.shape(0); ++ch)
    for (std::size_t i = 0; i < c.shape(1); ++i) {
      const double mu = c(ch, i, 0), tau = c(ch, i, 1);
      derived(ch, i, 0) = mu;
      derived(ch, i, 1) = tau;
      for (int j = 0; j < kSchools; ++j) derived(ch, i, 2 + j) = mu + tau * c(ch, i, 2 + j);
    }
  auto summary = nutshell::diagnostics::summary(derived, num_divergent, names);
  if (!summary.ok()) {
    std::cerr << "summary failed: " << summary.status() << "\n";
    return 1;
  }
  std::cout << *summary << "\n";
  std::printf("step sizes after adaptation:");
  for (double e : step_sizes) std::printf(" %.3f", e);
  std::printf("\n");

  // -------------------------------------------------------------------------
  // 5. With --check (CI), compare with the reference posterior (rstan,
  // 40000 draws): mu has mean 4.39 and sd 3.33, tau has mean 3.61.
  if (examples::has_flag(argc, argv, "--check")) {
    bool ok = true;
    for (const auto& row : summary->rows)
      if (!(row.rhat < 1.05)) {
        std::printf("check: R-hat of %s is %.3f\n", row.name.c_str(), row.rhat);
        ok = false;
      }
    const auto& mu = summary->rows[0];
    const double tol = 4.0 * 3.33 / std::sqrt(mu.ess_bulk) + 0.1;
    if (!(std::abs(mu.mean - 4.39) < tol)) {
      std::printf("check: mean of mu %.3f is not within %.3f of 4.39\n", mu.mean, tol);
      ok = false;
    }
    const double total = static_cast<double>(chains * samples);
    if (num_divergent > 0.02 * total) {
      std::printf("check: %zu divergences\n", num_divergent);
      ok = false;
    }
    std::printf("check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
