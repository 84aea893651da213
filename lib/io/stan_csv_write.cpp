// Stan CSV writing: the header, rows and blocks CmdStan writes, in its order.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "nutshell/io/stan_csv.hpp"

namespace nutshell::io {

namespace {

// ArviZ name -> Stan column, in the order CmdStan writes the columns.
constexpr const char* kStatColumns[][2] = {
    {"lp", "lp__"},
    {"acceptance_rate", "accept_stat__"},
    {"step_size", "stepsize__"},
    {"tree_depth", "treedepth__"},
    {"n_steps", "n_leapfrog__"},
    {"diverging", "divergent__"},
    {"energy", "energy__"},
};

std::string metric_name(const RunData& run) {
  if (run.adaptation.empty() || run.adaptation[0].inverse_metric_diagonal.empty()) return "unit_e";
  return run.adaptation[0].is_dense() ? "dense_e" : "diag_e";
}

// The `__` stat columns this run writes: lp__ always (0 when unknown, as
// CmdStan's fixed_param does), the others when the run has the stat.
std::vector<std::pair<std::string, const SampleStat*>> stat_columns(
    const RunData& run, const std::vector<SampleStat>& stats) {
  std::vector<std::pair<std::string, const SampleStat*>> cols;
  for (const auto& [arviz, stan] : kStatColumns) {
    const SampleStat* s = nullptr;
    for (const auto& x : stats)
      if (x.name == arviz) s = &x;
    if (s || std::string(arviz) == "lp") cols.emplace_back(stan, s);
  }
  (void)run;
  return cols;
}

void append_row(std::string& out, const std::vector<std::pair<std::string, const SampleStat*>>& cols,
                const xt::xtensor<double, 3>& draws, std::size_t chain, std::size_t i,
                const std::vector<std::size_t>& order) {
  bool first = true;
  for (const auto& [name, s] : cols) {
    if (!first) out.push_back(',');
    first = false;
    detail::append_number(out, s ? s->values(chain, i) : 0.0);
  }
  for (std::size_t k : order) {
    if (!first) out.push_back(',');
    first = false;
    detail::append_number(out, draws(chain, i, k));
  }
  out.push_back('\n');
}

std::string header(const RunData& run, std::size_t chain, const std::string& file_name, bool save_warmup) {
  const bool adapted = !run.adaptation.empty() && std::isfinite(run.adaptation[chain].step_size);
  const std::uint64_t id = run.chain_ids.empty() ? chain + 1 : run.chain_ids[chain];
  std::string h;
  absl::StrAppend(&h, "# model = ", run.model_name, "\n");
  absl::StrAppend(&h, "# method = sample (Default)\n");
  absl::StrAppend(&h, "#   sample\n");
  absl::StrAppend(&h, "#     num_samples = ", run.num_samples, "\n");
  absl::StrAppend(&h, "#     num_warmup = ", run.num_warmup, "\n");
  absl::StrAppend(&h, "#     save_warmup = ", save_warmup ? 1 : 0, "\n");
  absl::StrAppend(&h, "#     thin = ", run.thin, "\n");
  absl::StrAppend(&h, "#     adapt\n");
  absl::StrAppend(&h, "#       engaged = ", adapted && run.num_warmup > 0 ? 1 : 0, "\n");
  absl::StrAppend(&h, "#     algorithm = ", run.algorithm, "\n");
  absl::StrAppend(&h, "#       ", run.algorithm, "\n");
  absl::StrAppend(&h, "#         engine = ", run.engine, "\n");
  absl::StrAppend(&h, "#         metric = ", metric_name(run), "\n");
  absl::StrAppend(&h, "#     num_chains = 1 (Default)\n");
  absl::StrAppend(&h, "# id = ", id, "\n");
  absl::StrAppend(&h, "# random\n");
  absl::StrAppend(&h, "#   seed = ", run.seed, "\n");
  absl::StrAppend(&h, "# output\n");
  absl::StrAppend(&h, "#   file = ", file_name.empty() ? "output.csv" : file_name, "\n");
  absl::StrAppend(&h, "# inference_library = ", run.inference_library, "\n");
  return h;
}

std::string adaptation_block(const ChainAdaptation& a) {
  std::string b = "# Adaptation terminated\n# Step size = ";
  detail::append_number(b, a.step_size);
  b += "\n";
  const std::size_t n = a.inverse_metric_diagonal.size();
  if (n == 0) return b;
  if (a.is_dense()) {
    b += "# Elements of inverse mass matrix:\n";
    for (std::size_t i = 0; i < n; ++i) {
      b += "# ";
      for (std::size_t j = 0; j < n; ++j) {
        if (j) b += ", ";
        detail::append_number(b, a.inverse_metric_dense[i * n + j]);
      }
      b += "\n";
    }
  } else {
    b += "# Diagonal elements of inverse mass matrix:\n# ";
    for (std::size_t i = 0; i < n; ++i) {
      if (i) b += ", ";
      detail::append_number(b, a.inverse_metric_diagonal[i]);
    }
    b += "\n";
  }
  return b;
}

std::string timing_block(double warmup, double sampling) {
  std::string t = "# \n#  Elapsed Time: ";
  detail::append_number(t, warmup);
  t += " seconds (Warm-up)\n#                ";
  detail::append_number(t, sampling);
  t += " seconds (Sampling)\n#                ";
  detail::append_number(t, warmup + sampling);
  t += " seconds (Total)\n# \n";
  return t;
}

}  // namespace

namespace detail {

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "inf" : "-inf";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::vector<std::size_t> stan_column_order(const std::vector<Parameter>& parameters,
                                           std::vector<std::string>* names) {
  std::vector<std::size_t> order;
  std::size_t offset = 0;
  for (const auto& p : parameters) {
    std::vector<std::size_t> idx;
    auto n = stan_names(p, &idx);
    for (std::size_t k : idx) order.push_back(offset + k);
    if (names) names->insert(names->end(), n.begin(), n.end());
    offset += p.size();
  }
  return order;
}

std::string header_text(const RunData& run, std::size_t chain, const std::string& file_name, bool save_warmup) {
  return header(run, chain, file_name, save_warmup);
}

std::string column_line(const RunData& run) {
  std::vector<std::string> names;
  stan_column_order(run.parameters, &names);
  std::string line;
  bool first = true;
  for (const auto& [name, s] : stat_columns(run, run.stats)) {
    line += first ? "" : ",";
    line += name;
    first = false;
  }
  for (const auto& n : names) {
    line += first ? "" : ",";
    line += n;
    first = false;
  }
  return line + "\n";
}

std::string adaptation_text(const ChainAdaptation& a) {
  return std::isfinite(a.step_size) ? adaptation_block(a) : "";
}

std::string timing_text(double warmup_seconds, double sampling_seconds) {
  return timing_block(warmup_seconds, sampling_seconds);
}

absl::Status write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  absl::Status s = write_all(f, content, tmp);
  if (std::fclose(f) != 0 && s.ok())
    s = absl::ResourceExhaustedError(absl::StrCat("writing ", tmp, ": ", std::strerror(errno)));
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    s = absl::PermissionDeniedError(absl::StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  if (!s.ok()) std::remove(tmp.c_str());
  return s;
}

absl::Status write_all(std::FILE* out, const std::string& text, const std::string& what) {
  errno = 0;
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), out) != text.size())
    return absl::ResourceExhaustedError(absl::StrCat("writing ", what, ": ", std::strerror(errno)));
  if (std::fflush(out) != 0)
    return absl::ResourceExhaustedError(absl::StrCat("writing ", what, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace detail

std::string stan_stat_column(const std::string& arviz_name) {
  for (const auto& [arviz, stan] : kStatColumns)
    if (arviz_name == arviz) return stan;
  return "";
}

std::string arviz_stat_name(const std::string& stan_column) {
  for (const auto& [arviz, stan] : kStatColumns)
    if (stan_column == stan) return arviz;
  if (stan_column.size() > 2 && stan_column.ends_with("__"))
    return stan_column.substr(0, stan_column.size() - 2);
  return stan_column;
}

absl::Status write_stan_csv(const RunData& run, std::size_t chain, std::FILE* out,
                            const std::string& file_name) {
  if (auto s = validate(run); !s.ok()) return s;
  if (chain >= run.num_chains())
    return absl::InvalidArgumentError(absl::StrCat("chain ", chain, " of a run with ", run.num_chains(), " chains"));
  const std::string what = file_name.empty() ? "Stan CSV" : file_name;
  std::vector<std::string> names;
  const auto order = detail::stan_column_order(run.parameters, &names);
  const auto cols = stat_columns(run, run.stats);
  std::string buf = header(run, chain, file_name, run.num_warmup_draws() > 0);
  buf += detail::column_line(run);
  // Warmup rows come before the adaptation block, with the same columns
  // (a warmup stat missing from the run is written as 0 / lp 0).
  if (run.num_warmup_draws() > 0) {
    std::vector<std::pair<std::string, const SampleStat*>> wcols;
    for (const auto& [name, s] : cols) {
      const SampleStat* w = s ? run.warmup_stat(s->name) : nullptr;
      if (!w && name == "lp__") w = run.warmup_stat("lp");
      wcols.emplace_back(name, w);
    }
    for (std::size_t i = 0; i < run.num_warmup_draws(); ++i) {
      append_row(buf, wcols, run.warmup_draws, chain, i, order);
      if (buf.size() > (1u << 20)) {
        if (auto s = detail::write_all(out, buf, what); !s.ok()) return s;
        buf.clear();
      }
    }
  }
  if (!run.adaptation.empty() && std::isfinite(run.adaptation[chain].step_size))
    buf += adaptation_block(run.adaptation[chain]);
  for (std::size_t i = 0; i < run.num_draws(); ++i) {
    append_row(buf, cols, run.draws, chain, i, order);
    if (buf.size() > (1u << 20)) {
      if (auto s = detail::write_all(out, buf, what); !s.ok()) return s;
      buf.clear();
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  buf += timing_block(run.warmup_seconds.empty() ? nan : run.warmup_seconds[chain],
                      run.sampling_seconds.empty() ? nan : run.sampling_seconds[chain]);
  return detail::write_all(out, buf, what);
}

absl::Status write_stan_csv_file(const RunData& run, std::size_t chain, const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  absl::Status s = write_stan_csv(run, chain, f, std::filesystem::path(path).filename().string());
  if (std::fclose(f) != 0 && s.ok())
    s = absl::ResourceExhaustedError(absl::StrCat("writing ", tmp, ": ", std::strerror(errno)));
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    s = absl::PermissionDeniedError(absl::StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  if (!s.ok()) std::remove(tmp.c_str());
  return s;
}

absl::StatusOr<std::vector<std::string>> write_stan_csv_files(const RunData& run,
                                                              const std::string& prefix) {
  if (auto s = validate(run); !s.ok()) return s;
  std::vector<std::string> paths;
  for (std::size_t c = 0; c < run.num_chains(); ++c) {
    const std::uint64_t id = run.chain_ids.empty() ? c + 1 : run.chain_ids[c];
    std::string path = absl::StrCat(prefix, "_", id, ".csv");
    if (auto s = write_stan_csv_file(run, c, path); !s.ok()) return s;
    paths.push_back(std::move(path));
  }
  return paths;
}

}  // namespace nutshell::io
