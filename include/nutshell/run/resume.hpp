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

namespace detail {
/// Checks that checkpoints fit the model before any chain runs: one
/// dimension for all, consistent within each (position, gradient, metric),
/// equal to the model's declared dimension if any; and that the model gives
/// the saved log density at the saved position (a different model of the
/// same size would otherwise continue silently).
template <class State, class Params, class G>
absl::Status check_checkpoints(const std::vector<checkpoint::ChainCheckpoint<State, Params>>& cps,
                               G& g, const SampleOptions& options) {
  const std::size_t dim = cps[0].state.position.size();
  const std::size_t declared = declared_dimension(g, options);
  if (declared != 0 && declared != dim)
    return absl::InvalidArgumentError(absl::StrCat(
        "the checkpoint's positions have dimension ", dim, " but the model has ", declared));
  if (!options.names.empty() && options.names.size() != dim)
    return absl::InvalidArgumentError(
        absl::StrCat("got ", options.names.size(), " names for ", dim, " dimensions"));
  for (std::size_t c = 0; c < cps.size(); ++c) {
    const auto& cp = cps[c];
    auto bad = [&](const std::string& what) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint ", c, ": ", what));
    };
    if (cp.state.position.size() != dim || dim == 0)
      return bad(absl::StrCat("position has dimension ", cp.state.position.size(),
                              ", checkpoint 0's has ", dim));
    if constexpr (requires { cp.state.logdensity_grad; }) {
      if (cp.state.logdensity_grad.size() != dim)
        return bad(absl::StrCat("gradient has dimension ", cp.state.logdensity_grad.size(),
                                " but the position ", dim));
    }
    if constexpr (adaptation::has_metric_v<Params>) {
      if (cp.params.inverse_mass_matrix.dim() != dim)
        return bad(absl::StrCat("metric has dimension ", cp.params.inverse_mass_matrix.dim(),
                                " but the position ", dim));
    }
    if constexpr (requires { cp.state.logdensity; }) {
      const double saved = cp.state.logdensity;
      double now;
      if constexpr (LogDensity<G>) {
        Vec grad = Vec::from_shape({dim});
        auto v = evaluate(g, cp.state.position, grad);
        if (!v.ok()) return bad(absl::StrCat("the model fails at the saved position: ", v.status().message()));
        now = *v;
      } else if constexpr (LogDensityValue<G>) {
        auto v = evaluate(g, cp.state.position);
        if (!v.ok()) return bad(absl::StrCat("the model fails at the saved position: ", v.status().message()));
        now = *v;
      } else {
        now = saved;
      }
      if (!(std::abs(now - saved) <= 1e-9 * std::max(1.0, std::abs(saved))))
        return bad(absl::StrCat("the model gives log density ", now, " at the saved position, "
                                "the checkpoint ", saved, ": is it the same model?"));
    }
  }
  return absl::OkStatus();
}
}  // namespace detail

/// Continues chains from checkpoints (from Draws::checkpoints, or loaded
/// with checkpoint::load) for options.num_samples more transitions each:
/// the draws are bitwise those an uninterrupted run would have produced.
/// Only num_samples, thinning, num_threads, progress_bar, max_tree_depth,
/// dimension, names and warnings of `options` are used. The checkpoints are
/// checked against the model first (dimension, saved log density): a
/// checkpoint of another model is InvalidArgument.
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
  if (auto s = detail::apply_kernel_options(kernel, options); !s.ok()) return s;
  G g(std::forward<F>(logdensity));
  {
    G probe = g;
    if (auto s = detail::check_checkpoints(checkpoints, probe, options); !s.ok()) return s;
  }
  ProgressBar progress(checkpoints.size() * options.num_samples,
                       ProgressOptions{.enabled = options.progress_bar, .label = "sample"});
  ProgressBar* bar = progress.active() ? &progress : nullptr;
  SharedStop stop;
  auto shared = diagnostics::Draws::from_shape(
      {checkpoints.size(), options.num_samples / options.thinning, checkpoints[0].state.position.size()});
  auto chains = pmap(
      Key{}, checkpoints.size(),
      [&](std::size_t c, const Key&) {
        EvalCounters counters;
        CountingDensity<G> f{g, &counters};
        ChainAccounting acc;
        acc.chain = static_cast<std::size_t>(checkpoints[c].chain);
        return detail::sample_from(checkpoints[c], kernel, f, options, bar, &stop, callback,
                                   std::move(acc), {}, &shared, c);
      },
      PmapOptions{options.num_threads});
  progress.finish();
  return detail::assemble(chains.chains, kernel, g, options, stop, {}, detail::PositionRestart{},
                          &shared);
}

}  // namespace nutshell
