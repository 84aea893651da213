// The No-U-Turn Sampler, with exactly the semantics of Stan >= 2.21
// (`base_nuts.hpp`): multinomial sampling, trajectory doubling in a random
// direction, the generalized no-U-turn criterion on the summed momentum with
// the extra checks across the two halves of every merged subtree, and Stan's
// divergence and acceptance-statistic conventions.
//
// Layers, as in hmc.hpp:
//   nuts::init(position, logdensity)                      -> State
//   nuts::build_kernel(integrator, max_doublings, thresh)  -> Kernel; kernel(key, state, f, params)
//   nuts::sampler(logdensity, params)                      -> bundle with .init / .step
//
// The tree is built iteratively. A subtree of 2^h leaves is grown leaf by
// leaf; after leaf i the completed nodes are merged bottom-up exactly where
// Stan's recursion would merge them (once per trailing one bit of i), so the
// multinomial choices and U-turn checks are Stan's, in Stan's order. Pending
// left siblings wait in a per-height stack of node buffers carved out of one
// allocation made on first use; results move between slots by swapping
// pointers, so a steady-state transition allocates nothing. Each merge's
// vector work is one fused loop, because at moderate dimension the tree
// bookkeeping, not the gradient, would otherwise dominate.
//
// Randomness: every choice is a pure function of the step key (KeySchedule),
// addressed by where in the tree it is made rather than by the order in which
// it is drawn, so any correct implementation asking for the same choices gets
// the same numbers (tests run a recursive transcription of Stan against this).
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
#include "nutshell/integrators.hpp"
#include "nutshell/kernel_api.hpp"
#include "nutshell/key.hpp"
#include "nutshell/logdensity.hpp"
#include "nutshell/metric.hpp"
#include "nutshell/state.hpp"
#include "nutshell/validation.hpp"
#include "nutshell/vector_ops.hpp"

namespace nutshell::nuts {

using State = GradientState;

/// Tunables of one NUTS transition: what window adaptation changes between
/// calls.
struct Params {
  double step_size = 1.0;
  Metric inverse_mass_matrix;
};

/// What happened in one transition.
struct Info {
  Vec momentum;               ///< the momentum drawn at the start
  bool is_divergent = false;  ///< a leaf had H - H0 > threshold or a non-finite energy
  bool is_turning = false;    ///< stopped by a U-turn (top level or inside the last subtree)
  double energy = 0.0;        ///< Hamiltonian at the returned point (Stan's energy__)
  int num_trajectory_expansions = 0;  ///< completed doublings (Stan's treedepth__)
  /// Integrator steps taken, rejected subtrees included (Stan's n_leapfrog__;
  /// multiply by integrator.gradient_evaluations() for gradient counts).
  int num_integration_steps = 0;
  /// Mean of min(1, exp(H0 - H)) over every state integrated (rejected
  /// subtrees included, initial point excluded): Stan's accept_stat__, the
  /// dual-averaging target.
  double acceptance_rate = 0.0;
};

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
    double log_weight = 0.0;  ///< log sum of exp(H0 - H) over the leaves
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
    constexpr std::size_t kPerNode = 7, kTop = 7;
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
    ensure_size(momentum, dim);
    ensure_size(velocity, dim);
    ensure_size(dense_v, dim);
  }

 private:
  std::vector<double> storage_;
  std::size_t dim_ = 0;
};

