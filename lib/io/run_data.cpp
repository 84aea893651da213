#include "nutshell/io/run_data.hpp"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nutshell::io {

std::size_t Parameter::size() const {
  std::size_t n = 1;
  for (std::size_t d : dims) n *= d;
  return n;
}

std::size_t RunData::flat_size() const {
  std::size_t n = 0;
  for (const auto& p : parameters) n += p.size();
  return n;
}

const SampleStat* RunData::stat(const std::string& name) const {
  for (const auto& s : stats)
    if (s.name == name) return &s;
  return nullptr;
}

const SampleStat* RunData::warmup_stat(const std::string& name) const {
  for (const auto& s : warmup_stats)
    if (s.name == name) return &s;
  return nullptr;
}

namespace {
absl::Status check_stats(const std::vector<SampleStat>& stats, std::size_t chains,
                         std::size_t draws, const char* what) {
  std::set<std::string> seen;
  for (const auto& s : stats) {
    if (s.name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": a stat has no name"));
    if (!seen.insert(s.name).second)
      return absl::InvalidArgumentError(absl::StrCat(what, ": stat '", s.name, "' appears twice"));
    if (s.values.shape(0) != chains || s.values.shape(1) != draws)
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": stat '", s.name, "' is [", s.values.shape(0), ", ", s.values.shape(1),
          "], expected [", chains, ", ", draws, "]"));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status validate(const RunData& run) {
  std::set<std::string> seen;
  for (const auto& p : run.parameters) {
    if (p.name.empty()) return absl::InvalidArgumentError("a parameter has no name");
    if (!seen.insert(p.name).second)
      return absl::InvalidArgumentError(absl::StrCat("parameter '", p.name, "' appears twice"));
    for (std::size_t d : p.dims)
      if (d == 0) return absl::InvalidArgumentError(absl::StrCat("parameter '", p.name, "' has a 0 dimension"));
  }
  const std::size_t chains = run.draws.shape(0), draws = run.draws.shape(1);
  if (run.draws.shape(2) != run.flat_size())
    return absl::InvalidArgumentError(absl::StrCat("draws have ", run.draws.shape(2),
                                                   " values per draw but the parameters have ",
                                                   run.flat_size()));
  if (auto s = check_stats(run.stats, chains, draws, "sampling"); !s.ok()) return s;
  if (run.warmup_draws.shape(1) > 0 || !run.warmup_stats.empty()) {
    const std::size_t wd = run.warmup_draws.shape(1);
    if (run.warmup_draws.shape(0) != chains || run.warmup_draws.shape(2) != run.flat_size())
      return absl::InvalidArgumentError(absl::StrCat(
          "warmup draws are [", run.warmup_draws.shape(0), ", ", wd, ", ", run.warmup_draws.shape(2),
          "], expected [", chains, ", *, ", run.flat_size(), "]"));
    if (auto s = check_stats(run.warmup_stats, chains, wd, "warmup"); !s.ok()) return s;
  }
  auto per_chain = [&](std::size_t n, const char* what) -> absl::Status {
    if (n != 0 && n != chains)
      return absl::InvalidArgumentError(absl::StrCat(what, " has ", n, " entries for ", chains, " chains"));
    return absl::OkStatus();
  };
  if (auto s = per_chain(run.adaptation.size(), "adaptation"); !s.ok()) return s;
  if (auto s = per_chain(run.chain_ids.size(), "chain_ids"); !s.ok()) return s;
  if (auto s = per_chain(run.warmup_seconds.size(), "warmup_seconds"); !s.ok()) return s;
  if (auto s = per_chain(run.sampling_seconds.size(), "sampling_seconds"); !s.ok()) return s;
  for (const auto& a : run.adaptation) {
    const std::size_t n = a.inverse_metric_diagonal.size();
    if (a.is_dense() && a.inverse_metric_dense.size() != n * n)
      return absl::InvalidArgumentError("dense inverse metric is not diag.size() squared");
  }
  if (run.thin == 0) return absl::InvalidArgumentError("thin must be >= 1");
  return absl::OkStatus();
}

std::vector<Parameter> scalar_parameters(std::size_t dim, const std::vector<std::string>& names) {
  std::vector<Parameter> out;
  if (names.empty()) {
    out.push_back(Parameter{"x", {dim}});
    return out;
  }
  for (const auto& n : names) out.push_back(Parameter{n, {}});
  return out;
}

std::vector<std::string> stan_names(const Parameter& p, std::vector<std::size_t>* flat_index) {
  std::vector<std::string> names;
  if (flat_index) flat_index->clear();
  const std::size_t n = p.size(), rank = p.dims.size();
  std::vector<std::size_t> idx(rank, 0);
  for (std::size_t k = 0; k < n; ++k) {
    // idx runs column-major (first index fastest), as Stan writes.
    std::string name = p.name;
    std::size_t flat = 0;
    for (std::size_t r = 0; r < rank; ++r) {
      absl::StrAppend(&name, ".", idx[r] + 1);
      flat = flat * p.dims[r] + idx[r];
    }
    names.push_back(std::move(name));
    if (flat_index) flat_index->push_back(flat);
    for (std::size_t r = 0; r < rank; ++r) {
      if (++idx[r] < p.dims[r]) break;
      idx[r] = 0;
    }
  }
  return names;
}

std::vector<std::string> flat_labels(const std::vector<Parameter>& parameters) {
  std::vector<std::string> out;
  for (const auto& p : parameters) {
    const std::size_t n = p.size(), rank = p.dims.size();
    std::vector<std::size_t> idx(rank, 0);
    for (std::size_t k = 0; k < n; ++k) {
      if (rank == 0) {
        out.push_back(p.name);
      } else {
        out.push_back(absl::StrCat(p.name, "[", absl::StrJoin(idx, ", "), "]"));
      }
      for (std::size_t r = rank; r-- > 0;) {  // row-major: last index fastest
        if (++idx[r] < p.dims[r]) break;
        idx[r] = 0;
      }
    }
  }
  return out;
}

std::size_t num_divergent(const RunData& run) {
  const SampleStat* d = run.stat("diverging");
  if (!d) return 0;
  std::size_t n = 0;
  for (double v : d->values) n += v != 0.0 ? 1 : 0;
  return n;
}

}  // namespace nutshell::io
