// The mutation step of SMC: any kernel of the table (hmc, nuts, mala, rmh,
// ... through the kernel contract's step_into) moves the resampled particles
// on the tempered target, in parallel over particle ranges.
//
// Particle (or waste-free chain) i draws its keys from split_one(key, i) and
// writes only its own rows, so the result is bitwise the same for any thread
// count. Each worker thread owns copies of the density, the parameters, the
// kernel states and the kernel's workspace, reused from stage to stage.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/smc/parallel.hpp"
#include "nutshell/smc/state.hpp"
#include "nutshell/smc/tempered_density.hpp"

namespace nutshell::smc {

/// Runs kernel K on TemperedDensity<Prior, Likelihood> with parameters P.
template <class K, LogDensity Prior, LogDensity Likelihood,
          class P = typename KernelTypes<K, TemperedDensity<Prior, Likelihood>>::Params>
class Mutation {
 public:
  using Density = TemperedDensity<Prior, Likelihood>;
  using Types = KernelTypes<K, Density, P>;
  using KState = typename Types::State;
  using KInfo = typename Types::Info;
  using Workspace = typename Types::Workspace;

  Mutation(Prior prior, Likelihood likelihood, K kernel)
      : prior_(std::move(prior)), likelihood_(std::move(likelihood)), kernel_(std::move(kernel)) {}

  /// Moves particles at inverse temperature `beta`. Standard: out row i is
  /// `num_steps` kernel steps from `from` row ancestors[i]. Waste-free
  /// (`chain_length` > 0): chain j starts at from row ancestors[j] and its
  /// `chain_length` states fill out rows j * chain_length .. . Writes the
  /// positions, their log likelihoods and each row's summed acceptance rate.
  absl::Status run(const Key& key, const Particles& from, std::span<const double> from_loglik,
                   std::span<const std::size_t> ancestors, double beta, const P& params,
                   int num_steps, std::size_t chain_length, std::size_t num_threads, Mat& out,
                   Vec& out_loglik, std::vector<double>& acceptance) {
    const std::size_t d = from.dim();
    const std::size_t rows = chain_length > 0 ? ancestors.size() * chain_length : ancestors.size();
    if (out.shape(0) != rows || out.shape(1) != d) out.resize({rows, d});
    ensure_size(out_loglik, rows);
    acceptance.assign(rows, 0.0);
    num_threads = std::max<std::size_t>(1, std::min(num_threads, ancestors.size()));
    while (workers_.size() < num_threads) workers_.emplace_back(prior_, likelihood_);
    for (std::size_t w = 0; w < num_threads; ++w) {
      workers_[w].density.set_beta(beta);
      workers_[w].params = params;
      workers_[w].status = absl::OkStatus();
    }
    parallel_for(num_threads, ancestors.size(), [&](std::size_t w, std::size_t b, std::size_t e) {
      Worker& wk = workers_[w];
      for (std::size_t i = b; i < e; ++i) {
        auto s = chain_length > 0
                     ? move_chain(wk, split_one(key, i), from, from_loglik, ancestors[i],
                                  chain_length, i * chain_length, out, out_loglik, acceptance)
                     : move_particle(wk, split_one(key, i), from, from_loglik, ancestors[i],
                                     num_steps, i, out, out_loglik, acceptance);
        if (!s.ok()) {
          wk.status = absl::Status(s.code(), absl::StrCat(chain_length > 0 ? "mutation of chain " : "mutation of particle ", i, ": ",
                                                          s.message()));
          return;
        }
      }
    });
    // Blocks are contiguous and each worker stops at its first failure, so
    // the first failing worker holds the failure of lowest index: the same
    // error whatever the thread count.
    for (std::size_t w = 0; w < num_threads; ++w)
      if (!workers_[w].status.ok()) return workers_[w].status;
    return absl::OkStatus();
  }

  /// A copy of the tempered density at `beta` (for init and checks).
  Density density(double beta) const { return Density(prior_, likelihood_, beta); }

 private:
  struct Worker {
    Worker(const Prior& prior, const Likelihood& likelihood) : density(prior, likelihood) {}
    Density density;
    std::optional<P> params;
    KState current{}, next{};
    KInfo info{};
    Workspace ws{};
    Vec x, grad;
    absl::Status status;
  };