/// Where every random choice of a transition comes from, derived from the
/// step key alone:
///   split(key, 2) -> (momentum key, tree key)
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
  explicit KeySchedule(const Key& key) : momentum_(split_one(key, 0)), tree_(split_one(key, 1)) {}
  /// The key the initial momentum is drawn from.
  const Key& momentum_key() const { return momentum_; }
  /// +1 (forward) or -1 (backward) for expansion `expansion`.
  int direction(int expansion) { return (block(expansion)[0] >> 63) ? 1 : -1; }
  /// The uniform for biased progressive sampling when expansion `expansion`
  /// is merged into the trajectory.
  double merge_uniform(int expansion) {
    return nutshell::detail::to_unit_open(block(expansion)[1]);
  }
  /// The uniform for uniform progressive sampling at the subtree node of
  /// expansion `expansion` whose right half starts at leaf `boundary`.
  double subtree_uniform(int expansion, std::uint64_t boundary) {
    return nutshell::detail::to_unit_open(nutshell::detail::threefry(
        tree_, boundary, kNodeTag + static_cast<std::uint64_t>(expansion))[0]);
  }

 private:
  // Tags keep the counter spaces of expansion and node draws disjoint; the
  // tree key is used for nothing else.
  static constexpr std::uint64_t kExpansionTag = 0x4e55545345585000ULL;  // "NUTSEXP"
  static constexpr std::uint64_t kNodeTag = 0x4e5554534e4f0000ULL;       // "NUTSNO" + e
  // Direction and merge uniform come from the same block; cache it.
  const std::array<std::uint64_t, 2>& block(int expansion) {
    if (expansion != cached_) {
      cached_block_ =
          nutshell::detail::threefry(tree_, static_cast<std::uint64_t>(expansion), kExpansionTag);
      cached_ = expansion;
    }
    return cached_block_;
  }
  Key momentum_, tree_;
  int cached_ = -1;
  std::array<std::uint64_t, 2> cached_block_{};
};

/// A source of the random choices of one trajectory: KeySchedule in normal
/// use; tests substitute forced directions.
template <class C>
concept TreeChoices = requires(C& c, int expansion, std::uint64_t boundary) {
  { c.direction(expansion) } -> std::convertible_to<int>;
  { c.merge_uniform(expansion) } -> std::convertible_to<double>;
  { c.subtree_uniform(expansion, boundary) } -> std::convertible_to<double>;
};

/// Evaluates the log density and gradient at `position` (validated).
template <LogDensity F>
absl::StatusOr<State> init(const Vec& position, F&& logdensity) {
  return init_gradient_state(position, logdensity);
}

/// The NUTS transition for fixed structural choices.
struct Kernel {
  using State = nuts::State;
  using Params = nuts::Params;
  using Info = nuts::Info;
  using Workspace = nuts::Workspace;

  Integrator integrator = velocity_verlet;
  /// Stan's max_depth: at most 2^max - 1 integration steps per transition.
  /// Must be in [1, 30].
  int max_num_doublings = 10;
  /// A leaf with H - H0 above this is divergent and ends the transition.
  double divergence_threshold = 1000.0;

  /// One transition from `state` into `out` (which must not alias `state`),
  /// using `ws` as scratch. Errors: invalid params or dimensions, a state
  /// whose energy is not finite, or a log density that throws. Divergences
  /// are reported in `info`, not as errors.
  template <LogDensity F>
  absl::Status step_into(const Key& key, const State& state, F& logdensity, const Params& params,
                         State& out, Info& info, Workspace& ws) const;

  /// Pure form (see pure_step): returns a new state and info, allocated.
  template <LogDensity F>
  absl::StatusOr<Transition<State, Info>> operator()(const Key& key, const State& state,
                                                     F&& logdensity, const Params& params) const {
    return pure_step(*this, key, state, logdensity, params);
  }
};

/// The NUTS kernel with the given integrator, maximum number of doublings and
/// divergence threshold (Stan's and Blackjax's defaults).
inline Kernel build_kernel(Integrator integrator = velocity_verlet, int max_num_doublings = 10,
                           double divergence_threshold = 1000.0) {
  return Kernel{integrator, max_num_doublings, divergence_threshold};
}

namespace detail {

/// Counters of one trajectory, for the kernel's Info and for exactness tests.
struct TrajectoryResult {
  int depth = 0;      ///< completed doublings
  int num_steps = 0;  ///< integrator steps, rejected subtrees included
  bool is_divergent = false;
  bool is_turning = false;
  double h0 = 0.0;               ///< Hamiltonian at the initial point
  double log_sum_weight = 0.0;   ///< log sum exp(H0 - H) over the accepted trajectory
  double sum_metro_prob = 0.0;   ///< sum of min(1, exp(H0 - H)) over all steps
  bool selected_initial = true;  ///< the sample is the initial point (else ws.sample)
};

/// log(exp(a) + exp(b)), written as Stan math's log_sum_exp.
inline double log_add_exp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (a == std::numeric_limits<double>::infinity() && b == std::numeric_limits<double>::infinity())
    return a;
  if (a > b) return a + std::log1p(std::exp(b - a));
  return b + std::log1p(std::exp(a - b));
}

