// The NUTS tree builder: the Hamiltonian and merge kernels (one fused loop
// each) and the iterative builder that grows and merges subtrees exactly
// where Stan's recursion would. nuts.hpp drives it once per transition; the
// design (iterative tree, slot swapping, keyed choices) is described there.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/validation.hpp"
#include "nutshell/core/vector_ops.hpp"

#include "nutshell/mcmc/nuts_leapfrog.hpp"
#include "nutshell/mcmc/nuts_workspace.hpp"

namespace nutshell::nuts {
namespace detail {

/// Counters of one trajectory, for the kernel's Info and for exactness tests.
struct TrajectoryResult {
  int depth = 0;      ///< completed doublings
  int num_steps = 0;  ///< integrator steps, rejected subtrees included
  bool is_divergent = false;
  bool is_turning = false;
  double h0 = 0.0;               ///< Hamiltonian at the initial point
  double sum_metro_prob = 0.0;   ///< sum of min(1, exp(H0 - H)) over all steps
  double sum_symmetric_prob = 0.0;  ///< sum of 2 / (1 + exp(|H0 - H|)), when asked for
  double step_size = 0.0;           ///< the (jittered) step size integrated with
  bool selected_initial = true;  ///< the sample is the initial point (else ws.sample)
  /// The weights are kept on a linear scale, as exp(H0 - H - weight_shift);
  /// sum_weight is the accepted trajectory's sum on that scale.
  double sum_weight = 1.0;
  double weight_shift = 0.0;
  /// log sum exp(H0 - H) over the accepted trajectory.
  double log_sum_weight() const { return std::log(sum_weight) + weight_shift; }
};

// Tree weights are exp(H0 - H) on a linear scale, not logs: a merge is an
// addition and a progressive-sampling probability a division, where the log
// scale (Stan's) pays a log1p and an exp per merge; the leaf's exp is the
// one the acceptance statistic needs anyway. The scale moves (weight_shift)
// only when a leaf's H0 - H would overflow, so a weight underflows to 0
// only when it is below 1e-300 of the trajectory's: such a leaf or subtree
// is never selected, where on the log scale it would be with a probability
// under 1e-300.

/// A leaf's H0 - H - shift above this rescales the weights (exp(600) with
/// 2^30 leaves stays finite).
inline constexpr double kRescaleAbove = 600.0;

// The loops below fuse each merge's vector work into one pass and keep one
// partial sum per SIMD lane per dot product (NUTSHELL_SIMD_FOR): a single
// running sum is bound by the floating-point add latency, and GCC at -O2
// leaves loops of unknown trip count scalar.

/// Hamiltonian at `z`, writing its velocity M^-1 p to `v`; +inf when the
/// energy or the log density is not finite (Stan maps NaN to +inf, which
/// makes the point divergent). A non-finite gradient needs no separate
/// check: every integrator ends on a momentum update with it, so it reaches
/// the kinetic energy.
// v = d .* p; returns p . v.
inline double velocity_and_twice_kinetic(std::size_t n, const double* __restrict p,
                                         const double* __restrict d, double* __restrict v) {
  double acc[ops::kLanes] = {};
  NUTSHELL_SIMD_FOR(n, v[i] = d[i] * p[i]; acc[lane] += p[i] * v[i];);
  return ops::sum_lanes(acc);
}

// p . v.
inline double twice_kinetic(std::size_t n, const double* __restrict p,
                            const double* __restrict v) {
  double acc[ops::kLanes] = {};
  NUTSHELL_SIMD_FOR(n, acc[lane] += p[i] * v[i];);
  return ops::sum_lanes(acc);
}

/// Hamiltonian at `z`, writing its velocity M^-1 p to `v`; +inf when the
/// energy or the log density is not finite (Stan maps NaN to +inf, which
/// makes the point divergent). A non-finite gradient needs no separate
/// check: every integrator ends on a momentum update with it, so it reaches
/// the kinetic energy.
inline double hamiltonian(const Metric& metric, const IntegratorState& z, double* v,
                          Vec& dense_scratch) {
  const std::size_t n = z.position.size();
  double pv = 0.0;
  if (!metric.is_diagonal()) {  // dense or low rank
    metric.velocity(z.momentum, dense_scratch);
    std::copy(dense_scratch.begin(), dense_scratch.end(), v);
    pv = twice_kinetic(n, z.momentum.data(), v);
  } else {
    // Identity and diagonal metrics are the common case: scale p into v in
    // the same pass as the energy sum (the identity's diagonal is ones).
    pv = velocity_and_twice_kinetic(n, z.momentum.data(),
                                    metric.inverse_mass_diagonal().data(), v);
  }
  return leaf_energy(z.logdensity, 0.5 * pv);
}

/// Merge of subtree `near` (nearer the initial point) with `far`: rho_near
/// becomes the sum, and the result is Stan's three checks (PR #2800): around
/// the whole span, the near half plus the far half's first point, and the
/// far half plus the near half's last point. Each holds when both end
/// velocities have a positive dot product with the summed momentum; written
/// as "> 0" so a NaN counts as a U-turn, as in Stan.
inline bool merge_subtrees(std::size_t n, double* __restrict rho_near,
                           const double* __restrict v_near_beg, const double* __restrict p_near_end,
                           const double* __restrict v_near_end, const double* __restrict rho_far,
                           const double* __restrict p_far_beg, const double* __restrict v_far_beg,
                           const double* __restrict v_far_end) {
  // One accumulator per lane for each of the six dot products.
  double wn[ops::kLanes] = {}, wf[ops::kLanes] = {}, nn[ops::kLanes] = {};
  double nf[ops::kLanes] = {}, fn[ops::kLanes] = {}, ff[ops::kLanes] = {};
  NUTSHELL_SIMD_FOR(n,
                    const double join_near = rho_near[i] + p_far_beg[i];  // near + far's first
                    const double join_far = rho_far[i] + p_near_end[i];   // far + near's last
                    const double whole = rho_near[i] + rho_far[i];
                    rho_near[i] = whole;
                    wn[lane] += v_near_beg[i] * whole;
                    wf[lane] += v_far_end[i] * whole;
                    nn[lane] += v_near_beg[i] * join_near;
                    nf[lane] += v_far_beg[i] * join_near;
                    fn[lane] += v_near_end[i] * join_far;
                    ff[lane] += v_far_end[i] * join_far;);
  return ops::sum_lanes(wn) > 0.0 && ops::sum_lanes(wf) > 0.0 && ops::sum_lanes(nn) > 0.0 &&
         ops::sum_lanes(nf) > 0.0 && ops::sum_lanes(fn) > 0.0 && ops::sum_lanes(ff) > 0.0;
}

/// Copies the point `z` into proposal `p`; `grad_velocity` (M^-1 grad at
/// `z`, carried for non-diagonal metrics) too when not null.
inline void store_proposal(const IntegratorState& z, const double* grad_velocity, double energy,
                           Workspace::Proposal& p) {
  std::copy(z.position.begin(), z.position.end(), p.position);
  std::copy(z.logdensity_grad.begin(), z.logdensity_grad.end(), p.logdensity_grad);
  if (grad_velocity) std::copy(grad_velocity, grad_velocity + z.position.size(), p.grad_velocity);
  p.logdensity = z.logdensity;
  p.energy = energy;
}

/// Why a subtree stopped growing.
enum class Subtree { kValid, kDivergent, kTurning };

/// Builds subtrees and merges them into the trajectory. Holds references
/// only; one per transition.
template <LogDensity F, TreeChoices C>
class TreeBuilder {
 public:
  TreeBuilder(const Integrator& integrator, double divergence_threshold, F& logdensity,
              const Metric& metric, double step_size, C& choices, Workspace& ws,
              TrajectoryResult& result, bool symmetric_statistic = false)
      : integrator_(integrator),
        divergence_threshold_(divergence_threshold),
        symmetric_statistic_(symmetric_statistic),
        f_(logdensity),
        metric_(metric),
        step_size_(step_size),
        choices_(choices),
        ws_(ws),
        r_(result),
        n_(ws.ends[0].position.size()) {}

