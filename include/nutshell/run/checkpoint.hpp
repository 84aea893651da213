// Saving a chain to a file and loading it to continue, bitwise.
//
// Why resuming is exact: step i of a chain uses fold_in(key, i) (scan.hpp),
// so a chain is fully described by its sampling key, the index of its next
// step, its state and its tuned parameters. A checkpoint stores exactly
// these, with every double written as a C99 hexadecimal float (e.g.
// -0x1.8p+1), which round-trips every finite value, infinities and signed
// zeros exactly (NaN payloads are not kept). Continuing from a loaded
// checkpoint therefore gives the same draws, to the bit, as never stopping.
//
// The file is versioned text, one field per line, so it can be read and
// diffed:
//
//   nutshell-checkpoint 1
//   kind str chain
//   chain u64 1 2
//   key u64 2 1234 5678
//   next_step u64 1 1000
//   state.position f64 3 0x1.8p+1 -0x1p-2 0x0p+0
//   ...
//   params.inverse_mass_matrix.kind str diagonal
//   checksum 9f1c02d3e4b5a697
//
// The last line is an FNV-1a hash of everything before it: a truncated or
// edited file is refused with a DataLoss error instead of silently
// continuing from garbage. Loading is strict: a missing field, a field of
// the wrong type or shape, a dimension that does not match, or a field the
// target types do not use (a checkpoint written for another kernel) is an
// error that names the field.
//
// Beyond GradientState / PositionState and the parameters of hmc, nuts and
// mala, any type can be saved by giving it two functions found by
// argument-dependent lookup:
//   void write_fields(checkpoint::Record&, const std::string& prefix, const T&);
//   absl::Status read_fields(const checkpoint::Record&, const std::string& prefix, T&);
// A mixed::State's `others` block is saved that way.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/types.hpp"

namespace nutshell::checkpoint {

/// The format version this build writes and reads.
inline constexpr std::uint64_t kFormatVersion = 1;

/// A flat, ordered set of named fields: the in-memory form of a checkpoint
/// file. Field names are non-empty and contain no whitespace. Reads are
/// tracked, so a loader can refuse fields nobody asked for.
class Record {
 public:
  /// Setters replace a field of the same name. Names and string values
  /// without whitespace are the caller's contract (std::invalid_argument
  /// otherwise: a programming error, not a data error).
  void set(const std::string& name, double value);
  void set(const std::string& name, const Vec& values);
  void set(const std::string& name, const Mat& values);
  void set_u64(const std::string& name, std::uint64_t value);
  void set_u64s(const std::string& name, std::vector<std::uint64_t> values);
  void set_i64s(const std::string& name, const std::vector<std::int64_t>& values);
  /// `value` must be a non-empty token without whitespace.
  void set_string(const std::string& name, const std::string& value);

  /// True when a field of that name exists.
  bool has(const std::string& name) const { return fields_.count(name) > 0; }
  /// Getters fail with a message naming the field when it is missing or of
  /// another type. A scalar double (an f64 field with one value):
  absl::StatusOr<double> get_double(const std::string& name) const;
  absl::StatusOr<Vec> get_vec(const std::string& name) const;
  absl::StatusOr<Mat> get_mat(const std::string& name) const;
  /// A scalar u64.
  absl::StatusOr<std::uint64_t> get_u64(const std::string& name) const;
  absl::StatusOr<std::vector<std::uint64_t>> get_u64s(const std::string& name) const;
  absl::StatusOr<std::vector<std::int64_t>> get_i64s(const std::string& name) const;
  absl::StatusOr<std::string> get_string(const std::string& name) const;

  /// Field names in the order they were set (or read from the file).
  const std::vector<std::string>& names() const { return order_; }
  /// Error naming the first field that no get_* has read: what a strict
  /// loader calls last.
  absl::Status check_all_read() const;

  /// The file text, checksum line included.
  std::string serialize() const;
  /// Parses file text (see the file comment for the errors).
  static absl::StatusOr<Record> parse(const std::string& text);
  /// Writes atomically: to `path`.tmp, then renamed over `path`, so a crash
  /// mid-write leaves the previous checkpoint intact.
  absl::Status write_file(const std::string& path) const;
  /// Reads and parses a file; errors are prefixed with the path.
  static absl::StatusOr<Record> read_file(const std::string& path);

 private:
  enum class Type { kF64, kMat, kU64, kI64, kStr };
  struct Field {
    Type type = Type::kF64;
    std::vector<double> f64;
    std::vector<std::uint64_t> u64;
    std::vector<std::int64_t> i64;
    std::size_t rows = 0, cols = 0;
    std::string str;
  };
  Field& put(const std::string& name, Type type);
  absl::StatusOr<const Field*> find(const std::string& name, Type type) const;

