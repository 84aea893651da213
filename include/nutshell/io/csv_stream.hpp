// Streaming Stan CSV: a step callback for `sample` that puts every draw on
// disk as the run goes, one file per chain.
//
//   io::CsvStream stream({.prefix = "out/eight_schools", .num_chains = 4, ...});
//   auto draws = sample(key, f, x0, options, std::cref(stream));  // or stream.callback()
//   stream.finish(*io::from_draws(*draws, info));                 // the complete files
//
// While the run goes, chain c's draws are appended to `prefix_<c+1>.csv.partial`
// and flushed every `flush_every` draws, so a killed run leaves every
// finished draw readable (read_stan_csv with allow_incomplete). The
// `.partial` name and the missing timing block both say the file is not
// complete; the step size and metric are not known there (a step callback
// does not see them), so stepsize__ is nan unless Info reports it.
// finish() writes the complete `prefix_<c+1>.csv` atomically (with the
// adaptation block and the timing block) and removes the partial files.
//
// Thread safety: each chain has its own file and lock, so chains on
// different threads never wait for each other.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nutshell/io/from_draws.hpp"
#include "nutshell/io/info_stats.hpp"
#include "nutshell/io/run_data.hpp"
#include "nutshell/io/stan_csv.hpp"
#include "nutshell/run/callbacks.hpp"

namespace nutshell::io {

/// What the stream writes and where.
struct CsvStreamOptions {
  /// Files are `prefix_1.csv.partial`, ... then `prefix_1.csv`, ...
  std::string prefix = "output";
  std::size_t num_chains = 4;
  /// Header values (RunData's meaning).
  std::string model_name = "model";
  std::vector<Parameter> parameters;  ///< empty: one vector x
  Constrain constrain;                ///< empty: identity
  std::uint64_t seed = 0;
  std::size_t num_warmup = 0;
  std::size_t num_samples = 0;
  std::size_t thin = 1;
  bool save_warmup = false;
  /// Flush after this many draws (1: every draw is on disk when the next
  /// step starts).
  std::size_t flush_every = 1;
};

/// The per-chain file of a CsvStream (an implementation detail, public so
/// the template callback can reach it).
class ChainCsvStream {
 public:
  ChainCsvStream(const CsvStreamOptions& options, std::size_t chain);
  ~ChainCsvStream();
  ChainCsvStream(const ChainCsvStream&) = delete;
  ChainCsvStream& operator=(const ChainCsvStream&) = delete;

  /// Appends one draw: `u` (unconstrained position) and the stat values
  /// named `stat_names` (opening the file and writing the header on the
  /// first call). Errors are kept (see status()); once failed, a chain
  /// writes nothing more.
  void write(bool is_warmup, std::span<const double> u, const std::vector<std::string>& stat_names,
             const double* stats);
  /// Notes a step that writes nothing (thinned out, or unsaved warmup),
  /// for the timing.
  void tick(bool is_warmup);
  /// Closes the partial file (flushing it).
  void close();
  absl::Status status() const;
  const std::string& partial_path() const { return path_; }
  /// Seconds from the stream's start to the last warmup step, and from
  /// then to the last sampling step (NaN if none).
  double warmup_seconds() const;
  double sampling_seconds() const;

 private:
  void fail(const std::string& what);
  void tick_locked(bool is_warmup);
  const CsvStreamOptions& options_;
  std::size_t chain_;
  std::string path_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
  absl::Status status_;
  std::string line_;
  std::vector<double> constrained_;
  std::vector<std::size_t> order_;
  std::vector<int> plan_;  ///< per stat column: index into the stats, -1 for a nan stepsize__
  std::size_t unflushed_ = 0;
  bool in_sampling_ = false;
  std::uint64_t warmup_steps_ = 0, sampling_steps_ = 0;
  std::chrono::steady_clock::time_point start_, last_warmup_, last_sampling_;
  mutable std::mutex mutex_;
};

/// The stream over all chains; pass it (by reference) as `sample`'s
/// callback.
class CsvStream {
 public:
  explicit CsvStream(CsvStreamOptions options);

  /// The step callback: appends kept draws (every `thin`-th step) of the
  /// event's chain. Never stops the run; a write error is kept and
  /// returned by status() and finish().
  template <class State, class Info>
  Control operator()(const StepEvent<State, Info>& e) const {
    if (e.chain >= chains_.size()) return Control::kContinue;
    if ((e.step + 1) % options_.thin != 0 || (e.is_warmup && !options_.save_warmup)) {
      chains_[e.chain]->tick(e.is_warmup);  // the clock still runs
      return Control::kContinue;
    }
    thread_local std::vector<double> stats;
    static const std::vector<std::string> names = info_stat_names<State, Info>();
    stats.resize(names.size());
    info_stat_values<State, Info>(e.state, e.info, stats.data());
    chains_[e.chain]->write(e.is_warmup,
                            std::span<const double>(e.state.position.data(), e.state.position.size()),
                            names, stats.data());
    return Control::kContinue;
  }

  /// OK, or the first write error of any chain.
  absl::Status status() const;
  /// The partial files' paths (one per chain).
  std::vector<std::string> partial_paths() const;
  /// Closes the partial files, writes the complete files from `run`
  /// (timing filled from the stream's clock where `run` has none) and
  /// removes the partial files. Returns the complete files' paths, or the
  /// first error (of the stream or of this final write).
  absl::StatusOr<std::vector<std::string>> finish(RunData run);

 private:
  CsvStreamOptions options_;
  std::vector<std::unique_ptr<ChainCsvStream>> chains_;
};

}  // namespace nutshell::io
