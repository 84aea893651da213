// NUTS's per-chain scratch (Workspace) and the source of its random choices
// (KeySchedule): every choice addressed by its place in the tree, so a
// recursive and an iterative builder draw identical numbers.
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
#include "nutshell/core/normals.hpp"
#include "nutshell/core/vector_ops.hpp"
#include "nutshell/mcmc/nuts_leapfrog.hpp"

namespace nutshell::nuts {

/// Scratch for one chain, sized on first use (dimension and maximum depth)
/// and reused, so a steady-state transition allocates nothing. Never share
/// one between threads. Copying gives an empty workspace (the buffers hold
/// no state between transitions, and a copy must not point into the
/// original's storage). Members are public so tests can inspect a trajectory.
struct Workspace {
  /// A point that may be returned. Buffers are `dim` doubles in `storage`.
  struct Proposal {
    double* position = nullptr;
    double* logdensity_grad = nullptr;
    /// M^-1 grad at the point (non-diagonal metrics only; else unused), so
    /// that the next transition starting here need not recompute it.
    double* grad_velocity = nullptr;
    double logdensity = 0.0;
    double energy = 0.0;
  };
  /// A completed subtree: what Stan's recursion carries through its
  /// by-reference parameters. "beg" is the end nearest the initial point,
  /// "end" the far end, whichever the direction.
  struct Node {
    double* rho = nullptr;    ///< summed momentum of the subtree's leaves
    double* p_beg = nullptr;  ///< momentum at the near end
    double* v_beg = nullptr;  ///< velocity M^-1 p at the near end
    double* p_end = nullptr;  ///< momentum at the far end
    double* v_end = nullptr;  ///< velocity at the far end
    Proposal proposal;
    /// Sum of exp(H0 - H) over the leaves, on the trajectory's linear scale
    /// (TrajectoryResult::weight_shift).
    double weight = 0.0;
  };

  /// nodes[h] holds the pending left sibling of 2^h leaves while its right
  /// sibling is built; nodes[0] also receives each new leaf.
  std::vector<Node> nodes;
  /// The two ends of the trajectory, integrated onwards in place: [0] is the
  /// backward end, [1] the forward end.
  std::array<IntegratorState, 2> ends;
  /// Momentum and velocity at the two ends, kept apart from `ends` because
  /// the cross-subtree checks need an end's momentum after it has moved on.
  std::array<double*, 2> end_p{}, end_v{};
  /// Summed momentum over the accepted trajectory, initial point included.
  double* rho = nullptr;
  /// The current multinomial sample (meaningless while it is the initial point).
  Proposal sample;
  Vec momentum;  ///< the initial momentum
  Vec velocity;  ///< integrator scratch
  Vec dense_v;   ///< velocity scratch for dense metrics
  /// Per end, the velocity and M^-1 grad carried by the integrator for a
  /// non-diagonal metric (see nuts_leapfrog.hpp); sized on first use.
  std::array<detail::CarriedVelocity, 2> carried;
  /// Non-diagonal metrics: M^-1 grad at the last returned point, with that
  /// gradient and the metric's id, reused when the next transition starts
  /// from the same gradient under the same metric (the usual case: a chain
  /// continues from where it stopped). The product is the same either way,
  /// so results do not depend on whether the cache hits.
  Vec cached_grad, cached_grad_velocity;
  std::uint64_t cached_metric_id = 0;

  /// An empty workspace; buffers are sized by the first transition.
  Workspace() = default;
  /// Copies start empty: see the struct comment.
  Workspace(const Workspace&) : Workspace() {}
  Workspace& operator=(const Workspace&) {
    *this = Workspace();
    return *this;
  }
  Workspace(Workspace&&) noexcept = default;
  Workspace& operator=(Workspace&&) noexcept = default;

  /// The trajectory's summed momentum after a transition (for tests).
  std::span<const double> trajectory_rho() const { return {rho, dim_}; }

  /// Sizes every buffer for `dim` dimensions and trees of up to
  /// `max_num_doublings` doublings. Allocates only when the dimension
  /// changes or the depth grows; otherwise a couple of comparisons.
  void resize(std::size_t dim, int max_num_doublings) {
    const std::size_t depth = static_cast<std::size_t>(std::max(max_num_doublings, 1));
    if (dim == dim_ && depth <= nodes.size()) return;
    dim_ = dim;
    nodes.resize(std::max(depth, nodes.size()));
    constexpr std::size_t kPerNode = 8, kTop = 8;
    storage_.assign((kPerNode * nodes.size() + kTop) * dim, 0.0);
    double* next = storage_.data();
    auto take = [&] {
      double* p = next;
      next += dim;
      return p;
    };
    for (Node& n : nodes) {
      n.rho = take();
      n.p_beg = take();
      n.v_beg = take();
      n.p_end = take();
      n.v_end = take();
      n.proposal.position = take();
      n.proposal.logdensity_grad = take();
      n.proposal.grad_velocity = take();
    }
    for (int s = 0; s < 2; ++s) {
      end_p[s] = take();
      end_v[s] = take();
      ensure_size(ends[s].position, dim);
      ensure_size(ends[s].momentum, dim);
      ensure_size(ends[s].logdensity_grad, dim);
    }
    rho = take();
    sample.position = take();
    sample.logdensity_grad = take();
    sample.grad_velocity = take();
    cached_metric_id = 0;  // buffers reallocated: nothing cached
    ensure_size(momentum, dim);
    ensure_size(velocity, dim);
    ensure_size(dense_v, dim);
    ensure_size(cached_grad, dim);
    ensure_size(cached_grad_velocity, dim);
  }

