#include "nutshell/io/netcdf.hpp"

#include <netcdf>
#include <netcdf_mem.h>

#include <cstdlib>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nutshell/io/stan_csv.hpp"

namespace nutshell::io {

namespace {

using netCDF::NcDim;
using netCDF::NcGroup;
using netCDF::NcVar;

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void put_common_attributes(const NcGroup& g, const RunData& run, const std::string& created) {
  g.putAtt("created_at", created);
  g.putAtt("creation_library", "nutshell");
  g.putAtt("creation_library_version", kNutshellVersion);
  g.putAtt("inference_library", run.inference_library);
}

NcDim index_dim(const NcGroup& g, const std::string& name, std::size_t n) {
  NcDim d = g.addDim(name, n);
  std::vector<std::int64_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int64_t>(i);
  NcVar c = g.addVar(name, netCDF::ncInt64, d);
  if (n > 0) c.putVar(v.data());
  return d;
}

void write_draws_group(const NcGroup& g, const RunData& run, const xt::xtensor<double, 3>& draws) {
  const std::size_t m = draws.shape(0), n = draws.shape(1);
  NcDim chain = index_dim(g, "chain", m), draw = index_dim(g, "draw", n);
  std::size_t offset = 0;
  std::vector<double> buf;
  for (const auto& p : run.parameters) {
    std::vector<NcDim> dims{chain, draw};
    for (std::size_t r = 0; r < p.dims.size(); ++r)
      dims.push_back(index_dim(g, absl::StrCat(p.name, "_dim_", r), p.dims[r]));
    const std::size_t k = p.size();
    NcVar v = g.addVar(p.name, netCDF::ncDouble, dims);
    buf.resize(m * n * k);
    for (std::size_t c = 0; c < m; ++c)
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < k; ++j) buf[(c * n + i) * k + j] = draws(c, i, offset + j);
    if (!buf.empty()) v.putVar(buf.data());
    offset += k;
  }
}

void write_stats_group(const NcGroup& g, const std::vector<SampleStat>& stats, std::size_t m, std::size_t n) {
  NcDim chain = index_dim(g, "chain", m), draw = index_dim(g, "draw", n);
  const std::vector<NcDim> dims{chain, draw};
  for (const auto& s : stats) {
    if (s.name == "diverging") {
      std::vector<std::int8_t> b(m * n);
      for (std::size_t k = 0; k < b.size(); ++k) b[k] = s.values.data()[k] != 0.0 ? 1 : 0;
      NcVar v = g.addVar(s.name, netCDF::ncByte, dims);
      v.putAtt("dtype", "bool");
      if (!b.empty()) v.putVar(b.data());
    } else if (s.name == "tree_depth" || s.name == "n_steps") {
      std::vector<std::int64_t> b(m * n);
      for (std::size_t k = 0; k < b.size(); ++k) b[k] = static_cast<std::int64_t>(s.values.data()[k]);
      NcVar v = g.addVar(s.name, netCDF::ncInt64, dims);
      if (!b.empty()) v.putVar(b.data());
    } else {
      NcVar v = g.addVar(s.name, netCDF::ncDouble, dims);
      if (m * n > 0) v.putVar(s.values.data());
    }
  }
}

}  // namespace

absl::Status write_netcdf(const RunData& run, const std::string& path) {
  if (auto s = validate(run); !s.ok()) return s;
  // The file is built in memory (netCDF's in-memory mode) and written with
  // stdio: so a full disk or a bad path is an ordinary write error here,
  // never a half-closed HDF5 file (which HDF5 then trips over at exit).
  int ncid = -1;
  if (int rc = nc_create_mem(path.c_str(), NC_NETCDF4, 1 << 20, &ncid); rc != NC_NOERR)
    return absl::InternalError(absl::StrCat("netCDF: ", nc_strerror(rc)));
  try {
    const std::string created = utc_now();
    NcGroup f(ncid);
    put_common_attributes(f, run, created);
    f.putAtt("model_name", run.model_name);
    f.putAtt("algorithm", run.algorithm);
    f.putAtt("engine", run.engine);
    const std::size_t m = run.num_chains();
    NcGroup post = f.addGroup("posterior");
    put_common_attributes(post, run, created);
    write_draws_group(post, run, run.draws);
    NcGroup stats = f.addGroup("sample_stats");
    put_common_attributes(stats, run, created);
    write_stats_group(stats, run.stats, m, run.num_draws());
    if (run.num_warmup_draws() > 0) {
      NcGroup wp = f.addGroup("warmup_posterior");
      put_common_attributes(wp, run, created);
      write_draws_group(wp, run, run.warmup_draws);
      NcGroup ws = f.addGroup("warmup_sample_stats");
      put_common_attributes(ws, run, created);
      write_stats_group(ws, run.warmup_stats, m, run.num_warmup_draws());
    }
  } catch (const std::exception& e) {
    NC_memio discard{};
    nc_close_memio(ncid, &discard);
    std::free(discard.memory);
    return absl::InternalError(absl::StrCat("building netCDF for ", path, ": ", e.what()));
  }
  NC_memio memio{};
  if (int rc = nc_close_memio(ncid, &memio); rc != NC_NOERR) {
    std::free(memio.memory);
    return absl::InternalError(absl::StrCat("netCDF: ", nc_strerror(rc)));
  }
  std::string bytes(static_cast<const char*>(memio.memory), memio.size);
  std::free(memio.memory);
  return detail::write_file_atomically(path, bytes);
}

}  // namespace nutshell::io
