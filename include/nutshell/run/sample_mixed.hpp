// `sample` for mixed compositions (compose/mixed.hpp): window adaptation of
// the continuous kernel with the Gibbs blocks running inside every warmup
// transition, then sampling; the other blocks of every kept draw and any
// derived quantities are kept in the result and shown in the summary.
//
//   auto d = sample(key, kernel, model,
//                   mixed_starts<Blocks>(Vec{0.0, 0.0}, Blocks{.tau = 20})
//                       .keep({"tau"}, [](const Vec&, const Blocks& b) { return Vec{double(b.tau)}; }),
//                   options);
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/compose/mixed.hpp"
#include "nutshell/run/sample.hpp"

namespace nutshell {

/// Where the chains of a mixed composition start: the continuous block as
/// for any kernel (one position jittered per chain, one per chain, a
/// strategy), and the other blocks, one value for every chain or one per
/// chain. `keep` names quantities computed from each kept draw (e.g. the
/// discrete blocks as numbers), which become rows of the summary.
template <class Others>
struct MixedStarts {
  InitialPositions continuous;
  std::vector<Others> others;
  std::vector<std::string> derived_names;
  std::function<Vec(const Vec&, const Others&)> derived;

  /// Keeps `fn(x, others)`, one number per name, at every kept draw.
  MixedStarts keep(std::vector<std::string> names,
                   std::function<Vec(const Vec&, const Others&)> fn) && {
    derived_names = std::move(names);
    derived = std::move(fn);
    return std::move(*this);
  }
};

/// The starts of a mixed composition: the continuous block (see
/// InitialPositions) and one value of the other blocks for every chain.
template <class Others>
MixedStarts<Others> mixed_starts(InitialPositions continuous, Others others) {
  return MixedStarts<Others>{std::move(continuous), {std::move(others)}, {}, {}};
}

/// The starts of a mixed composition with one value of the other blocks
/// per chain.
template <class Others>
MixedStarts<Others> mixed_starts(InitialPositions continuous, std::vector<Others> per_chain) {
  return MixedStarts<Others>{std::move(continuous), std::move(per_chain), {}, {}};
}

/// `sample` for a mixed composition: see sample.hpp for everything else
/// (accounting, warnings, errors that lose nothing). Draws::others holds the
/// other blocks of every kept draw; Draws::derived the quantities `keep`
/// asked for.
template <class Others, class K, class... Blocks, class F, class Callback = NoCallback>
auto sample(const Key& key, mixed::Kernel<Others, K, Blocks...> kernel, F&& logdensity,
            MixedStarts<Others> starts, const SampleOptions& options = {},
            const Callback& callback = {}) {
  using MK = mixed::Kernel<Others, K, Blocks...>;
  using G = std::decay_t<F>;
  using State = typename MK::State;
  static_assert(mixed::ConditionalLogDensity<G, Others>,
                "sample: a mixed composition's log density must be f(x, grad, others)");
  using Result = absl::StatusOr<DrawsOf<MK, G>>;
  const std::size_t num_chains = starts.continuous.num_chains(options);
  if (starts.others.size() != 1 && starts.others.size() != num_chains)
    return Result(absl::InvalidArgumentError(
        absl::StrCat("mixed starts: ", starts.others.size(), " values of the other blocks for ",
                     num_chains, " chains (give one, or one per chain)")));
  if (starts.derived && starts.derived_names.empty())
    return Result(absl::InvalidArgumentError("mixed starts: derived quantities need names"));
  const std::vector<Others>& others = starts.others;
  auto init = [&others](const MK& k, auto& f, const Vec& x, std::size_t c, const Key&) {
    return k.init(x, others.size() == 1 ? others[0] : others[c], f);
  };
  detail::Extras<State> extras;
  extras.names = starts.derived_names;
  if (starts.derived) {
    extras.derive = [fn = starts.derived](const State& s) { return fn(s.position, s.others); };
  }
  return Result(detail::sample_impl(key, std::move(kernel), G(std::forward<F>(logdensity)),
                                    starts.continuous, options, callback, init, extras));
}

}  // namespace nutshell
