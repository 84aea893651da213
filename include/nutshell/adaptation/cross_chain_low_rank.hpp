// The windowed cross-chain low-rank metric that ChEES and MEADS share.
//
// Both adaptations estimate one diagonal + low-rank metric (nutpie's
// estimator, low_rank.hpp) from every chain's (position, gradient) pairs
// over a window of `interval` iterations, and replace their metric with it
// when the window is full. They differ only in which chains' pairs enter the
// window (MEADS leaves out a frozen fold's chains, which did not move) and
// in when a window closes, so this is one piece that takes those two choices
// as arguments; the window's storage is preallocated, so a push allocates
// nothing and only a refit does.
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include "nutshell/adaptation/cross_chain.hpp"
#include "nutshell/adaptation/low_rank.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"

namespace nutshell::adaptation {

/// One update of the shared windowed estimate. Sizes `window` for
/// `stats.size() * interval` pairs of dimension `dim` (allocating only when
/// that changes), pushes the pairs of the chains `admit(stats[c])` accepts
/// whose gradient has dimension `dim` and whose position and gradient are
/// finite, and, when `window_ends`, refits: with at least 3 pairs and a
/// successful estimate `metric` becomes the window's estimate and the call
/// returns true (a failed estimate keeps the last metric); the window then
/// starts over either way. Returns false when `metric` did not change.
template <class Admit>
bool update_cross_chain_low_rank(DrawGradientWindow& window, Metric& metric,
                                 std::span<const cross_chain::ChainStatistics> stats,
                                 std::size_t dim, std::size_t interval, bool window_ends,
                                 const LowRankOptions& options, Admit&& admit) {
  if (window.capacity() != stats.size() * interval || window.draws.shape(1) != dim)
    window = draw_gradient_window_init(dim, stats.size() * interval);
  for (const auto& st : stats)
    if (admit(st) && st.logdensity_grad.size() == dim && all_finite(st.position) &&
        all_finite(st.logdensity_grad))
      draw_gradient_window_push(window, st.position, st.logdensity_grad);
  if (!window_ends) return false;
  bool changed = false;
  if (window.count >= 3) {
    auto m = low_rank_metric(window, options);
    if (m.ok()) {
      metric = *std::move(m);
      changed = true;
    }
  }
  window.count = 0;
  return changed;
}

}  // namespace nutshell::adaptation
