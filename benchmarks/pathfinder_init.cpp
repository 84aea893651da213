// Warmup needed before 4 chains agree (max R-hat < 1.01), with and without
// Pathfinder initialisation, on the shared posteriors.
//
//   bazel run //benchmarks:pathfinder_init -- [--posteriors=a,b,...] [--seed=1]
//       [--draws=1000] [--lbfgs_iterations=1000] [--elbo_draws=50]
//
// For each posterior and each initialisation:
//   default    every chain starts at Stan's random point (each unconstrained
//              coordinate uniform on (-2, 2)) with the identity metric;
//   pathfinder multi-path Pathfinder (one path from each of those 4 points,
//              PSIS resampling, vi::pathfinder_init) gives each chain its
//              start and all of them the initial diagonal inverse mass matrix.
// then, for warmup lengths W = 10, 20, 40, 70, 100, 200, 400, 800, 1600 in
// turn: window adaptation (Stan's schedule, diagonal metric, delta 0.8; below
// 20 steps only the step size adapts) for W steps and --draws NUTS draws per
// chain; the first W whose max split rank-normalised
// R-hat over all coordinates is below 1.01 is reported, with the gradient
// evaluations spent to get there: the warmup's integration steps summed over
// chains (for that W only; the grid is a search, not a schedule) plus, for
// pathfinder, every evaluation Pathfinder made (L-BFGS, ELBO draws, final
// draws). One markdown table row per posterior and initialisation.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/vi/pathfinder_init.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell {
namespace {

constexpr std::size_t kChains = 4;
std::size_t g_draws = 1000;  // --draws
vi::PathfinderInitOptions g_pf;  // --lbfgs_iterations, --elbo_draws

struct Outcome {
  std::size_t warmup = 0;      // 0: never below 1.01 on the grid
  std::size_t gradients = 0;   // warmup integration steps, all chains (+ Pathfinder's)
  double rhat = 0.0;           // max R-hat at that W (or at the largest W)
  std::size_t divergences = 0;  // in the 4 x draws at that W
  std::size_t pathfinder = 0;   // of `gradients`, Pathfinder's evaluations
};

template <class Model>
Outcome run(const Model& model, const Key& root, bool use_pathfinder, double* k_hat) {
  std::vector<Vec> starts;
  for (std::size_t c = 0; c < kChains; ++c)
    starts.push_back(model.initial_point(fold_in(split_one(root, 0), c)));
  nuts::Params base;
  std::size_t pathfinder_evals = 0;
  if (use_pathfinder) {
    Model f = model;
    auto init = vi::pathfinder_init(split_one(root, 1), f, starts, kChains, g_pf);
    if (!init.ok()) {
      std::fprintf(stderr, "pathfinder_init: %s\n", std::string(init.status().message()).c_str());
      return {};
    }
    starts = init->positions;
    base.inverse_mass_matrix = init->inverse_mass_matrix;
    pathfinder_evals = init->num_evaluations;
    *k_hat = init->k_hat;
  }
  Outcome out;
  out.pathfinder = pathfinder_evals;
  for (std::size_t warmup : {10, 20, 40, 70, 100, 200, 400, 800, 1600}) {
    diagnostics::Draws draws = diagnostics::Draws::from_shape({kChains, g_draws, model.dim()});
    std::size_t grads = pathfinder_evals, divergences = 0;
    for (std::size_t c = 0; c < kChains; ++c) {
      const auto keys = split<2>(fold_in(split_one(root, 2), c));
      Model f = model;
      auto adapt = adaptation::window_adaptation(nuts::Kernel{}, f, {}, base);
      auto adapted = adapt.run(keys[0], starts[c], warmup);
      if (!adapted.ok()) {
        std::fprintf(stderr, "warmup: %s\n", std::string(adapted.status().message()).c_str());
        return out;
      }
      for (const auto& w : adapted->infos) grads += w.info.num_integration_steps;
      auto sampler = nuts::sampler(f, adapted->parameters);
      auto r = run_inference_algorithm(keys[1], sampler, adapted->state, g_draws);
      if (!r.ok()) return out;
      divergences += r->num_divergent;
      xt::view(draws, c, xt::all(), xt::all()) = r->positions;
    }
    auto rhat = diagnostics::rhat(draws);
    out.rhat = rhat.ok() ? xt::amax(*rhat)() : std::nan("");
    out.gradients = grads;
    out.divergences = divergences;
    std::fprintf(stderr, "  %s W=%zu: max R-hat %.4f, gradients %zu\n",
                 use_pathfinder ? "pathfinder" : "default", warmup, out.rhat, grads);
    if (out.rhat < 1.01) {
      out.warmup = warmup;
      return out;
    }
  }
  return out;
}

template <class Model>
void compare(std::uint64_t seed) {
  auto model = Model::load();
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return;
  }
  const Key root = make_key(seed);
  for (bool pf : {false, true}) {
    double k_hat = std::nan("");
    const Outcome o = run(*model, root, pf, &k_hat);
    std::printf("| %s | %s | %s | %zu | %zu | %.4f | %zu | %s |\n",
                std::string(Model::kName).c_str(), pf ? "pathfinder" : "default",
                o.warmup ? std::to_string(o.warmup).c_str() : "> 1600", o.gradients, o.pathfinder,
                o.rhat,
                o.divergences, pf ? std::to_string(k_hat).substr(0, 4).c_str() : "");
    std::fflush(stdout);
  }
}

}  // namespace
}  // namespace nutshell

int main(int argc, char** argv) {
  using namespace nutshell;
  std::string list = "eight_schools_nc,logistic_1000x25,gauss_100,corr_gauss_50,funnel_10";
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--posteriors=", 0) == 0) list = a.substr(13);
    else if (a.rfind("--seed=", 0) == 0) seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    else if (a.rfind("--draws=", 0) == 0) g_draws = std::strtoull(a.c_str() + 8, nullptr, 10);
    else if (a.rfind("--lbfgs_iterations=", 0) == 0)
      g_pf.multipath.pathfinder.lbfgs.max_iterations = std::atoi(a.c_str() + 19);
    else if (a.rfind("--elbo_draws=", 0) == 0)
      g_pf.multipath.pathfinder.num_elbo_draws = std::strtoull(a.c_str() + 13, nullptr, 10);
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  std::printf(
      "| posterior | init | warmup W | gradients to get there | of which Pathfinder | max R-hat | "
      "divergences | k-hat |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  std::stringstream ss(list);
  for (std::string name; std::getline(ss, name, ',');) {
    if (name == "eight_schools_nc") compare<posteriors::EightSchoolsNc>(seed);
    else if (name == "logistic_1000x25") compare<posteriors::Logistic1000x25>(seed);
    else if (name == "gauss_100") compare<posteriors::Gauss100>(seed);
    else if (name == "corr_gauss_50") compare<posteriors::CorrGauss50>(seed);
    else if (name == "funnel_10") compare<posteriors::Funnel10>(seed);
    else if (name == "gp_student_t_100") compare<posteriors::GpStudentT100>(seed);
    else std::fprintf(stderr, "unknown posterior %s\n", name.c_str());
  }
  return 0;
}