  /// Grows a subtree of 2^height leaves from the trajectory end `side`
  /// (0 backward, 1 forward), integrating that end onwards in place. On
  /// kValid, `*result` is the subtree (a slot of ws.nodes that the caller may
  /// clobber).
  absl::Status build_subtree(int expansion, int height, int side, Subtree& outcome,
                             Workspace::Node*& result) {
    const double eps = side == 1 ? step_size_ : -step_size_;
    IntegratorState& z = ws_.ends[side];
    const std::uint64_t num_leaves = std::uint64_t{1} << height;
    for (std::uint64_t i = 0; i < num_leaves; ++i) {
      // nodes[0] is free for an even leaf (bit 0 of i is clear); an odd leaf
      // merges into the single leaf waiting there, whose v_end is unused.
      Workspace::Node& slot = ws_.nodes[0];
      const bool even = (i & 1) == 0;
      // The leaf's last pass also copies an even leaf's momentum to p_beg, or
      // merges an odd leaf with the even one before it (LeafMerge).
      LeafMerge fused;
      if (even) {
        fused.kind = LeafMerge::Kind::kFirst;
        fused.p_copy = slot.p_beg;
      } else {
        fused.kind = LeafMerge::Kind::kSecond;
        fused.rho = slot.rho;
        fused.p_end = slot.p_end;
        fused.p_near = slot.p_beg;
        fused.v_near = slot.v_beg;
      }
      double h = 0.0, w = 0.0;
      if (auto s = leapfrog(z, ws_.carried[side], eps, even ? slot.v_beg : slot.v_end, h, w, fused);
          !s.ok())
        return s;
      if (h - r_.h0 > divergence_threshold_) {
        outcome = Subtree::kDivergent;
        return absl::OkStatus();
      }
      if (even) {
        store_proposal(z, carried_grad_velocity(side), h, slot.proposal);
        slot.weight = w;
        if (height == 0) {
          std::copy(z.momentum.begin(), z.momentum.end(), slot.rho);
          std::copy(z.momentum.begin(), z.momentum.end(), slot.p_end);
          std::copy(slot.v_beg, slot.v_beg + n_, slot.v_end);
          result = &slot;
          outcome = Subtree::kValid;
          return absl::OkStatus();
        }
        continue;
      }
      // One merge per trailing one bit of i, as Stan's recursion unwinds.
      if (!merge_leaf(expansion, i, slot, z, carried_grad_velocity(side), w, h, fused)) {
        outcome = Subtree::kTurning;
        return absl::OkStatus();
      }
      int level = 1;  // the merged node has 2^level leaves, in nodes[level - 1]
      while ((i >> level) & 1) {
        const std::uint64_t boundary = i + 1 - (std::uint64_t{1} << level);
        if (!merge_nodes(expansion, boundary, ws_.nodes[level], ws_.nodes[level - 1])) {
          outcome = Subtree::kTurning;
          return absl::OkStatus();
        }
        ++level;
      }
      if (level == height) {
        result = &ws_.nodes[level - 1];
        outcome = Subtree::kValid;
        return absl::OkStatus();
      }
      // Park the node as the pending left sibling at its height; that slot is
      // free because bit `level` of i is clear.
      std::swap(ws_.nodes[level - 1], ws_.nodes[level]);
    }
    outcome = Subtree::kValid;  // unreachable: the last leaf returns above
    return absl::OkStatus();
  }

