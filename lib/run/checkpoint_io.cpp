// Checkpoint files (atomic write through a temporary, read) and the fields of
// the library's types (keys, metrics, states, vectors).
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
// The status of a failed open or rename, by errno: a missing folder is
// NOT_FOUND, a refused one PERMISSION_DENIED, anything else (disk full,
// read-only file system) UNAVAILABLE or DATA_LOSS as fits.
absl::Status file_error(int err, const std::string& what) {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}
}  // namespace

absl::Status Record::write_file(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    errno = 0;
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return file_error(errno, absl::StrCat("cannot write checkpoint '", tmp, "'"));
    const std::string text = serialize();
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) {
      const int err = errno;
      f.close();
      std::remove(tmp.c_str());  // a failed save leaves nothing behind
      return absl::DataLossError(
          absl::StrCat("writing checkpoint '", tmp, "' failed: ", std::strerror(err)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return file_error(err, absl::StrCat("cannot rename checkpoint '", tmp, "' to '", path, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Record> Record::read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return absl::NotFoundError(
        absl::StrCat("cannot open checkpoint '", path, "': ", std::strerror(errno)));
  std::ostringstream ss;
  ss << f.rdbuf();
  auto r = parse(ss.str());
  if (!r.ok()) return absl::Status(r.status().code(), absl::StrCat(path, ": ", r.status().message()));
  return r;
}

// ---------------------------------------------------------------------------
// Library types

void write_fields(Record& r, const std::string& prefix, const Key& key) {
  r.set_u64s(prefix, {key.words[0], key.words[1]});
}

absl::Status read_fields(const Record& r, const std::string& prefix, Key& key) {
  auto w = r.get_u64s(prefix);
  if (!w.ok()) return w.status();
  if (w->size() != 2)
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint field '", prefix, "' should hold the key's 2 words"));
  key.words = {(*w)[0], (*w)[1]};
  return absl::OkStatus();
}

void write_fields(Record& r, const std::string& prefix, const Metric& m) {
  switch (m.kind()) {
    case Metric::Kind::kIdentity:
      r.set_string(prefix + ".kind", "identity");
      r.set_u64(prefix + ".dim", m.dim());
      break;
    case Metric::Kind::kDiagonal:
      r.set_string(prefix + ".kind", "diagonal");
      r.set(prefix + ".values", m.inverse_mass_diagonal());
      break;
    case Metric::Kind::kDense:
      r.set_string(prefix + ".kind", "dense");
      r.set(prefix + ".values", m.inverse_mass_matrix());
      break;
    case Metric::Kind::kLowRank:
      r.set_string(prefix + ".kind", "low_rank");
      r.set(prefix + ".scale", m.low_rank_scale());
      r.set(prefix + ".basis", m.low_rank_basis());
      r.set(prefix + ".eigenvalues", m.low_rank_eigenvalues());
      break;
  }
}

absl::Status read_fields(const Record& r, const std::string& prefix, Metric& m) {
  auto kind = r.get_string(prefix + ".kind");
  if (!kind.ok()) return kind.status();
  absl::StatusOr<Metric> out = absl::UnknownError("");
  if (*kind == "identity") {
    auto d = r.get_u64(prefix + ".dim");
    if (!d.ok()) return d.status();
    out = Metric::identity(*d);
  } else if (*kind == "diagonal") {
    auto v = r.get_vec(prefix + ".values");
    if (!v.ok()) return v.status();
    out = Metric::diagonal(*v);
  } else if (*kind == "dense") {
    auto v = r.get_mat(prefix + ".values");
    if (!v.ok()) return v.status();
    out = Metric::dense(*v);
  } else if (*kind == "low_rank") {
    auto scale = r.get_vec(prefix + ".scale");
    if (!scale.ok()) return scale.status();
    auto basis = r.get_mat(prefix + ".basis");
    if (!basis.ok()) return basis.status();
    auto eigenvalues = r.get_vec(prefix + ".eigenvalues");
    if (!eigenvalues.ok()) return eigenvalues.status();
    out = Metric::low_rank(*scale, *basis, *eigenvalues);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint field '", prefix, ".kind' is '", *kind,
                     "', expected identity, diagonal, dense or low_rank"));
  }
  if (!out.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint field '", prefix, "': ", out.status().message()));
  m = *std::move(out);
  return absl::OkStatus();
}

void write_fields(Record& r, const std::string& prefix, const Vec& v) { r.set(prefix, v); }

absl::Status read_fields(const Record& r, const std::string& prefix, Vec& v) {
  auto x = r.get_vec(prefix);
  if (!x.ok()) return x.status();
  v = *std::move(x);
  return absl::OkStatus();
}

void write_fields(Record& r, const std::string& prefix, double v) { r.set(prefix, v); }

absl::Status read_fields(const Record& r, const std::string& prefix, double& v) {
  auto x = r.get_double(prefix);
  if (!x.ok()) return x.status();
  v = *x;
  return absl::OkStatus();
}

void write_fields(Record& r, const std::string& prefix, const GradientState& s) {
  r.set(prefix + ".position", s.position);
  r.set(prefix + ".logdensity", s.logdensity);
  r.set(prefix + ".logdensity_grad", s.logdensity_grad);
}

absl::Status read_fields(const Record& r, const std::string& prefix, GradientState& s) {
  auto x = r.get_vec(prefix + ".position");
  if (!x.ok()) return x.status();
  auto lp = r.get_double(prefix + ".logdensity");
  if (!lp.ok()) return lp.status();
  auto g = r.get_vec(prefix + ".logdensity_grad");
  if (!g.ok()) return g.status();
  if (g->size() != x->size())
    return absl::InvalidArgumentError(absl::StrCat("checkpoint's gradient has ", g->size(),
                                                   " entries but its position has ", x->size()));
  s.position = *std::move(x);
  s.logdensity = *lp;
  s.logdensity_grad = *std::move(g);
  return absl::OkStatus();
}

void write_fields(Record& r, const std::string& prefix, const PositionState& s) {
  r.set(prefix + ".position", s.position);
  r.set(prefix + ".logdensity", s.logdensity);
}

absl::Status read_fields(const Record& r, const std::string& prefix, PositionState& s) {
  auto x = r.get_vec(prefix + ".position");
  if (!x.ok()) return x.status();
  auto lp = r.get_double(prefix + ".logdensity");
  if (!lp.ok()) return lp.status();
  s.position = *std::move(x);
  s.logdensity = *lp;
  return absl::OkStatus();
}

}  // namespace nutshell::checkpoint
