// Soft matter: many walkers sampling a Lennard-Jones fluid in a periodic box.
//
//   bazel run //examples:soft_matter
//   bazel run //examples:soft_matter -- --walkers 32 --particles 25 --samples 2000
//   bazel run //examples:soft_matter -- --hand-written     # the force by hand instead
//   bazel run -c opt //examples:soft_matter -- --time-gradient
//
// N particles in a 2-D square box of side L with periodic boundaries
// interact through the Lennard-Jones pair energy (in units of epsilon and
// sigma), cut at r_c = 2.5 and shifted so it is 0 there:
//
//   U(r) = 4 (r^-12 - r^-6) - U_c   for r < r_c,   0 beyond.
//
// At temperature T the positions follow the Boltzmann distribution
// p(x) ∝ exp(-U(x) / T): a log density -U/T whose gradient is the force
// over T. Each walker is a NUTS chain with its own window adaptation;
// `sample` runs them all on threads (as Blackjax users do with pmap) and
// we average observables over walkers and draws: the potential energy per
// particle and the radial distribution function g(r), whose first peak
// sits near the pair potential's minimum 2^(1/6) = 1.12.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "examples/cli.hpp"
#include "examples/output.hpp"
#include "examples/same_gradient.hpp"
#include "nutshell/ad/ad.hpp"
#include "nutshell/ad/fused.hpp"
#include "nutshell/model/make_model.hpp"
#include "nutshell/io/from_draws.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/sample.hpp"

using nutshell::Vec;

// ---------------------------------------------------------------------------
// 1. The system.
//
// Two details make a periodic fluid samplable by NUTS:
//  - the minimum-image convention: particle i interacts with the nearest
//    periodic copy of j, so coordinates need never be wrapped back into the
//    box;
//  - pinning particle 0 at the origin: shifting every particle together
//    leaves U unchanged, a flat direction along which NUTS's trajectories
//    would never U-turn. Pinning one particle removes it, so we sample the
//    other N - 1 particles: 2(N - 1) coordinates.
struct LennardJones {
  int n = 16;               // particles
  double box = 5.657;       // side L (density n / L^2 = 0.5)
  double temperature = 1.0;
  double cutoff = 2.5;

  // U(r) from r^2, for double and the autodiff scalars alike.
  template <class T>
  T pair_energy(const T& r2) const {
    const T inv6 = 1.0 / (r2 * r2 * r2);
    const double c6 = std::pow(cutoff, -6.0);
    return 4.0 * (inv6 * inv6 - inv6) - 4.0 * (c6 * c6 - c6);
  }
  // dU/dr divided by r, so the force on i from j is -(dU/dr / r) * (x_i - x_j).
  static double pair_force_over_r(double r2) {
    const double inv2 = 1.0 / r2, inv6 = inv2 * inv2 * inv2;
    return 4.0 * (-12.0 * inv6 * inv6 + 6.0 * inv6) * inv2;
  }
  // Nearest periodic image of a coordinate difference.
  double wrap(double d) const { return d - box * std::round(d / box); }
  // Particle i's coordinate `axis` (particle 0 is pinned at the origin).
  static double coord(const Vec& q, int i, int axis) { return i == 0 ? 0.0 : q(2 * (i - 1) + axis); }

  double energy(const Vec& q) const {
    double u = 0.0;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        const double dx = wrap(coord(q, i, 0) - coord(q, j, 0));
        const double dy = wrap(coord(q, i, 1) - coord(q, j, 1));
        const double r2 = dx * dx + dy * dy;
        if (r2 < cutoff * cutoff) u += pair_energy(r2);
      }
    return u;
  }

  // log p(q) = -U(q) / T and its gradient (the force over T).
  double operator()(const Vec& q, Vec& grad) const {
    grad.fill(0.0);
    double u = 0.0;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        const double dx = wrap(coord(q, i, 0) - coord(q, j, 0));
        const double dy = wrap(coord(q, i, 1) - coord(q, j, 1));
        const double r2 = dx * dx + dy * dy;
        if (r2 >= cutoff * cutoff) continue;
        u += pair_energy(r2);
        const double f = pair_force_over_r(r2);  // dU/dr / r
        // d(-U/T)/dx_i = -f dx / T, and the opposite for j.
        if (i > 0) {
          grad(2 * (i - 1)) -= f * dx / temperature;
          grad(2 * (i - 1) + 1) -= f * dy / temperature;
        }
        if (j > 0) {
          grad(2 * (j - 1)) += f * dx / temperature;
          grad(2 * (j - 1) + 1) += f * dy / temperature;
        }
      }
    return -u / temperature;
  }
};

