// Quickstart: the eight schools model with NUTS and window adaptation,
// four chains on threads, and the summary table.
//
//   bazel run //examples:quickstart
//   bazel run //examples:quickstart -- --chains 8 --warmup 2000 --samples 2000 --seed 7
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
// theta_j = mu + tau * theta_raw_j, which removes the funnel. NUTS wants
// unconstrained coordinates, so we sample log(tau) instead of tau.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <span>
#include <iostream>
#include <string>
#include <vector>

#include "examples/cli.hpp"
#include "examples/output.hpp"
#include "nutshell/io/csv_stream.hpp"
#include "nutshell/io/from_draws.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/run/sample.hpp"

using nutshell::Vec;

// ---------------------------------------------------------------------------
// 1. The data.
constexpr int kSchools = 8;
constexpr double kY[kSchools] = {28, 8, -3, 7, -1, 1, 18, 12};
constexpr double kSigma[kSchools] = {15, 10, 16, 11, 9, 11, 10, 18};

// ---------------------------------------------------------------------------
// 2. The log density and its gradient.
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
double eight_schools(const Vec& u, Vec& grad) {
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

  // With --output DIR, every draw goes to DIR/eight_schools_<chain>.csv
  // as it is made (a Stan CSV stream attached as the step callback), and
  // the finished run to netCDF and an HTML report (step 6).
  const std::string output = examples::string_flag(argc, argv, "--output", "");
  // What the files hold: mu, tau and theta[8], from the sampled u.
  const std::vector<nutshell::io::Parameter> parameters = {{"mu", {}}, {"tau", {}}, {"theta", {kSchools}}};
  auto constrain = [](std::span<const double> u, std::span<double> out) {
    const double mu = u[0], tau = std::exp(u[1]);
    out[0] = mu;
    out[1] = tau;
    for (int j = 0; j < kSchools; ++j) out[2 + j] = mu + tau * u[2 + j];
  };
  nutshell::io::CsvStream stream({.prefix = output + "/eight_schools",
                                  .num_chains = options.num_chains,
                                  .model_name = "eight_schools_noncentered",
                                  .parameters = parameters,
                                  .constrain = constrain,
                                  .seed = static_cast<std::uint64_t>(seed),
                                  .num_warmup = options.num_warmup,
                                  .num_samples = options.num_samples});
  if (!output.empty()) std::filesystem::create_directories(output);
  auto callback = [&](const nutshell::StepEvent<nutshell::nuts::State, nutshell::nuts::Info>& e) {
    if (!output.empty()) stream(e);
  };
  auto draws = nutshell::sample(nutshell::make_key(static_cast<std::uint64_t>(seed)), eight_schools,
                                Vec(xt::zeros<double>({2 + kSchools})), options, callback);
  if (!draws.ok()) {
    std::cerr << "sampling failed: " << draws.status() << "\n";
    return 1;
  }
  if (!draws->status.ok()) std::cerr << "warning: " << draws->status << "\n";

  // -------------------------------------------------------------------------
  // 4. Summarise what we care about: mu, tau and the school effects theta_j,
  // computed from each draw of the sampled coordinates.
  const auto& u = draws->positions;  // [chain, draw, dimension]
  nutshell::diagnostics::Draws derived =
      nutshell::diagnostics::Draws::from_shape({u.shape(0), u.shape(1), 2 + kSchools});
  std::vector<std::string> names = {"mu", "tau"};
  for (int j = 0; j < kSchools; ++j) names.push_back("theta[" + std::to_string(j) + "]");
  for (std::size_t c = 0; c < u.shape(0); ++c)
    for (std::size_t i = 0; i < u.shape(1); ++i) {
      const double mu = u(c, i, 0), tau = std::exp(u(c, i, 1));
      derived(c, i, 0) = mu;
      derived(c, i, 1) = tau;
      for (int j = 0; j < kSchools; ++j) derived(c, i, 2 + j) = mu + tau * u(c, i, 2 + j);
    }
  auto summary = nutshell::diagnostics::summary(derived, draws->num_divergent, names);
  if (!summary.ok()) {
    std::cerr << "summary failed: " << summary.status() << "\n";
    return 1;
  }
  std::cout << *summary << "\n";
  std::printf("step sizes after adaptation:");
  for (const auto& p : draws->params) std::printf(" %.3f", p.step_size);
  std::printf("\n");

  // -------------------------------------------------------------------------
  // 5. With --output DIR: the complete Stan CSV files (replacing the
  // streamed partial ones), the ArviZ netCDF file and the HTML report.
  if (!output.empty()) {
    nutshell::io::RunInfo info;
    info.model_name = "eight_schools_noncentered";
    info.parameters = parameters;
    info.constrain = constrain;
    info.seed = static_cast<std::uint64_t>(seed);
    info.num_warmup = options.num_warmup;
    info.num_samples = options.num_samples;
    auto run = nutshell::io::from_draws(*draws, info);
    if (!run.ok()) {
      std::cerr << run.status() << "\n";
      return 1;
    }
    auto csv = stream.finish(*run);
    if (!csv.ok()) {
      std::cerr << "writing Stan CSV: " << csv.status() << "\n";
      return 1;
    }
    if (examples::write_outputs(*run, output, "eight_schools", /*csv_written=*/true) != 0) return 1;
  }

  // -------------------------------------------------------------------------
  // 6. With --check (CI), compare with the reference posterior (rstan,
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
    if (draws->num_divergent > 0.02 * total) {
      std::printf("check: %zu divergences\n", draws->num_divergent);
      ok = false;
    }
    std::printf("check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