 private:
  std::vector<double> storage_;
  std::size_t dim_ = 0;
};

/// Where every random choice of a transition comes from, derived from the
/// step key alone:
///   split(key, 2) -> (momentum key, tree key); the first word of
///                    split_one(key, 2), from the same Threefry call, is the
///                    step-size jitter's uniform (Params::step_size_jitter)
///   expansion e   -> one Threefry block under the tree key: its first word's
///                    top bit is the direction, its second word the uniform
///                    for merging the new subtree into the trajectory
///   merge node    -> one block under the tree key addressed by (e, b), where
///                    b is the leaf (numbered from 0 in integration order
///                    within the subtree) at which the node's right half
///                    starts; b identifies the node uniquely.
/// Keying choices by position in the tree, not by draw order, is what lets a
/// recursive and an iterative implementation consume identical randomness;
/// one block per choice keeps the cost to a few hash evaluations per step.
class KeySchedule {
 public:
  /// The two children are split_one(key, 0) and split_one(key, 1), computed
  /// in one 8-lane Threefry call.
  explicit KeySchedule(const Key& key) {
    std::array<std::uint64_t, 2 * nutshell::detail::kThreefryLanes> w;
    nutshell::detail::threefry_lanes(key, 0, nutshell::detail::kSplitTag, w);
    momentum_ = Key{{w[0], w[1]}};
    tree_ = Key{{w[2], w[3]}};
    jitter_word_ = w[4];
  }
  /// The key the initial momentum is drawn from.
  const Key& momentum_key() const { return momentum_; }
  /// The uniform in (0, 1) that jitters the step size (nothing else uses it).
  double jitter_uniform() const { return nutshell::detail::to_unit_open(jitter_word_); }
  /// +1 (forward) or -1 (backward) for expansion `expansion`.
  int direction(int expansion) { return (block(expansion)[0] >> 63) ? 1 : -1; }
  /// The uniform for biased progressive sampling when expansion `expansion`
  /// is merged into the trajectory.
  double merge_uniform(int expansion) {
    return nutshell::detail::to_unit_open(block(expansion)[1]);
  }
  /// The uniform for uniform progressive sampling at the subtree node of
  /// expansion `expansion` whose right half starts at leaf `boundary`.
  /// Computed 8 boundaries at a time (Threefry on 8 counters at once,
  /// bitwise the one-block-per-node definition): a subtree visits its
  /// boundaries in runs inside one aligned group of 8.
  double subtree_uniform(int expansion, std::uint64_t boundary) {
    const std::uint64_t base = boundary & ~std::uint64_t{nutshell::detail::kThreefryLanes - 1};
    if (expansion != node_expansion_ || base != node_base_) {
      nutshell::detail::threefry_lanes(tree_, base, kNodeTag + static_cast<std::uint64_t>(expansion),
                                       node_words_);
      node_expansion_ = expansion;
      node_base_ = base;
    }
    return nutshell::detail::to_unit_open(node_words_[2 * (boundary - base)]);
  }

 private:
  // Tags keep the counter spaces of expansion and node draws disjoint; the
  // tree key is used for nothing else.
  static constexpr std::uint64_t kExpansionTag = 0x4e55545345585000ULL;  // "NUTSEXP"
  static constexpr std::uint64_t kNodeTag = 0x4e5554534e4f0000ULL;       // "NUTSNO" + e
  // Direction and merge uniform come from the same block; the blocks of 8
  // expansions are computed at once and cached.
  std::array<std::uint64_t, 2> block(int expansion) {
    const int base = expansion & ~static_cast<int>(nutshell::detail::kThreefryLanes - 1);
    if (base != cached_) {
      nutshell::detail::threefry_lanes(tree_, static_cast<std::uint64_t>(base), kExpansionTag,
                                       cached_blocks_);
      cached_ = base;
    }
    const std::size_t j = 2 * static_cast<std::size_t>(expansion - base);
    return {cached_blocks_[j], cached_blocks_[j + 1]};
  }
  Key momentum_, tree_;
  std::uint64_t jitter_word_ = 0;
  int cached_ = -1;
  std::array<std::uint64_t, 2 * nutshell::detail::kThreefryLanes> cached_blocks_{};
  int node_expansion_ = -1;
  std::uint64_t node_base_ = 0;
  std::array<std::uint64_t, 2 * nutshell::detail::kThreefryLanes> node_words_{};
};

/// A source of the random choices of one trajectory: KeySchedule in normal
/// use; tests substitute forced directions.
template <class C>
concept TreeChoices = requires(C& c, int expansion, std::uint64_t boundary) {
  { c.jitter_uniform() } -> std::convertible_to<double>;
  { c.direction(expansion) } -> std::convertible_to<int>;
  { c.merge_uniform(expansion) } -> std::convertible_to<double>;
  { c.subtree_uniform(expansion, boundary) } -> std::convertible_to<double>;
};

}  // namespace nutshell::nuts