// ---------------------------------------------------------------------------
// 1'. The same log density written once, which is what `sample` runs: the
// free particles' positions as a named (N - 1) x 2 matrix, -U/T over the
// scalar type, and reverse-mode autodiff for the gradient (the force).
// `--check` verifies it equals `LennardJones::operator()` above, the force
// by hand, which `--hand-written` samples instead (the zero-overhead option).
//
// The pair loop is where a tape's time goes: written operation by operation
// it records ~14 nodes per interacting pair, O(N^2) pairs, and a gradient
// cost ~9x the hand-written force. `ad::fused` records each pair's energy
// as ONE node over the pair's (up to) four coordinates, its partials from
// forward mode; the formula is still written once, over the scalar type.
// (`--time-gradient` prints the three costs.)
struct LennardJonesModel {
  LennardJones sys;
  bool fuse_pairs = true;  // false: one tape node per operation, for --time-gradient

  template <class Params>
  auto operator()(const Params& p) const {
    using T = typename Params::scalar_type;
    using nutshell::ad::value_of;
    const auto x = p.matrix("x");  // row i - 1: particle i (particle 0 is pinned)
    const double rc2 = sys.cutoff * sys.cutoff;
    T u = 0.0;
    for (int i = 0; i < sys.n; ++i)
      for (int j = i + 1; j < sys.n; ++j) {
        // The minimum image and the cutoff are decided on the values: a
        // shift by whole boxes is a constant of the pair.
        const double xi0 = i == 0 ? 0.0 : value_of(x(i - 1, 0));
        const double yi0 = i == 0 ? 0.0 : value_of(x(i - 1, 1));
        const double ddx = xi0 - value_of(x(j - 1, 0)), ddy = yi0 - value_of(x(j - 1, 1));
        const double sx = sys.box * std::round(ddx / sys.box), sy = sys.box * std::round(ddy / sys.box);
        if ((ddx - sx) * (ddx - sx) + (ddy - sy) * (ddy - sy) >= rc2) continue;
        // The pair's energy from its coordinates (particle 0 sits at the origin).
        auto pair = [&](const auto& xi, const auto& yi, const auto& xj, const auto& yj) {
          const auto dx = xi - xj - sx, dy = yi - yj - sy;
          return sys.pair_energy(dx * dx + dy * dy);
        };
        auto pair0 = [&](const auto& xj, const auto& yj) {
          const auto dx = -xj - sx, dy = -yj - sy;
          return sys.pair_energy(dx * dx + dy * dy);
        };
        if (!fuse_pairs)
          u += i == 0 ? T(pair0(x(j - 1, 0), x(j - 1, 1)))
                      : T(pair(x(i - 1, 0), x(i - 1, 1), x(j - 1, 0), x(j - 1, 1)));
        else if (i == 0)
          u += nutshell::ad::fused(pair0, x(j - 1, 0), x(j - 1, 1));
        else
          u += nutshell::ad::fused(pair, x(i - 1, 0), x(i - 1, 1), x(j - 1, 0), x(j - 1, 1));
      }
    return -u / sys.temperature;
  }
};

absl::StatusOr<nutshell::model::Layout> positions_layout(const LennardJones& sys) {
  namespace model = nutshell::model;
  return model::Layout::create({model::matrix("x", static_cast<std::size_t>(sys.n - 1), 2)});
}

// A square lattice filling the box, jittered per walker: overlapping
// particles would start at an infinite energy.
Vec lattice_start(const LennardJones& sys, const nutshell::Key& key) {
  const int side = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(sys.n))));
  const double spacing = sys.box / side;
  nutshell::Stream rng(key);
  Vec q = Vec::from_shape({static_cast<std::size_t>(2 * (sys.n - 1))});
  for (int i = 1; i < sys.n; ++i) {
    q(2 * (i - 1)) = (i % side) * spacing + 0.05 * rng.normal();
    q(2 * (i - 1) + 1) = (i / side) * spacing + 0.05 * rng.normal();
  }
  return q;
}