// The loops below fuse each merge's vector work into one pass and keep
// several partial sums per dot product: a single running sum is bound by the
// floating-point add latency, which made these reductions cost more than a
// cheap gradient.

/// Hamiltonian at `z`, writing its velocity M^-1 p to `v`; +inf when the
/// energy or the log density is not finite (Stan maps NaN to +inf, which
/// makes the point divergent). A non-finite gradient needs no separate
/// check: every integrator ends on a momentum update with it, so it reaches
/// the kinetic energy.
inline double hamiltonian(const Metric& metric, const IntegratorState& z, double* v,
                          Vec& dense_scratch) {
  const std::size_t n = z.position.size();
  const double* __restrict p = z.momentum.data();
  // Identity and diagonal metrics are the common case: scale p into v in the
  // same pass as the energy sum (the identity's diagonal is ones).
  const double* __restrict d = nullptr;
  if (metric.kind() == Metric::Kind::kDense) {
    metric.velocity(z.momentum, dense_scratch);
    std::copy(dense_scratch.begin(), dense_scratch.end(), v);
  } else {
    d = metric.inverse_mass_diagonal().data();
  }
  double k0 = 0.0, k1 = 0.0, k2 = 0.0, k3 = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    if (d) {
      v[i] = d[i] * p[i];
      v[i + 1] = d[i + 1] * p[i + 1];
      v[i + 2] = d[i + 2] * p[i + 2];
      v[i + 3] = d[i + 3] * p[i + 3];
    }
    k0 += p[i] * v[i];
    k1 += p[i + 1] * v[i + 1];
    k2 += p[i + 2] * v[i + 2];
    k3 += p[i + 3] * v[i + 3];
  }
  for (; i < n; ++i) {
    if (d) v[i] = d[i] * p[i];
    k0 += p[i] * v[i];
  }
  const double h = -z.logdensity + 0.5 * ((k0 + k2) + (k1 + k3));
  return std::isfinite(z.logdensity) && !std::isnan(h) ? h
                                                       : std::numeric_limits<double>::infinity();
}

