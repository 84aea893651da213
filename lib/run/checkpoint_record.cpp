// The checkpoint text format: field encoding (hex floats), the checksum, and
// Record's in-memory operations, serialize and parse.
#include "nutshell/run/checkpoint.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_format.h"

namespace nutshell::checkpoint {

namespace {

constexpr const char* kMagic = "nutshell-checkpoint";

std::uint64_t fnv1a(const char* data, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

bool valid_token(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return false;
  return true;
}

// Hexadecimal float, locale-independent: [-]0x1.8p+1, inf, nan.
void append_double(std::string& out, double x) {
  if (std::signbit(x)) out += '-';
  const double a = std::abs(x);
  if (std::isnan(x)) {
    out += "nan";
    return;
  }
  if (std::isinf(x)) {
    out += "inf";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::hex);
  out += "0x";
  out.append(buf, end);
}

bool parse_double(std::string_view tok, double& x) {
  bool negative = false;
  if (!tok.empty() && (tok[0] == '-' || tok[0] == '+')) {
    negative = tok[0] == '-';
    tok.remove_prefix(1);
  }
  if (tok == "inf") {
    x = std::numeric_limits<double>::infinity();
  } else if (tok == "nan") {
    x = std::numeric_limits<double>::quiet_NaN();
  } else if (tok.size() > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
    tok.remove_prefix(2);
    auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), x,
                                     std::chars_format::hex);
    if (ec != std::errc() || ptr != tok.data() + tok.size()) return false;
  } else {
    auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), x);
    if (ec != std::errc() || ptr != tok.data() + tok.size()) return false;
  }
  if (negative) x = -x;
  return true;
}

template <class I>
bool parse_int(std::string_view tok, I& v) {
  auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  return ec == std::errc() && ptr == tok.data() + tok.size();
}

std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

absl::Status missing(const std::string& name) {
  return absl::InvalidArgumentError(absl::StrCat("checkpoint has no field '", name, "'"));
}

}  // namespace

// ---------------------------------------------------------------------------
// Record

Record::Field& Record::put(const std::string& name, Type type) {
  if (!valid_token(name))
    throw std::invalid_argument("checkpoint field names must be non-empty, without whitespace");
  auto [it, inserted] = fields_.try_emplace(name);
  if (inserted) order_.push_back(name);
  it->second = Field{};
  it->second.type = type;
  return it->second;
}

void Record::set(const std::string& name, double value) { put(name, Type::kF64).f64 = {value}; }

void Record::set(const std::string& name, const Vec& values) {
  put(name, Type::kF64).f64.assign(values.begin(), values.end());
}

void Record::set(const std::string& name, const Mat& values) {
  Field& f = put(name, Type::kMat);
  f.rows = values.shape(0);
  f.cols = values.shape(1);
  f.f64.assign(values.begin(), values.end());
}

void Record::set_u64(const std::string& name, std::uint64_t value) {
  put(name, Type::kU64).u64 = {value};
}

void Record::set_u64s(const std::string& name, std::vector<std::uint64_t> values) {
  put(name, Type::kU64).u64 = std::move(values);
}

void Record::set_i64s(const std::string& name, const std::vector<std::int64_t>& values) {
  put(name, Type::kI64).i64 = values;
}

void Record::set_string(const std::string& name, const std::string& value) {
  if (!valid_token(value))
    throw std::invalid_argument("checkpoint string values must be non-empty, without whitespace");
  put(name, Type::kStr).str = value;
}

absl::StatusOr<const Record::Field*> Record::find(const std::string& name, Type type) const {
  auto it = fields_.find(name);
  if (it == fields_.end()) return missing(name);
  read_.insert(name);
  if (it->second.type != type) {
    static const char* kNames[] = {"f64", "mat", "u64", "i64", "str"};
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint field '", name, "' has type ",
                     kNames[static_cast<int>(it->second.type)], ", expected ",
                     kNames[static_cast<int>(type)]));
  }
  return &it->second;
}

absl::StatusOr<double> Record::get_double(const std::string& name) const {
  auto f = find(name, Type::kF64);
  if (!f.ok()) return f.status();
  if ((*f)->f64.size() != 1)
    return absl::InvalidArgumentError(absl::StrCat("checkpoint field '", name,
                                                   "' should hold one value, has ",
                                                   (*f)->f64.size()));
  return (*f)->f64[0];
}

