// `sample`'s warmups for the microcanonical kernels, reached from the one
// dispatch point (sample_warmup.hpp's run_warmup): with mams::Kernel the
// warmup is adaptation::mams_warmup (step size by dual averaging on the
// acceptance rate, diagonal preconditioner, L from the ESS), with
// mclmc::Kernel it is mclmc_find_L_and_step_size (step size from the energy
// error, preconditioner, L from the ESS). Both run on sample's observed
// kernel, so their transitions are counted, reported and cancellable as
// window adaptation's are. Their own tuning is the only sensible one (window
// adaptation knows no trajectory length, and MCLMC has no acceptance rate),
// so Warmup::kWindow, the default, selects it and the Fisher warmups are an
// error.
#pragma once

#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/adaptation/mams_adaptation.hpp"
#include "nutshell/adaptation/mclmc_tuning.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/mams.hpp"
#include "nutshell/mcmc/mclmc.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell::detail {

/// The kernel inside sample's observed wrapper (which has a `kernel`
/// member), or K itself.
template <class K>
struct InnerKernel {
  using type = K;
};
template <class K>
  requires requires(const K& k) { k.kernel; }
struct InnerKernel<K> {
  using type = std::decay_t<decltype(std::declval<const K&>().kernel)>;
};

/// True for the kernels that `sample` tunes with their own warmup.
template <class K>
inline constexpr bool has_microcanonical_warmup_v =
    std::is_same_v<typename InnerKernel<K>::type, mams::Kernel> ||
    std::is_same_v<typename InnerKernel<K>::type, mclmc::Kernel>;

/// Runs MAMS's or MCLMC's warmup (see the file comment): options.num_warmup
/// transitions of `kernel` from `init` with `key`. Returns the last state
/// and the tuned parameters.
template <class K, class CF>
auto run_microcanonical_warmup(const K& kernel, CF& f, const SampleOptions& options,
                               const Key& key, typename adaptation::KernelTypes<K, CF>::State init)
    -> absl::StatusOr<std::pair<typename adaptation::KernelTypes<K, CF>::State,
                                typename adaptation::KernelTypes<K, CF>::Params>> {
  using State = typename adaptation::KernelTypes<K, CF>::State;
  using Params = typename adaptation::KernelTypes<K, CF>::Params;
  if (options.warmup != Warmup::kWindow)
    return absl::InvalidArgumentError(
        "MAMS and MCLMC are tuned by their own warmup, which Warmup::kWindow (the default) "
        "selects; the Fisher warmups do not apply to them");
  if constexpr (std::is_same_v<typename InnerKernel<K>::type, mams::Kernel>) {
    adaptation::MamsAdaptationOptions o = options.microcanonical.mams;
    if (options.target_acceptance_rate) o.target_acceptance_rate = *options.target_acceptance_rate;
    auto r = adaptation::mams_warmup(key, kernel, f, std::move(init), options.num_warmup, o);
    if (!r.ok()) return r.status();
    return std::pair<State, Params>{std::move(r->state), std::move(r->parameters)};
  } else {
    auto r = mclmc_find_L_and_step_size(key, kernel, f, std::move(init), options.num_warmup,
                                        options.microcanonical.mclmc);
    if (!r.ok()) return r.status();
    return std::pair<State, Params>{std::move(r->state), std::move(r->params)};
  }
}

}  // namespace nutshell::detail