/// Merge of two single leaves (near: momentum `p_near`, velocity `v_near`;
/// far: `p_far`, `v_far`): writes rho = p_near + p_far and the far momentum,
/// and returns Stan's criterion. For two leaves Stan's three checks coincide:
/// each spans the pair.
inline bool merge_leaves(std::size_t n, double* __restrict rho, double* __restrict p_end,
                         const double* __restrict p_near, const double* __restrict v_near,
                         const double* __restrict p_far, const double* __restrict v_far) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, b0 = 0.0, b1 = 0.0, b2 = 0.0, b3 = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double r0 = p_near[i] + p_far[i];
    const double r1 = p_near[i + 1] + p_far[i + 1];
    const double r2 = p_near[i + 2] + p_far[i + 2];
    const double r3 = p_near[i + 3] + p_far[i + 3];
    rho[i] = r0;
    rho[i + 1] = r1;
    rho[i + 2] = r2;
    rho[i + 3] = r3;
    p_end[i] = p_far[i];
    p_end[i + 1] = p_far[i + 1];
    p_end[i + 2] = p_far[i + 2];
    p_end[i + 3] = p_far[i + 3];
    a0 += v_near[i] * r0;
    a1 += v_near[i + 1] * r1;
    a2 += v_near[i + 2] * r2;
    a3 += v_near[i + 3] * r3;
    b0 += v_far[i] * r0;
    b1 += v_far[i + 1] * r1;
    b2 += v_far[i + 2] * r2;
    b3 += v_far[i + 3] * r3;
  }
  for (; i < n; ++i) {
    const double r = p_near[i] + p_far[i];
    rho[i] = r;
    p_end[i] = p_far[i];
    a0 += v_near[i] * r;
    b0 += v_far[i] * r;
  }
  a0 += a2;
  a1 += a3;
  b0 += b2;
  b1 += b3;
  return a0 + a1 > 0.0 && b0 + b1 > 0.0;
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
  // Two interleaved partial sums (suffix 0 and 1) per dot product.
  double wn0 = 0.0, wf0 = 0.0, nn0 = 0.0, nf0 = 0.0, fn0 = 0.0, ff0 = 0.0;
  double wn1 = 0.0, wf1 = 0.0, nn1 = 0.0, nf1 = 0.0, fn1 = 0.0, ff1 = 0.0;
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    {
      const double join_near = rho_near[i] + p_far_beg[i];  // near half + far's first point
      const double join_far = rho_far[i] + p_near_end[i];   // far half + near's last point
      const double whole = rho_near[i] + rho_far[i];
      rho_near[i] = whole;
      wn0 += v_near_beg[i] * whole;
      wf0 += v_far_end[i] * whole;
      nn0 += v_near_beg[i] * join_near;
      nf0 += v_far_beg[i] * join_near;
      fn0 += v_near_end[i] * join_far;
      ff0 += v_far_end[i] * join_far;
    }
    {
      const std::size_t k = i + 1;
      const double join_near = rho_near[k] + p_far_beg[k];
      const double join_far = rho_far[k] + p_near_end[k];
      const double whole = rho_near[k] + rho_far[k];
      rho_near[k] = whole;
      wn1 += v_near_beg[k] * whole;
      wf1 += v_far_end[k] * whole;
      nn1 += v_near_beg[k] * join_near;
      nf1 += v_far_beg[k] * join_near;
      fn1 += v_near_end[k] * join_far;
      ff1 += v_far_end[k] * join_far;
    }
  }
  if (i < n) {
    const double join_near = rho_near[i] + p_far_beg[i];
    const double join_far = rho_far[i] + p_near_end[i];
    const double whole = rho_near[i] + rho_far[i];
    rho_near[i] = whole;
    wn0 += v_near_beg[i] * whole;
    wf0 += v_far_end[i] * whole;
    nn0 += v_near_beg[i] * join_near;
    nf0 += v_far_beg[i] * join_near;
    fn0 += v_near_end[i] * join_far;
    ff0 += v_far_end[i] * join_far;
  }
  const double whole_near = wn0 + wn1, whole_far = wf0 + wf1;
  const double join_near_near = nn0 + nn1, join_near_far = nf0 + nf1;
  const double join_far_near = fn0 + fn1, join_far_far = ff0 + ff1;
  return whole_near > 0.0 && whole_far > 0.0 && join_near_near > 0.0 && join_near_far > 0.0 &&
         join_far_near > 0.0 && join_far_far > 0.0;
}

