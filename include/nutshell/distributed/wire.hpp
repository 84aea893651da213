// Bytes on the wire: what one process sends another (or writes to a
// per-chain file) is a flat byte string built by Writer and read back by
// Reader. Doubles are copied bit for bit (memcpy), so a draw that crosses a
// network is the same double, which is what makes a run spread over ranks
// bitwise equal to one on a single process. Both ends run the same build on
// the same architecture (an MPI job does), so no byte-order conversion.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace nutshell::distributed {

/// Appends fixed-size integers, doubles and length-prefixed strings.
class Writer {
 public:
  /// An unsigned integer (also used for sizes, codes and booleans).
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  /// A signed integer.
  void i64(std::int64_t v) { raw(&v, sizeof v); }
  /// One double, bit for bit.
  void f64(double v) { raw(&v, sizeof v); }
  /// `n` doubles, bit for bit, after their count.
  void f64s(const double* v, std::size_t n) {
    u64(n);
    raw(v, n * sizeof(double));
  }
  /// A vector of doubles.
  void f64s(const std::vector<double>& v) { f64s(v.data(), v.size()); }
  /// A string, after its length.
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  /// The bytes so far.
  const std::string& bytes() const { return buf_; }
  /// Takes the bytes.
  std::string take() { return std::move(buf_); }

 private:
  void raw(const void* p, std::size_t n) {
    if (n) buf_.append(static_cast<const char*>(p), n);
  }
  std::string buf_;
};

/// Reads what a Writer wrote, in the same order. A read past the end (a
/// truncated or foreign buffer) sets a sticky error instead of reading out
/// of bounds; check status() once after a batch of reads.
class Reader {
 public:
  explicit Reader(const std::string& bytes) : s_(bytes) {}
  std::uint64_t u64() { return pod<std::uint64_t>(); }
  std::int64_t i64() { return pod<std::int64_t>(); }
  double f64() { return pod<double>(); }
  /// Doubles written by Writer::f64s; a count larger than the bytes left
  /// fails (a corrupt length must not allocate terabytes).
  std::vector<double> f64s() {
    const std::uint64_t n = u64();
    std::vector<double> v;
    if (!ok_ || n > remaining() / sizeof(double)) return fail(), v;
    v.resize(n);
    if (n) std::memcpy(v.data(), s_.data() + pos_, n * sizeof(double));
    pos_ += n * sizeof(double);
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (!ok_ || n > remaining()) return fail(), std::string();
    std::string out = s_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  /// True when every byte has been read.
  bool at_end() const { return pos_ == s_.size(); }
  /// OK, or DataLoss naming `what` when a read ran past the end.
  absl::Status status(const std::string& what) const {
    if (ok_) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat(what, ": truncated or malformed (", s_.size(), " bytes)"));
  }

 private:
  template <class T>
  T pod() {
    T v{};
    if (!ok_ || remaining() < sizeof(T)) return fail(), v;
    std::memcpy(&v, s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::size_t remaining() const { return s_.size() - pos_; }
  void fail() { ok_ = false; }
  const std::string& s_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace nutshell::distributed
