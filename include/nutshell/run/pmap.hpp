// Chains on threads: run M independent chains over T worker threads.
//
//   auto result = pmap(key, 8, [&](std::size_t chain, const Key& k) {
//     auto alg = nuts::sampler(logdensity, params);        // this chain's own copy
//     auto s0 = alg.init(x0);
//     if (!s0.ok()) return absl::StatusOr<Mat>(s0.status());
//     auto run = run_inference_algorithm(k, alg, *s0, 1000);
//     if (!run.ok()) return absl::StatusOr<Mat>(run.status());
//     return absl::StatusOr<Mat>(std::move(run->positions));
//   });
//   // result.chains[c]: chain c's StatusOr; result.status: which chains failed
//
// Why results do not depend on the thread count: chain c receives
// split_one(key, c) and a fresh copy of the function object, so it is a pure
// function of its index and key. Which thread runs it, and in what order, is
// invisible (nuts-rs seeds each chain's stream from its chain id for the same
// reason). Threads only pull the next chain index from a shared atomic
// counter; no chain ever waits for another.
//
// Why a failing chain does not bring the others down: each chain's outcome is
// captured as an absl::StatusOr, exceptions included, and the others keep
// running. The aggregate status names every failed chain and its error.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"

namespace nutshell {

/// How many threads pmap uses.
struct PmapOptions {
  /// Worker threads; 0 means std::thread::hardware_concurrency() (at least
  /// 1). Never more threads than chains are started. 1 runs every chain on
  /// the calling thread, which is what debuggers and sanitizers like best.
  std::size_t num_threads = 0;
  /// Run only these chain indices (each still keyed split_one(key, c) and
  /// named c in errors); the result lists them in this order. Null: all of
  /// 0..num_chains-1. An index >= num_chains fails that entry. This is how
  /// one process runs its share of a run spread over several
  /// (distributed/executor.hpp).
  const std::vector<std::size_t>* chains = nullptr;
};

/// What pmap returns: every chain's own outcome, in chain order, plus an
/// aggregate status so that "did everything work?" is one check.
template <class T>
struct PmapResult {
  /// Chain c's value, or why it failed.
  std::vector<absl::StatusOr<T>> chains;
  /// OK when every chain succeeded; otherwise the first failed chain's code
  /// and a message naming each failed chain with its error.
  absl::Status status;

  /// True when every chain succeeded.
  bool ok() const { return status.ok(); }
  /// Number of chains that failed.
  std::size_t num_failed() const {
    std::size_t n = 0;
    for (const auto& c : chains) n += c.ok() ? 0 : 1;
    return n;
  }
};

namespace detail {
template <class R>
struct UnwrapStatusOr {
  using type = R;
};
template <class T>
struct UnwrapStatusOr<absl::StatusOr<T>> {
  using type = T;
};

inline absl::Status chain_exception_status(std::size_t chain) {
  try {
    throw;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("chain ", chain, " threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat("chain ", chain, " threw a non-standard exception"));
  }
}

/// The aggregate status of per-chain outcomes (see PmapResult::status);
/// each failed chain's message is expected to start with "chain <c>".
template <class T>
absl::Status aggregate_status(const std::vector<absl::StatusOr<T>>& chains) {
  std::size_t failed = 0;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
  for (std::size_t c = 0; c < chains.size(); ++c) {
    if (chains[c].ok()) continue;
    if (failed++ == 0) code = chains[c].status().code();
    absl::StrAppend(&message, failed > 1 ? "; " : "", chains[c].status().message());
  }
  if (failed == 0) return absl::OkStatus();
  return absl::Status(code, absl::StrCat(failed, " of ", chains.size(),
                                         " chains failed: ", message));
}

inline std::size_t resolve_num_threads(std::size_t requested, std::size_t num_tasks) {
  std::size_t t = requested;
  if (t == 0) t = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  return std::max<std::size_t>(1, std::min(t, num_tasks));
}

/// Runs task(i) for i in [0, n) on `num_threads` threads pulling indices
/// from a shared counter. `task` must not throw.
template <class Task>
void parallel_for(std::size_t n, std::size_t num_threads, Task&& task) {
  const std::size_t t = resolve_num_threads(num_threads, n);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) task(i);
  };
  if (t <= 1) {
    worker();
    return;
  }
  std::vector<std::jthread> threads;
  threads.reserve(t - 1);
  for (std::size_t k = 0; k + 1 < t; ++k) threads.emplace_back(worker);
  worker();  // the calling thread works too
}
}  // namespace detail

/// Runs `fn(chain, split_one(key, chain))` for chain = 0..num_chains-1 on a
/// pool of threads. `fn` returns a value T or an absl::StatusOr<T>; it is
/// copied once per chain (so a functor owning a bound sampler, whose scratch
/// buffers are not thread-safe, gives each chain its own), and anything it
/// captures by reference is shared between threads and must be safe to use
/// concurrently. An exception escaping `fn` fails only that chain.
template <class Fn>
auto pmap(const Key& key, std::size_t num_chains, const Fn& fn, PmapOptions options = {})
    -> PmapResult<typename detail::UnwrapStatusOr<
        std::decay_t<std::invoke_result_t<Fn&, std::size_t, const Key&>>>::type> {
  using R = std::decay_t<std::invoke_result_t<Fn&, std::size_t, const Key&>>;
  using T = typename detail::UnwrapStatusOr<R>::type;
  PmapResult<T> result;
  const std::size_t num_run = options.chains ? options.chains->size() : num_chains;
  result.chains.reserve(num_run);
  for (std::size_t c = 0; c < num_run; ++c)
    result.chains.emplace_back(absl::UnknownError("chain did not run"));
  detail::parallel_for(num_run, options.num_threads, [&](std::size_t i) {
    const std::size_t c = options.chains ? (*options.chains)[i] : i;
    if (c >= num_chains) {
      result.chains[i] = absl::InvalidArgumentError(
          absl::StrCat("chain ", c, ": not among the ", num_chains, " chains"));
      return;
    }
    try {
      Fn local = fn;  // a fresh copy per chain: no state leaks between chains
      result.chains[i] = absl::StatusOr<T>(local(c, split_one(key, c)));
      if (!result.chains[i].ok())
        result.chains[i] = absl::Status(
            result.chains[i].status().code(),
            absl::StrCat("chain ", c, ": ", result.chains[i].status().message()));
    } catch (...) {
      result.chains[i] = detail::chain_exception_status(c);
    }
  });
  result.status = detail::aggregate_status(result.chains);
  return result;
}

}  // namespace nutshell