  std::map<std::string, Field> fields_;
  std::vector<std::string> order_;
  mutable std::set<std::string> read_;
};

// ---------------------------------------------------------------------------
// Fields of the library's own types, under names starting with `prefix`.
// Each read_fields is the exact inverse of its write_fields, and fails
// (naming the field) on anything missing or malformed, leaving a usable
// value only on success.

void write_fields(Record& r, const std::string& prefix, const Key& key);
absl::Status read_fields(const Record& r, const std::string& prefix, Key& key);
void write_fields(Record& r, const std::string& prefix, const Metric& metric);
absl::Status read_fields(const Record& r, const std::string& prefix, Metric& metric);
void write_fields(Record& r, const std::string& prefix, const GradientState& state);
absl::Status read_fields(const Record& r, const std::string& prefix, GradientState& state);
void write_fields(Record& r, const std::string& prefix, const PositionState& state);
absl::Status read_fields(const Record& r, const std::string& prefix, PositionState& state);
void write_fields(Record& r, const std::string& prefix, const Vec& v);
absl::Status read_fields(const Record& r, const std::string& prefix, Vec& v);
void write_fields(Record& r, const std::string& prefix, double v);
absl::Status read_fields(const Record& r, const std::string& prefix, double& v);

/// Integers and vectors of integers (discrete blocks of a mixed state).
template <class I>
  requires std::is_integral_v<I>
void write_fields(Record& r, const std::string& prefix, const I& v) {
  r.set_i64s(prefix, {static_cast<std::int64_t>(v)});
}
template <class I>
  requires std::is_integral_v<I>
absl::Status read_fields(const Record& r, const std::string& prefix, I& v) {
  auto x = r.get_i64s(prefix);
  if (!x.ok()) return x.status();
  if (x->size() != 1)
    return absl::InvalidArgumentError(absl::StrCat("checkpoint field '", prefix,
                                                   "' should hold one integer, has ", x->size()));
  v = static_cast<I>((*x)[0]);
  return absl::OkStatus();
}
template <class I>
  requires std::is_integral_v<I>
void write_fields(Record& r, const std::string& prefix, const std::vector<I>& v) {
  r.set_i64s(prefix, std::vector<std::int64_t>(v.begin(), v.end()));
}
template <class I>
  requires std::is_integral_v<I>
absl::Status read_fields(const Record& r, const std::string& prefix, std::vector<I>& v) {
  auto x = r.get_i64s(prefix);
  if (!x.ok()) return x.status();
  v.assign(x->begin(), x->end());
  return absl::OkStatus();
}

/// The tuned parameters of hmc, nuts and mala, found by their members
/// (step_size, inverse_mass_matrix, num_integration_steps,
/// step_size_jitter), so any kernel's
/// Params with those names is supported without registration.
template <class Params>
  requires requires(const Params& p) { p.step_size; }
void write_fields(Record& r, const std::string& prefix, const Params& p) {
  r.set(prefix + ".step_size", static_cast<double>(p.step_size));
  if constexpr (requires { p.inverse_mass_matrix.kind(); })
    write_fields(r, prefix + ".inverse_mass_matrix", p.inverse_mass_matrix);
  if constexpr (requires { p.num_integration_steps; })
    r.set_i64s(prefix + ".num_integration_steps",
               {static_cast<std::int64_t>(p.num_integration_steps)});
  if constexpr (requires { p.step_size_jitter; })
    r.set(prefix + ".step_size_jitter", static_cast<double>(p.step_size_jitter));
}
template <class Params>
  requires requires(Params& p) { p.step_size; }
absl::Status read_fields(const Record& r, const std::string& prefix, Params& p) {
  auto eps = r.get_double(prefix + ".step_size");
  if (!eps.ok()) return eps.status();
  p.step_size = *eps;
  if constexpr (requires { p.inverse_mass_matrix.kind(); }) {
    if (auto s = read_fields(r, prefix + ".inverse_mass_matrix", p.inverse_mass_matrix); !s.ok())
      return s;
  }
  if constexpr (requires { p.num_integration_steps; }) {
    auto n = r.get_i64s(prefix + ".num_integration_steps");
    if (!n.ok()) return n.status();
    if (n->size() != 1)
      return absl::InvalidArgumentError("checkpoint field num_integration_steps is not a scalar");
    p.num_integration_steps = static_cast<decltype(p.num_integration_steps)>((*n)[0]);
  }
  if constexpr (requires { p.step_size_jitter; }) {
    // Absent from checkpoints written before the field existed: unjittered.
    p.step_size_jitter = 0.0;
    if (r.has(prefix + ".step_size_jitter")) {
      auto j = r.get_double(prefix + ".step_size_jitter");
      if (!j.ok()) return j.status();
      p.step_size_jitter = *j;
    }
  }
  return absl::OkStatus();
}

/// A joint state of a mixed kernel (a GradientState plus an `others` block
/// with its own write_fields / read_fields).
template <class S>
  requires(std::is_base_of_v<GradientState, S> && !std::is_same_v<S, GradientState> &&
           requires(const S& s) { s.others; })
void write_fields(Record& r, const std::string& prefix, const S& s) {
  write_fields(r, prefix, static_cast<const GradientState&>(s));
  write_fields(r, prefix + ".others", s.others);
}
template <class S>
  requires(std::is_base_of_v<GradientState, S> && !std::is_same_v<S, GradientState> &&
           requires(S& s) { s.others; })
absl::Status read_fields(const Record& r, const std::string& prefix, S& s) {
  if (auto st = read_fields(r, prefix, static_cast<GradientState&>(s)); !st.ok()) return st;
  return read_fields(r, prefix + ".others", s.others);
}

// ---------------------------------------------------------------------------

/// Everything needed to continue one chain exactly where it stopped.
template <class State, class Params>
struct ChainCheckpoint {
  std::uint64_t chain = 0;     ///< the chain's index in its run, for the user's bookkeeping
  Key key;                     ///< the sampling key: step i uses fold_in(key, i)
  std::uint64_t next_step = 0; ///< the first_step to continue with
  State state;                 ///< the state after the last step taken
  Params params;               ///< the tuned parameters
};

/// The record of a checkpoint.
template <class State, class Params>
Record to_record(const ChainCheckpoint<State, Params>& c) {
  Record r;
  r.set_string("kind", "chain");
  r.set_u64("chain", c.chain);
  write_fields(r, "key", c.key);
  r.set_u64("next_step", c.next_step);
  write_fields(r, "state", c.state);
  write_fields(r, "params", c.params);
  return r;
}

/// A checkpoint from its record. `expected_dim`, when given, is the model's
/// dimension, checked against the state (a checkpoint of another model).
template <class State, class Params>
absl::StatusOr<ChainCheckpoint<State, Params>> from_record(
    const Record& r, std::optional<std::size_t> expected_dim = std::nullopt) {
  auto kind = r.get_string("kind");
  if (!kind.ok()) return kind.status();
  if (*kind != "chain")
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint holds a '", *kind, "', not a chain"));
  ChainCheckpoint<State, Params> c;
  auto chain = r.get_u64("chain");
  if (!chain.ok()) return chain.status();
  c.chain = *chain;
  if (auto s = read_fields(r, "key", c.key); !s.ok()) return s;
  auto next = r.get_u64("next_step");
  if (!next.ok()) return next.status();
  c.next_step = *next;
  if (auto s = read_fields(r, "state", c.state); !s.ok()) return s;
  if (auto s = read_fields(r, "params", c.params); !s.ok()) return s;
  if (auto s = r.check_all_read(); !s.ok()) return s;
  const std::size_t dim = c.state.position.size();
  if (expected_dim && *expected_dim != dim)
    return absl::InvalidArgumentError(absl::StrCat("checkpoint is for a model of dimension ", dim,
                                                   ", but this model has dimension ",
                                                   *expected_dim));
  if constexpr (requires { c.params.inverse_mass_matrix.dim(); }) {
    if (c.params.inverse_mass_matrix.dim() != dim)
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint's inverse mass matrix has dimension ", c.params.inverse_mass_matrix.dim(),
          " but its state has dimension ", dim));
  }
  return c;
}

/// Saves a chain checkpoint to `path` (atomically replacing it).
template <class State, class Params>
absl::Status save(const std::string& path, const ChainCheckpoint<State, Params>& c) {
  return to_record(c).write_file(path);
}

/// Loads a chain checkpoint saved by `save` with the same State and Params
/// types; see from_record for `expected_dim`. Errors name the file.
template <class State, class Params>
absl::StatusOr<ChainCheckpoint<State, Params>> load(
    const std::string& path, std::optional<std::size_t> expected_dim = std::nullopt) {
  auto r = Record::read_file(path);
  if (!r.ok()) return r.status();
  auto c = from_record<State, Params>(*r, expected_dim);
  if (!c.ok())
    return absl::Status(c.status().code(), absl::StrCat(path, ": ", c.status().message()));
  return c;
}

}  // namespace nutshell::checkpoint

// The fields of dynamic_hmc's and ghmc's states and parameters (ChEES's
// and MEADS's kernels), which the generic forms above would truncate.
#include "nutshell/run/checkpoint_kernels.hpp"
