// Continuing chains from checkpoints, bitwise as an uninterrupted run.
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/core/algorithm.hpp"
#include "nutshell/run/checkpoint.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/progress.hpp"
#include "nutshell/run/scan.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/run/sample.hpp"

namespace nutshell {

/// Continues chains from checkpoints (from Draws::checkpoints, or loaded
/// with checkpoint::load) for options.num_samples more transitions each:
/// the draws are bitwise those an uninterrupted run would have produced.
/// Only num_samples, thinning, num_threads, progress_bar and names of
/// `options` are used.
template <class K, class F, class Callback = NoCallback>
  requires(detail::KernelFor<K, std::decay_t<F>> &&
           adaptation::AdaptableKernel<K, std::decay_t<F>>)
absl::StatusOr<DrawsOf<K, std::decay_t<F>>> resume(
    const std::vector<checkpoint::ChainCheckpoint<
        typename adaptation::KernelTypes<K, std::decay_t<F>>::State,
        typename adaptation::KernelTypes<K, std::decay_t<F>>::Params>>& checkpoints,
    K kernel, F&& logdensity, const SampleOptions& options = {}, const Callback& callback = {}) {
  using G = std::decay_t<F>;
  if (checkpoints.empty()) return absl::InvalidArgumentError("no checkpoint to resume");
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  G f(std::forward<F>(logdensity));
  ProgressBar progress(checkpoints.size() * options.num_samples,
                       ProgressOptions{.enabled = options.progress_bar, .label = "sample"});
  ProgressBar* bar = progress.active() ? &progress : nullptr;
  SharedStop stop;
  auto chains = pmap(
      Key{}, checkpoints.size(),
      [&, f](std::size_t c, const Key&) mutable {
        return detail::sample_from(checkpoints[c], kernel, f, options, bar, &stop, callback);
      },
      PmapOptions{options.num_threads});
  progress.finish();
  return detail::assemble(chains.chains, kernel, f, options, stop);
}

}  // namespace nutshell