// --time-gradient: the cost of one gradient, by hand, written once with
// one node per pair (`ad::fused`, what `sample` runs) and written once with
// one node per operation, interleaved in one run (ns per gradient).
int time_gradient(const LennardJones& sys, const nutshell::model::Layout& layout,
                  const std::vector<Vec>& starts) {
  auto fused = nutshell::model::make_model(layout, LennardJonesModel{sys, true});
  auto per_op = nutshell::model::make_model(layout, LennardJonesModel{sys, false});
  auto by_hand = sys;
  Vec grad = Vec::from_shape({starts.front().size()});
  double sink = 0.0;
  auto time = [&](auto& f) {
    constexpr int kReps = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < kReps; ++r) sink += f(starts[r % starts.size()], grad);
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kReps;
  };
  double best[3] = {INFINITY, INFINITY, INFINITY};
  for (int round = 0; round < 5; ++round) {
    best[0] = std::min(best[0], time(by_hand));
    best[1] = std::min(best[1], time(fused));
    best[2] = std::min(best[2], time(per_op));
  }
  std::printf("ns per gradient (best of 5 rounds, %d particles): by hand %.0f, written once %.0f "
              "(%.1fx), one node per operation %.0f (%.1fx)%s\n",
              sys.n, best[0], best[1], best[1] / best[0], best[2], best[2] / best[0],
              sink == 0.123 ? " " : "");
  return 0;
}