absl::StatusOr<Vec> Record::get_vec(const std::string& name) const {
  auto f = find(name, Type::kF64);
  if (!f.ok()) return f.status();
  Vec v = Vec::from_shape({(*f)->f64.size()});
  std::copy((*f)->f64.begin(), (*f)->f64.end(), v.begin());
  return v;
}

absl::StatusOr<Mat> Record::get_mat(const std::string& name) const {
  auto f = find(name, Type::kMat);
  if (!f.ok()) return f.status();
  if ((*f)->rows * (*f)->cols != (*f)->f64.size())
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint field '", name, "' has a shape that does not match its values"));
  Mat m = Mat::from_shape({(*f)->rows, (*f)->cols});
  std::copy((*f)->f64.begin(), (*f)->f64.end(), m.begin());
  return m;
}

absl::StatusOr<std::uint64_t> Record::get_u64(const std::string& name) const {
  auto f = find(name, Type::kU64);
  if (!f.ok()) return f.status();
  if ((*f)->u64.size() != 1)
    return absl::InvalidArgumentError(absl::StrCat("checkpoint field '", name,
                                                   "' should hold one value, has ",
                                                   (*f)->u64.size()));
  return (*f)->u64[0];
}

absl::StatusOr<std::vector<std::uint64_t>> Record::get_u64s(const std::string& name) const {
  auto f = find(name, Type::kU64);
  if (!f.ok()) return f.status();
  return (*f)->u64;
}

absl::StatusOr<std::vector<std::int64_t>> Record::get_i64s(const std::string& name) const {
  auto f = find(name, Type::kI64);
  if (!f.ok()) return f.status();
  return (*f)->i64;
}

absl::StatusOr<std::string> Record::get_string(const std::string& name) const {
  auto f = find(name, Type::kStr);
  if (!f.ok()) return f.status();
  return (*f)->str;
}

absl::Status Record::check_all_read() const {
  for (const std::string& name : order_)
    if (!read_.count(name))
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint has a field '", name,
          "' that the state and parameters being loaded do not use: was it written for a "
          "different kernel or model?"));
  return absl::OkStatus();
}

std::string Record::serialize() const {
  std::string out = absl::StrCat(kMagic, " ", kFormatVersion, "\n");
  for (const std::string& name : order_) {
    const Field& f = fields_.at(name);
    out += name;
    switch (f.type) {
      case Type::kF64:
        absl::StrAppend(&out, " f64 ", f.f64.size());
        for (double x : f.f64) {
          out += ' ';
          append_double(out, x);
        }
        break;
      case Type::kMat:
        absl::StrAppend(&out, " mat ", f.rows, " ", f.cols);
        for (double x : f.f64) {
          out += ' ';
          append_double(out, x);
        }
        break;
      case Type::kU64:
        absl::StrAppend(&out, " u64 ", f.u64.size());
        for (std::uint64_t x : f.u64) absl::StrAppend(&out, " ", x);
        break;
      case Type::kI64:
        absl::StrAppend(&out, " i64 ", f.i64.size());
        for (std::int64_t x : f.i64) absl::StrAppend(&out, " ", x);
        break;
      case Type::kStr:
        absl::StrAppend(&out, " str ", f.str);
        break;
    }
    out += '\n';
  }
  absl::StrAppend(&out, "checksum ", absl::StrFormat("%016x", fnv1a(out.data(), out.size())),
                  "\n");
  return out;
}

