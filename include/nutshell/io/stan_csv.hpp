// Stan CSV, as CmdStan writes it: one file per chain with the config
// comments, the column header (lp__, the sampler's `__` columns, then the
// parameters under Stan's names), optional warmup draws, the adaptation
// block, the draws, and the timing block. The timing block comes last and
// is what marks a file complete: the reader reports a file without it as
// incomplete (an error unless ReadOptions::allow_incomplete).
//
// Values are written with the shortest representation that reads back to
// the same double (std::to_chars), so a file round-trips exactly.
#pragma once

#include <cstddef>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/io/run_data.hpp"

namespace nutshell::io {

/// The Stan column of an ArviZ sample-stat name ("acceptance_rate" ->
/// "accept_stat__"), or "" for stats Stan CSV has no column for.
std::string stan_stat_column(const std::string& arviz_name);
/// The ArviZ name of a Stan `__` column ("accept_stat__" ->
/// "acceptance_rate"); unknown `x__` columns become "x".
std::string arviz_stat_name(const std::string& stan_column);

/// Writes chain `chain` of `run` as one complete Stan CSV to `out`, warmup
/// draws included when the run has them. `file_name` goes in the header's
/// `output file` line. Returns the stream's error (e.g. a full disk).
absl::Status write_stan_csv(const RunData& run, std::size_t chain, std::FILE* out,
                            const std::string& file_name = "");

/// Writes chain `chain` to `path`, atomically: the file is written as
/// `path.tmp` and renamed to `path` only once complete and flushed, so
/// `path` never holds a half-written file; on error nothing is left.
absl::Status write_stan_csv_file(const RunData& run, std::size_t chain, const std::string& path);

/// Writes every chain, to `prefix_1.csv`, `prefix_2.csv`, ... (numbered
/// by chain id when the run has them) and returns the paths.
absl::StatusOr<std::vector<std::string>> write_stan_csv_files(const RunData& run,
                                                              const std::string& prefix);

/// How the reader treats a file cut short.
struct ReadOptions {
  /// Accept files without the timing block (a run still going or killed),
  /// dropping a last line cut mid-row, and, over several files, keep the
  /// draws every chain has. Otherwise such files are errors.
  bool allow_incomplete = false;
};

/// What a Stan CSV read gives: the run and what the header said.
struct StanCsv {
  RunData run;
  /// Every file had its timing block.
  bool complete = true;
  /// The header's `key = value` lines ("(Default)" removed), of the first file.
  std::map<std::string, std::string> config;
  /// What was dropped or guessed (incomplete files, a cut last line).
  std::vector<std::string> notes;
};

/// Reads one Stan CSV file (CmdStan's or ours) as a one-chain run.
/// Errors name the file and line: unreadable file, no column header, a
/// row with the wrong number of fields, a non-numeric field, a file
/// without its timing block (unless allowed).
absl::StatusOr<StanCsv> read_stan_csv(const std::string& path, const ReadOptions& options = {});

/// Reads one file per chain into one run; the files must have the same
/// columns (and, unless allow_incomplete, the same number of draws).
absl::StatusOr<StanCsv> read_stan_csv(const std::vector<std::string>& paths,
                                      const ReadOptions& options = {});

/// Parses Stan CSV text (what read_stan_csv does after reading the file);
/// `source` names it in errors.
absl::StatusOr<StanCsv> parse_stan_csv(const std::string& text, const std::string& source,
                                       const ReadOptions& options = {});

namespace detail {
/// Appends the shortest round-trip text of `v` ("nan", "inf", "-inf" for
/// non-finite values, as CmdStan writes them).
void append_number(std::string& out, double v);
/// The Stan-ordered columns: for each parameter scalar in CSV order, its
/// flat index into a draw.
std::vector<std::size_t> stan_column_order(const std::vector<Parameter>& parameters,
                                           std::vector<std::string>* names);
/// The comment header CmdStan writes before the column line.
std::string header_text(const RunData& run, std::size_t chain, const std::string& file_name, bool save_warmup);
/// The column line (`lp__,accept_stat__,...,theta.1,...` and a newline).
std::string column_line(const RunData& run);
/// The adaptation block ("" when the step size is unknown).
std::string adaptation_text(const ChainAdaptation& adaptation);
/// The timing block that ends a complete file.
std::string timing_text(double warmup_seconds, double sampling_seconds);
/// Writes `content` to `path.tmp`, then renames it to `path`; on error
/// removes the temporary file.
absl::Status write_file_atomically(const std::string& path, const std::string& content);
/// Writes `text` to `out` and flushes; the stream's error as a Status.
absl::Status write_all(std::FILE* out, const std::string& text, const std::string& what);
}  // namespace detail

}  // namespace nutshell::io