  /// Biased progressive sampling of the new subtree `sub` against the
  /// trajectory, then the top-level criterion. Returns false on a U-turn.
  bool merge_into_trajectory(int expansion, int side, Workspace::Node& sub) {
    // old_sum is 0 only when a rescale made the old trajectory negligible;
    // then a subtree of positive weight is taken by the first test, and one
    // of weight 0 is not (0 / 0 compares false).
    const double old_sum = r_.sum_weight;
    if (sub.weight > old_sum || choices_.merge_uniform(expansion) < sub.weight / old_sum) {
      std::swap(ws_.sample, sub.proposal);
      r_.selected_initial = false;
    }
    r_.sum_weight = old_sum + sub.weight;
    // The old trajectory is the near half: its "beginning" is the end away
    // from the new subtree.
    const int other = 1 - side;
    const bool ok = merge_subtrees(n_, ws_.rho, ws_.end_v[other], ws_.end_p[side], ws_.end_v[side],
                                   sub.rho, sub.p_beg, sub.v_beg, sub.v_end);
    std::swap(ws_.end_p[side], sub.p_end);
    std::swap(ws_.end_v[side], sub.v_end);
    return ok;
  }

 private:
  // M^-1 grad carried at trajectory end `side` (null for diagonal metrics,
  // whose leaves do not carry it).
  const double* carried_grad_velocity(int side) const {
    return metric_.is_diagonal() ? nullptr : ws_.carried[side].grad_velocity.data();
  }