absl::StatusOr<Record> Record::parse(const std::string& text) {
  // Header.
  const std::size_t first_nl = text.find('\n');
  const std::string_view first(text.data(), first_nl == std::string::npos ? text.size() : first_nl);
  const auto head = tokens(first);
  if (head.size() != 2 || head[0] != kMagic)
    return absl::InvalidArgumentError(
        "not a nutshell checkpoint (the first line should be 'nutshell-checkpoint <version>')");
  std::uint64_t version = 0;
  if (!parse_int(head[1], version))
    return absl::InvalidArgumentError(absl::StrCat("checkpoint version '", std::string(head[1]),
                                                   "' is not a number"));
  if (version != kFormatVersion)
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint format version ", version, " is not supported (this build reads version ",
        kFormatVersion, ")"));
  // Checksum: the last line.
  const std::size_t pos = text.rfind("\nchecksum ");
  if (pos == std::string::npos)
    return absl::DataLossError("checkpoint is truncated: it has no checksum line");
  const std::size_t body_end = pos + 1;
  std::string_view tail(text.data() + body_end, text.size() - body_end);
  if (!tail.empty() && tail.back() == '\n') tail.remove_suffix(1);
  const auto ct = tokens(tail);
  std::uint64_t stored = 0;
  if (ct.size() != 2 || ct[1].size() != 16 || tail.find('\n') != std::string_view::npos ||
      std::from_chars(ct[1].data(), ct[1].data() + ct[1].size(), stored, 16).ptr !=
          ct[1].data() + ct[1].size())
    return absl::DataLossError("checkpoint is corrupt: malformed checksum line");
  const std::uint64_t actual = fnv1a(text.data(), body_end);
  if (actual != stored)
    return absl::DataLossError(absl::StrFormat(
        "checkpoint is corrupt: its checksum is %016x but its content hashes to %016x (the file "
        "was truncated or edited)",
        stored, actual));

  Record r;
  std::size_t line_no = 1;
  std::size_t start = first_nl + 1;
  while (start < body_end) {
    ++line_no;
    std::size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start, nl - start);
    start = nl + 1;
    auto bad = [&](const std::string& why) {
      return absl::DataLossError(absl::StrCat("checkpoint line ", line_no, ": ", why));
    };
    const auto t = tokens(line);
    if (t.size() < 3) return bad("expected '<name> <type> ...'");
    const std::string name(t[0]);
    // Found by fuzzing: put() and set_string() throw on these (they are
    // for programming errors); from a file they are data errors.
    if (!valid_token(name)) return bad("a field name must not contain whitespace");
    if (r.has(name)) return bad(absl::StrCat("field '", name, "' appears twice"));
    const std::string_view type = t[1];
    if (type == "str") {
      if (t.size() != 3) return bad("a str field holds one token");
      if (!valid_token(std::string(t[2]))) return bad("a str value must not contain whitespace");
      r.set_string(name, std::string(t[2]));
      continue;
    }
    std::size_t n = 0, header = 3;
    std::size_t rows = 0, cols = 0;
    if (type == "mat") {
      if (t.size() < 4 || !parse_int(t[2], rows) || !parse_int(t[3], cols))
        return bad("a mat field needs rows and columns");
      // Found by fuzzing: rows * cols can wrap around to a small count.
      if (cols != 0 && rows > std::numeric_limits<std::size_t>::max() / cols)
        return bad("a mat field's size overflows");
      n = rows * cols;
      header = 4;
    } else if (!parse_int(t[2], n)) {
      return bad(absl::StrCat("bad count '", std::string(t[2]), "'"));
    }
    if (t.size() != header + n)
      return bad(absl::StrCat("field '", name, "' announces ", n, " values but has ",
                              t.size() - header));
    if (type == "f64" || type == "mat") {
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i)
        if (!parse_double(t[header + i], v[i]))
          return bad(absl::StrCat("'", std::string(t[header + i]), "' is not a number"));
      Field& f = r.put(name, type == "mat" ? Type::kMat : Type::kF64);
      f.f64 = std::move(v);
      f.rows = rows;
      f.cols = cols;
    } else if (type == "u64") {
      std::vector<std::uint64_t> v(n);
      for (std::size_t i = 0; i < n; ++i)
        if (!parse_int(t[header + i], v[i]))
          return bad(absl::StrCat("'", std::string(t[header + i]), "' is not an unsigned integer"));
      r.set_u64s(name, std::move(v));
    } else if (type == "i64") {
      std::vector<std::int64_t> v(n);
      for (std::size_t i = 0; i < n; ++i)
        if (!parse_int(t[header + i], v[i]))
          return bad(absl::StrCat("'", std::string(t[header + i]), "' is not an integer"));
      r.set_i64s(name, v);
    } else {
      return bad(absl::StrCat("unknown field type '", std::string(type), "'"));
    }
  }
  return r;
}

}  // namespace nutshell::checkpoint