  // The kernel state at row `row` of `from`, into wk.current (no allocation
  // once warm for gradient and position states). `key` is the particle's
  // init key (split domain, disjoint from its fold_in step keys).
  absl::Status load(Worker& wk, const Particles& from, std::size_t row, const Key& key) {
    const std::size_t d = from.dim();
    ensure_size(wk.x, d);
    for (std::size_t j = 0; j < d; ++j) wk.x(j) = from.positions(row, j);
    if constexpr (std::is_same_v<KState, GradientState>) {
      ensure_size(wk.current.position, d);
      ensure_size(wk.current.logdensity_grad, d);
      ops::copy(wk.x, wk.current.position);
      auto lp = evaluate(wk.density, wk.current.position, wk.current.logdensity_grad);
      if (!lp.ok()) return lp.status();
      wk.current.logdensity = *lp;
      if (!std::isfinite(*lp)) return absl::InternalError("tempered log density not finite at a particle");
    } else if constexpr (std::is_same_v<KState, PositionState>) {
      ensure_size(wk.current.position, d);
      ops::copy(wk.x, wk.current.position);
      auto lp = evaluate(wk.density, wk.current.position);
      if (!lp.ok()) return lp.status();
      wk.current.logdensity = *lp;
      if (!std::isfinite(*lp)) return absl::InternalError("tempered log density not finite at a particle");
    } else {
      // Kernels whose state holds a random momentum (ghmc, mclmc) draw it
      // from `key`; ghmc also from the (tuned) metric in the parameters.
      auto st = [&] {
        if constexpr (requires { kernel_.init(wk.x, wk.density, *wk.params, key); })
          return kernel_.init(wk.x, wk.density, *wk.params, key);
        else if constexpr (requires { kernel_.init(wk.x, wk.density, key); })
          return kernel_.init(wk.x, wk.density, key);
        else
          return init_state(kernel_, wk.x, wk.density);
      }();
      if (!st.ok()) return st.status();
      wk.current = *std::move(st);
    }
    return absl::OkStatus();
  }

  absl::Status one_step(Worker& wk, const Key& key, double& acc_sum) {
    auto s = kernel_.step_into(key, wk.current, wk.density, *wk.params, wk.next, wk.info, wk.ws);
    if (!s.ok()) return s;
    std::swap(wk.current, wk.next);
    if constexpr (requires { wk.info.acceptance_rate; }) acc_sum += wk.info.acceptance_rate;
    return absl::OkStatus();
  }

  absl::Status store(Worker& wk, std::size_t row, Mat& out, Vec& out_loglik) {
    const Vec& pos = wk.current.position;
    for (std::size_t j = 0; j < pos.size(); ++j) out(row, j) = pos(j);
    ensure_size(wk.grad, pos.size());
    auto ll = evaluate_loglik(wk, pos);
    if (!ll.ok()) return ll.status();
    out_loglik(row) = *ll;
    return absl::OkStatus();
  }

  absl::StatusOr<double> evaluate_loglik(Worker& wk, const Vec& x) {
    try {
      return wk.density.loglikelihood(x, wk.grad);
    } catch (...) {
      return nutshell::detail::thrown_status();
    }
  }

  absl::Status move_particle(Worker& wk, const Key& key, const Particles& from,
                             std::span<const double> from_loglik, std::size_t anc, int num_steps,
                             std::size_t row, Mat& out, Vec& out_loglik,
                             std::vector<double>& acceptance) {
    if (num_steps == 0) {
      for (std::size_t j = 0; j < from.dim(); ++j) out(row, j) = from.positions(anc, j);
      out_loglik(row) = from_loglik[anc];
      return absl::OkStatus();
    }
    if (auto s = load(wk, from, anc, split_one(key, 0)); !s.ok()) return s;
    double acc = 0.0;
    for (int k = 0; k < num_steps; ++k)
      if (auto s = one_step(wk, fold_in(key, static_cast<std::uint64_t>(k)), acc); !s.ok()) return s;
    acceptance[row] = acc / num_steps;
    return store(wk, row, out, out_loglik);
  }

  absl::Status move_chain(Worker& wk, const Key& key, const Particles& from,
                          std::span<const double> from_loglik, std::size_t anc,
                          std::size_t length, std::size_t first_row, Mat& out, Vec& out_loglik,
                          std::vector<double>& acceptance) {
    for (std::size_t j = 0; j < from.dim(); ++j) out(first_row, j) = from.positions(anc, j);
    out_loglik(first_row) = from_loglik[anc];
    if (length == 1) return absl::OkStatus();
    if (auto s = load(wk, from, anc, split_one(key, 0)); !s.ok()) return s;
    for (std::size_t k = 1; k < length; ++k) {
      double acc = 0.0;
      if (auto s = one_step(wk, fold_in(key, k), acc); !s.ok()) return s;
      acceptance[first_row + k] = acc;
      if (auto s = store(wk, first_row + k, out, out_loglik); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  Prior prior_;
  Likelihood likelihood_;
  K kernel_;
  std::vector<Worker> workers_;
};

}  // namespace nutshell::smc