inline void store_proposal(const IntegratorState& z, double energy, Workspace::Proposal& p) {
  std::copy(z.position.begin(), z.position.end(), p.position);
  std::copy(z.logdensity_grad.begin(), z.logdensity_grad.end(), p.logdensity_grad);
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
  TreeBuilder(const Kernel& kernel, F& logdensity, const Params& params, C& choices, Workspace& ws,
              TrajectoryResult& result)
      : kernel_(kernel),
        f_(logdensity),
        metric_(params.inverse_mass_matrix),
        step_size_(params.step_size),
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
      double h = 0.0;
      if (auto s = leapfrog(z, eps, even ? slot.v_beg : slot.v_end, h); !s.ok()) return s;
      if (h - r_.h0 > kernel_.divergence_threshold) {
        outcome = Subtree::kDivergent;
        return absl::OkStatus();
      }
      const double log_w = r_.h0 - h;
      if (even) {
        std::copy(z.momentum.begin(), z.momentum.end(), slot.p_beg);
        store_proposal(z, h, slot.proposal);
        slot.log_weight = log_w;
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
      if (!merge_leaf(expansion, i, slot, z, log_w, h)) {
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
    if (sub.log_weight > r_.log_sum_weight ||
        choices_.merge_uniform(expansion) < std::exp(sub.log_weight - r_.log_sum_weight)) {
      std::swap(ws_.sample, sub.proposal);
      r_.selected_initial = false;
    }
    r_.log_sum_weight = log_add_exp(r_.log_sum_weight, sub.log_weight);
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
  // One integrator step of `z`; `h` is the new Hamiltonian (+inf when not
  // finite) and `v` receives the new velocity.
  absl::Status leapfrog(IntegratorState& z, double eps, double* v, double& h) {
    auto s = integrate_step(kernel_.integrator, metric_, f_, z, eps, ws_.velocity);
    if (!s.ok()) return s;
    ++r_.num_steps;
    h = hamiltonian(metric_, z, v, ws_.dense_v);
    const double delta = r_.h0 - h;
    r_.sum_metro_prob += delta > 0.0 ? 1.0 : std::exp(delta);
    return absl::OkStatus();
  }

  // Merges the leaf just built (index i, odd; velocity already in
  // left.v_end) into the single leaf `left`.
  bool merge_leaf(int expansion, std::uint64_t i, Workspace::Node& left, const IntegratorState& z,
                  double log_w, double h) {
    const double log_sum = log_add_exp(left.log_weight, log_w);
    if (log_w > log_sum || choices_.subtree_uniform(expansion, i) < std::exp(log_w - log_sum))
      store_proposal(z, h, left.proposal);
    left.log_weight = log_sum;
    return merge_leaves(n_, left.rho, left.p_end, left.p_beg, left.v_beg, z.momentum.data(),
                        left.v_end);
  }

  // Merges `right` into its left sibling `left` (uniform progressive
  // sampling and the three checks); the result is left in `left`.
  bool merge_nodes(int expansion, std::uint64_t boundary, Workspace::Node& left,
                   Workspace::Node& right) {
    const double log_sum = log_add_exp(left.log_weight, right.log_weight);
    if (right.log_weight > log_sum ||
        choices_.subtree_uniform(expansion, boundary) < std::exp(right.log_weight - log_sum))
      std::swap(left.proposal, right.proposal);
    left.log_weight = log_sum;
    const bool ok = merge_subtrees(n_, left.rho, left.v_beg, left.p_end, left.v_end, right.rho,
                                   right.p_beg, right.v_beg, right.v_end);
    std::swap(left.p_end, right.p_end);
    std::swap(left.v_end, right.v_end);
    return ok;
  }

  const Kernel& kernel_;
  F& f_;
  const Metric& metric_;
  double step_size_;
  C& choices_;
  Workspace& ws_;
  TrajectoryResult& r_;
  std::size_t n_;
};

inline absl::Status check_inputs(const Kernel& kernel, const State& state, const Params& params) {
  if (auto s = nutshell::detail::check_step_size(params.step_size); !s.ok()) return s;
  if (kernel.max_num_doublings < 1 || kernel.max_num_doublings > 30)
    return absl::InvalidArgumentError(
        absl::StrCat("max_num_doublings must be in [1, 30], got ", kernel.max_num_doublings));
  if (!(kernel.divergence_threshold > 0.0))
    return absl::InvalidArgumentError(
        absl::StrCat("divergence_threshold must be > 0, got ", kernel.divergence_threshold));
  if (auto s = nutshell::detail::check_gradient_state(state); !s.ok()) return s;
  return nutshell::detail::check_metric(params.inverse_mass_matrix, state.position.size());
}

/// One NUTS trajectory from `state` with the given initial `momentum` and
/// random choices: the kernel's core, exposed so tests can force directions
/// and momenta. The sample is the initial point if `result.selected_initial`,
/// else `ws.sample`; `ws.trajectory_rho()` is the summed momentum of the
/// accepted trajectory.
template <LogDensity F, TreeChoices C>
absl::Status build_trajectory(const Kernel& kernel, F& logdensity, const Params& params,
                              const State& state, const Vec& momentum, C& choices, Workspace& ws,
                              TrajectoryResult& result) {
  if (auto s = check_inputs(kernel, state, params); !s.ok()) return s;
  const std::size_t dim = state.position.size();
  if (auto s = nutshell::detail::check_dimension("the momentum", momentum.size(), dim); !s.ok())
    return s;
  ws.resize(dim, kernel.max_num_doublings);

  result = TrajectoryResult{};
  for (IntegratorState& z : ws.ends) {
    ops::copy(state.position, z.position);
    ops::copy(momentum, z.momentum);
    ops::copy(state.logdensity_grad, z.logdensity_grad);
    z.logdensity = state.logdensity;
  }
  result.h0 = hamiltonian(params.inverse_mass_matrix, ws.ends[0], ws.end_v[0], ws.dense_v);
  if (!std::isfinite(result.h0))
    return absl::InvalidArgumentError(
        "the initial energy is not finite: check the state's log density and the momentum");
  std::copy(ws.end_v[0], ws.end_v[0] + dim, ws.end_v[1]);
  std::copy(momentum.begin(), momentum.end(), ws.end_p[0]);
  std::copy(momentum.begin(), momentum.end(), ws.end_p[1]);
  std::copy(momentum.begin(), momentum.end(), ws.rho);
  result.log_sum_weight = 0.0;  // the initial point has weight exp(H0 - H0)

  TreeBuilder<F, C> builder(kernel, logdensity, params, choices, ws, result);
  while (result.depth < kernel.max_num_doublings) {
    const int expansion = result.depth;
    const int side = choices.direction(expansion) > 0 ? 1 : 0;
    Subtree outcome = Subtree::kValid;
    Workspace::Node* sub = nullptr;
    if (auto s = builder.build_subtree(expansion, expansion, side, outcome, sub); !s.ok()) return s;
    if (outcome != Subtree::kValid) {
      // Nothing from an invalid subtree can be selected.
      result.is_divergent = outcome == Subtree::kDivergent;
      result.is_turning = outcome == Subtree::kTurning;
      break;
    }
    ++result.depth;
    if (!builder.merge_into_trajectory(expansion, side, *sub)) {
      result.is_turning = true;
      break;
    }
  }
  return absl::OkStatus();
}

}  // namespace detail

template <LogDensity F>
absl::Status Kernel::step_into(const Key& key, const State& state, F& logdensity,
                               const Params& params, State& out, Info& info, Workspace& ws) const {
  if (auto s = detail::check_inputs(*this, state, params); !s.ok()) return s;
  const std::size_t dim = state.position.size();
  ws.resize(dim, max_num_doublings);
  KeySchedule schedule(key);
  params.inverse_mass_matrix.sample_momentum(schedule.momentum_key(), ws.momentum);
  detail::TrajectoryResult r;
  if (auto s =
          detail::build_trajectory(*this, logdensity, params, state, ws.momentum, schedule, ws, r);
      !s.ok())
    return s;
  ops::copy(ws.momentum, info.momentum);
  info.is_divergent = r.is_divergent;
  info.is_turning = r.is_turning;
  info.num_trajectory_expansions = r.depth;
  info.num_integration_steps = r.num_steps;
  info.acceptance_rate = r.sum_metro_prob / r.num_steps;  // at least one step is always taken
  if (r.selected_initial) {
    assign(out, state);
    info.energy = r.h0;
  } else {
    ensure_size(out.position, dim);
    ensure_size(out.logdensity_grad, dim);
    std::copy(ws.sample.position, ws.sample.position + dim, out.position.begin());
    std::copy(ws.sample.logdensity_grad, ws.sample.logdensity_grad + dim,
              out.logdensity_grad.begin());
    out.logdensity = ws.sample.logdensity;
    info.energy = ws.sample.energy;
  }
  return absl::OkStatus();
}

/// A log density, parameters and kernel bound together (Blackjax's
/// `blackjax.nuts(...)`). Holds its own scratch, so one sampler object serves
/// one chain at a time; copy it for another thread.
template <LogDensity F>
using Sampler = BoundSampler<Kernel, F, Params>;

/// Binds a log density, NUTS parameters and kernel options.
template <LogDensity F>
Sampler<std::decay_t<F>> sampler(F&& logdensity, Params params, Kernel kernel = {}) {
  return {std::forward<F>(logdensity), std::move(params), kernel};
}

}  // namespace nutshell::nuts