  // One integrator step of `z` (nuts_leapfrog.hpp); `h` is the new
  // Hamiltonian (+inf when not finite), `w` its weight exp(H0 - H) on the
  // trajectory's scale, and `v` receives the new velocity.
  absl::Status leapfrog(IntegratorState& z, CarriedVelocity& carried, double eps, double* v,
                        double& h, double& w, LeafMerge& fused) {
    auto s = leaf_step(integrator_, metric_, f_, z, carried, eps, v, h, &fused);
    if (!s.ok()) return s;
    ++r_.num_steps;
    const double delta = r_.h0 - h;
    if (delta - r_.weight_shift > kRescaleAbove) [[unlikely]]
      rescale_weights(delta);
    w = std::exp(delta - r_.weight_shift);
    // On the unshifted scale the weight is the exp the statistic needs.
    const double metro = r_.weight_shift == 0.0 ? w : std::exp(delta);
    r_.sum_metro_prob += delta > 0.0 ? 1.0 : metro;
    // 2 min(1, m) / (1 + m) = 2 / (1 + exp(|delta|)); m = +inf gives 0, and
    // a non-finite H (m = 0) gives 0.
    if (symmetric_statistic_) r_.sum_symmetric_prob += 2.0 * std::min(1.0, metro) / (1.0 + metro);
    return absl::OkStatus();
  }

  // Moves the weights' scale so that a leaf with H0 - H = `delta` has weight
  // 1: every weight held (the trajectory's sum, every node's; unused nodes'
  // stale weights are harmless) shrinks by the same factor.
  void rescale_weights(double delta) {
    const double factor = std::exp(r_.weight_shift - delta);
    r_.weight_shift = delta;
    r_.sum_weight *= factor;
    for (Workspace::Node& node : ws_.nodes) node.weight *= factor;
  }

  // Merges the leaf just built (index i, odd; velocity already in
  // left.v_end) into the single leaf `left`. The vector work (rho, the far
  // momentum, the two dot products) was done in the leaf's last pass
  // (`fused`). When both weights underflowed (below 1e-300 of the
  // trajectory's), 0 / 0 is NaN, the comparison false, and the left point
  // stays, as good as any.
  bool merge_leaf(int expansion, std::uint64_t i, Workspace::Node& left, const IntegratorState& z,
                  const double* grad_velocity, double w, double h, const LeafMerge& fused) {
    const double sum = left.weight + w;
    if (choices_.subtree_uniform(expansion, i) < w / sum)
      store_proposal(z, grad_velocity, h, left.proposal);
    left.weight = sum;
    return fused.near > 0.0 && fused.far > 0.0;
  }

  // Merges `right` into its left sibling `left` (uniform progressive
  // sampling and the three checks); the result is left in `left`.
  bool merge_nodes(int expansion, std::uint64_t boundary, Workspace::Node& left,
                   Workspace::Node& right) {
    const double sum = left.weight + right.weight;
    if (choices_.subtree_uniform(expansion, boundary) < right.weight / sum)
      std::swap(left.proposal, right.proposal);
    left.weight = sum;
    const bool ok = merge_subtrees(n_, left.rho, left.v_beg, left.p_end, left.v_end, right.rho,
                                   right.p_beg, right.v_beg, right.v_end);
    std::swap(left.p_end, right.p_end);
    std::swap(left.v_end, right.v_end);
    return ok;
  }

  const Integrator& integrator_;
  double divergence_threshold_;
  bool symmetric_statistic_;  // accumulate sum_symmetric_prob (a division per leaf)
  F& f_;
  const Metric& metric_;
  double step_size_;
  C& choices_;
  Workspace& ws_;
  TrajectoryResult& r_;
  std::size_t n_;
};

}  // namespace detail
}  // namespace nutshell::nuts