int main(int argc, char** argv) {
  LennardJones sys;
  sys.n = static_cast<int>(examples::int_flag(argc, argv, "--particles", 16));
  sys.box = std::sqrt(sys.n / 0.5);  // density 0.5
  const long walkers = examples::int_flag(argc, argv, "--walkers", 8);
  const long warmup = examples::int_flag(argc, argv, "--warmup", 300);
  const long samples = examples::int_flag(argc, argv, "--samples", 600);
  const nutshell::Key key =
      nutshell::make_key(static_cast<std::uint64_t>(examples::int_flag(argc, argv, "--seed", 8)));

  // -------------------------------------------------------------------------
  // 2. Many walkers: one starting configuration each, then `sample` runs
  // window adaptation + NUTS for every walker on all cores.
  std::vector<Vec> starts;
  for (long w = 0; w < walkers; ++w) starts.push_back(lattice_start(sys, nutshell::split_one(key, w)));
  nutshell::SampleOptions options;
  options.num_warmup = static_cast<std::size_t>(warmup);
  options.num_samples = static_cast<std::size_t>(samples);
  // Close encounters are stiff (r^-12): a higher acceptance target buys a
  // smaller step size and keeps divergent transitions rare.
  options.adaptation.target_acceptance_rate = 0.9;
  auto layout = positions_layout(sys);
  if (!layout.ok()) {
    std::cerr << "bad model: " << layout.status() << "\n";
    return 1;
  }
  auto model = nutshell::model::make_model(*layout, LennardJonesModel{sys});
  if (examples::has_flag(argc, argv, "--time-gradient")) return time_gradient(sys, *layout, starts);
  const bool hand_written = examples::has_flag(argc, argv, "--hand-written");
  auto draws = hand_written ? nutshell::sample(nutshell::split_one(key, 1000),
                                               nutshell::nuts::Kernel{}, sys, starts, options)
                            : nutshell::sample(nutshell::split_one(key, 1000),
                                               nutshell::nuts::Kernel{}, model, starts, options);
  if (!draws.ok()) {
    std::cerr << "sampling failed: " << draws.status() << "\n";
    return 1;
  }
  if (!draws->status.ok()) std::cerr << "some walkers failed: " << draws->status << "\n";
  // With --output DIR: Stan CSV, netCDF and the HTML report (positions as
  // one matrix parameter x[particle, coordinate]; particle 0 is pinned at
  // the origin, so rows are particles 2..n).
  if (const auto output = examples::string_flag(argc, argv, "--output", ""); !output.empty()) {
    nutshell::io::RunInfo info;
    info.model_name = "lennard_jones";
    info.parameters = {{"x", {draws->positions.shape(2) / 2, 2}}};
    info.num_warmup = options.num_warmup;
    info.num_samples = options.num_samples;
    auto run = nutshell::io::from_draws(*draws, info);
    if (!run.ok()) {
      std::cerr << run.status() << "\n";
      return 1;
    }
    if (examples::write_outputs(*run, output, "soft_matter") != 0) return 1;
  }

  // -------------------------------------------------------------------------
  // 3. Observables. The sampler kept each draw's log density, -U/T, so the
  // energy per particle of every draw is at hand.
  const std::size_t m = draws->num_chains(), d = draws->num_draws();
  nutshell::diagnostics::ChainDraws energy = nutshell::diagnostics::ChainDraws::from_shape({m, d});
  double mean_energy = 0.0;
  std::printf("%-7s %10s %10s %8s %11s %10s\n", "walker", "U/N", "step size", "accept",
              "steps/draw", "divergent");
  for (std::size_t w = 0; w < m; ++w) {
    double sum = 0.0, accept = 0.0, steps = 0.0;
    std::size_t divergent = 0;
    for (std::size_t i = 0; i < d; ++i) {
      energy(w, i) = -sys.temperature * draws->logdensity(w, i) / sys.n;
      sum += energy(w, i);
      accept += draws->infos[w][i].acceptance_rate;
      divergent += draws->infos[w][i].is_divergent;
      steps += draws->infos[w][i].num_integration_steps;
    }
    mean_energy += sum / d / m;
    std::printf("%-7zu %10.4f %10.4f %8.3f %11.1f %10zu\n", draws->chains[w], sum / d,
                draws->params[w].step_size, accept / d, steps / d, divergent);
  }
  auto rhat = nutshell::diagnostics::rhat(energy);
  auto ess = nutshell::diagnostics::ess_bulk(energy);
  auto mcse = nutshell::diagnostics::mcse_mean(energy);
  std::printf("\nmean potential energy per particle: %.4f +- %.4f (ESS %.0f, R-hat %.3f)\n",
              mean_energy, mcse.ok() ? *mcse : NAN, ess.ok() ? *ess : NAN,
              rhat.ok() ? *rhat : NAN);

  // g(r): histogram of pair distances (minimum image) over all kept draws,
  // normalised by what an ideal gas at the same density would give.
  const double r_max = sys.box / 2, dr = 0.05;
  const int bins = static_cast<int>(r_max / dr);
  std::vector<double> hist(bins, 0.0);
  Vec q = Vec::from_shape({static_cast<std::size_t>(2 * (sys.n - 1))});
  for (std::size_t w = 0; w < m; ++w)
    for (std::size_t i = 0; i < d; ++i) {
      for (std::size_t j = 0; j < q.size(); ++j) q(j) = draws->positions(w, i, j);
      for (int a = 0; a < sys.n; ++a)
        for (int b = a + 1; b < sys.n; ++b) {
          const double dx = sys.wrap(LennardJones::coord(q, a, 0) - LennardJones::coord(q, b, 0));
          const double dy = sys.wrap(LennardJones::coord(q, a, 1) - LennardJones::coord(q, b, 1));
          const int k = static_cast<int>(std::sqrt(dx * dx + dy * dy) / dr);
          if (k < bins) hist[k] += 2.0;  // each pair counts for both particles
        }
    }
  const double density = sys.n / (sys.box * sys.box);
  int peak = 0;
  std::printf("\n   r     g(r)\n");
  for (int k = 0; k < bins; ++k) {
    const double r = (k + 0.5) * dr;
    const double ideal = density * 2 * M_PI * r * dr * sys.n * static_cast<double>(m * d);
    hist[k] /= ideal;
    if (hist[k] > hist[peak]) peak = k;
    if (k % 4 == 0) std::printf("%5.2f %8.3f %s\n", r, hist[k], std::string(static_cast<int>(10 * hist[k]), '*').c_str());
  }
  const double r_peak = (peak + 0.5) * dr;
  std::printf("first peak of g(r) at r = %.3f (the pair potential's minimum is at 1.122)\n", r_peak);

  if (examples::has_flag(argc, argv, "--check")) {
    // The model written once and the force by hand: the same density and
    // gradient at a few jittered lattices and at some draws.
    std::vector<Vec> points;
    for (int k = 0; k < 3; ++k) points.push_back(lattice_start(sys, nutshell::make_key(100 + k)));
    for (std::size_t w = 0; w < m; ++w) {
      for (std::size_t j = 0; j < q.size(); ++j) q(j) = draws->positions(w, d - 1, j);
      points.push_back(q);
    }
    auto by_hand = sys;
    const bool same = examples::same_gradient(model, by_hand, points);
    const bool ok = same && draws->status.ok() && std::isfinite(mean_energy) && mean_energy < 0.0 &&
                    mean_energy > -4.0 && rhat.ok() && *rhat < 1.1 && r_peak > 1.0 &&
                    r_peak < 1.3 && draws->num_divergent < 0.02 * m * d;
    std::printf("check: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return 0;
}
