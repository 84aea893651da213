// The many-chain (lockstep) warmups across processes: the exchange that
// adaptation/cross_chain.hpp's ExchangeCombine is built on, over any
// executor. It moves records of (chain index, doubles) and a status, and
// knows nothing of what the doubles are, so a statistic added to the
// cross-chain reports crosses machines with no change here.
//
// distributed::sample sets it as SampleOptions::cross_chain_exchange (with
// SampleOptions::chains, this process's chains), so Warmup::kChees and
// Warmup::kMeads run each process's chains on its threads and meet once per
// iteration in one allgather; the reports come back in chain order, so the
// adaptation reads the same numbers in the same order as in one process
// and the run is bitwise a single process's.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/adaptation/cross_chain.hpp"
#include "nutshell/distributed/executor.hpp"
#include "nutshell/distributed/wire.hpp"

namespace nutshell::distributed {

/// exchange(records, status) over executor `exec` (see the file comment):
/// one allgather; every rank's records, in rank order, on every rank, or
/// the first failed rank's status (named) on every rank. `exec` must
/// outlive it.
template <ChainExecutor E>
struct CrossChainExchange {
  const E* exec;

  absl::StatusOr<std::vector<adaptation::cross_chain::ChainRecord>> operator()(
      std::vector<adaptation::cross_chain::ChainRecord> local, absl::Status status) const {
    Writer w;
    w.u64(static_cast<std::uint64_t>(status.code()));
    w.str(std::string(status.message()));
    w.u64(local.size());
    for (const auto& r : local) {
      w.u64(r.chain);
      w.f64s(r.values);
    }
    const std::vector<std::string> all = exec->allgather(w.take());
    std::vector<adaptation::cross_chain::ChainRecord> out;
    for (std::size_t rank = 0; rank < all.size(); ++rank) {
      Reader in(all[rank]);
      const auto code = static_cast<absl::StatusCode>(in.u64());
      const std::string message = in.str();
      if (code != absl::StatusCode::kOk)
        return absl::Status(code, absl::StrCat("rank ", rank, ": ", message));
      const std::uint64_t n = in.u64();
      for (std::uint64_t i = 0; i < n && in.status("").ok(); ++i) {
        adaptation::cross_chain::ChainRecord r;
        r.chain = in.u64();
        r.values = in.f64s();
        out.push_back(std::move(r));
      }
      if (auto s = in.status(absl::StrCat("rank ", rank, "'s cross-chain reports")); !s.ok()) return s;
    }
    return out;
  }
};

}  // namespace nutshell::distributed
