// Per-chain checkpoint files of a distributed run: each rank saves its own
// chains' pieces (draws so far, accounting, and the checkpoint where the
// chain stands) to <dir>/chain-<c>.piece every checkpoint interval. After a
// lost rank the job is started again with the same arguments: each chain
// continues from its file (whichever rank now owns it, so the number of
// ranks may change), bitwise as an unbroken run (checkpoint.hpp explains
// why a chain continues exactly).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/distributed/chain_piece.hpp"
#include "nutshell/distributed/wire.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell::distributed {

/// What a chain file must match to be continued: a file of another run
/// (another key, number of chains or draws) is refused, not spliced in.
struct RunFingerprint {
  Key key;
  std::uint64_t num_chains = 0, num_warmup = 0, num_samples = 0, thinning = 0;

  /// The fingerprint of a call.
  static RunFingerprint of(const Key& key, std::size_t num_chains, const SampleOptions& o) {
    return {key, num_chains, o.num_warmup, o.num_samples, o.thinning};
  }
  void write(Writer& w) const {
    w.u64(key.words[0]);
    w.u64(key.words[1]);
    for (std::uint64_t v : {num_chains, num_warmup, num_samples, thinning}) w.u64(v);
  }
  bool matches(Reader& r) const {
    bool same = r.u64() == key.words[0];
    same &= r.u64() == key.words[1];
    for (std::uint64_t v : {num_chains, num_warmup, num_samples, thinning}) same &= r.u64() == v;
    return same;
  }
};

inline constexpr char kChainFileMagic[] = "nutshell-chain-piece 1";

/// The file of chain `c` in `dir`.
inline std::string chain_file(const std::string& dir, std::size_t c) {
  return absl::StrCat(dir, "/chain-", c, ".piece");
}

/// Saves a chain's piece atomically (to a .tmp file, then renamed), so a
/// rank killed while writing leaves the previous file whole.
template <class State, class Params, class Info>
absl::Status save_piece(const std::string& dir, const RunFingerprint& run,
                        const ChainPiece<State, Params, Info>& p) {
  Writer w;
  w.str(kChainFileMagic);
  run.write(w);
  write(w, p);
  const std::string path = chain_file(dir, p.chain), tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(w.bytes().data(), static_cast<std::streamsize>(w.bytes().size()));
    out.flush();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

/// Chain c's saved piece, NotFound when there is no file, or an error
/// naming the file when it is of another run or damaged.
template <class State, class Params, class Info>
absl::StatusOr<ChainPiece<State, Params, Info>> load_piece(const std::string& dir, const RunFingerprint& run,
                                                           std::size_t c) {
  const std::string path = chain_file(dir, c);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  Reader r(bytes);
  if (r.str() != kChainFileMagic || !r.status(path).ok())
    return absl::DataLossError(absl::StrCat(path, ": not a nutshell chain file"));
  if (!run.matches(r))
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": written by another run (key, chains, warmup, draws or thinning differ); remove it"));
  auto p = read_piece<State, Params, Info>(r);
  if (!p.ok()) return absl::Status(p.status().code(), absl::StrCat(path, ": ", p.status().message()));
  if (p->chain != c) return absl::DataLossError(absl::StrCat(path, ": holds chain ", p->chain));
  return p;
}

}  // namespace nutshell::distributed
