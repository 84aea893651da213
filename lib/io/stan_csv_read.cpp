// Stan CSV reading: CmdStan's files and ours, with errors that name the
// file and line.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nutshell/io/stan_csv.hpp"

namespace nutshell::io {

namespace {

// "L.2.1" -> {"L", {2, 1}}; a name whose suffix is not all indices is one
// scalar with the full name.
std::pair<std::string, std::vector<std::size_t>> split_name(const std::string& col) {
  std::vector<std::string> parts = absl::StrSplit(col, '.');
  std::vector<std::size_t> idx;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::size_t v = 0;
    if (!absl::SimpleAtoi(parts[i], &v) || v == 0) return {col, {}};
    idx.push_back(v);
  }
  return {parts[0], idx};
}

bool parse_number(absl::string_view s, double& out) {
  s = absl::StripAsciiWhitespace(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Parses "a, b, c" after "# ".
absl::StatusOr<std::vector<double>> parse_list(absl::string_view line, const std::string& where) {
  std::vector<double> v;
  for (absl::string_view f : absl::StrSplit(line, ',')) {
    double x;
    if (!parse_number(f, x))
      return absl::InvalidArgumentError(absl::StrCat(where, ": '", f, "' is not a number"));
    v.push_back(x);
  }
  return v;
}

// The leading "seconds" number of a timing line ("#  Elapsed Time: 0.1 seconds (Warm-up)").
bool timing_value(absl::string_view line, double& out) {
  auto pos = line.find("seconds");
  if (pos == absl::string_view::npos) return false;
  absl::string_view head = line.substr(0, pos);
  if (auto c = head.rfind(':'); c != absl::string_view::npos) head = head.substr(c + 1);
  head = absl::StripLeadingAsciiWhitespace(absl::StripPrefix(head, "#"));
  return parse_number(head, out);
}

}  // namespace

absl::StatusOr<StanCsv> parse_stan_csv(const std::string& text, const std::string& source,
                                       const ReadOptions& options) {
  StanCsv out;
  RunData& run = out.run;
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  // A file that does not end in a newline was cut mid-line.
  bool cut_last = !text.empty() && text.back() != '\n';
  if (!lines.empty() && lines.back().empty()) lines.pop_back();

  std::vector<std::string> columns;
  std::vector<std::vector<double>> warmup_rows, rows;
  bool seen_adaptation = false, seen_timing = false;
  double warmup_seconds = std::numeric_limits<double>::quiet_NaN(), sampling_seconds = warmup_seconds;
  int timing_lines = 0;
  ChainAdaptation adapt;
  enum class Expect { kNone, kDiagonal, kDense } expect = Expect::kNone;

  for (std::size_t ln = 0; ln < lines.size(); ++ln) {
    absl::string_view line = lines[ln];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = absl::StrCat(source, ":", ln + 1);
    if (line.empty()) continue;
    if (line[0] == '#') {
      absl::string_view body = absl::StripAsciiWhitespace(line.substr(1));
      if (columns.empty()) {
        auto eq = body.find(" = ");
        if (eq != absl::string_view::npos) {
          std::string key(absl::StripAsciiWhitespace(body.substr(0, eq)));
          std::string value(absl::StripAsciiWhitespace(body.substr(eq + 3)));
          value = std::string(absl::StripAsciiWhitespace(absl::StripSuffix(value, "(Default)")));
          if (!out.config.count(key)) out.config[key] = value;
        }
        continue;
      }
      if (expect == Expect::kDiagonal) {
        auto v = parse_list(body, where);
        if (!v.ok()) return v.status();
        adapt.inverse_metric_diagonal = *v;
        expect = Expect::kNone;
        continue;
      }
      if (expect == Expect::kDense) {
        auto v = parse_list(body, where);
        if (!v.ok()) return v.status();
        adapt.inverse_metric_dense.insert(adapt.inverse_metric_dense.end(), v->begin(), v->end());
        const std::size_t n = v->size();
        if (adapt.inverse_metric_dense.size() == n * n) {
          for (std::size_t i = 0; i < n; ++i)
            adapt.inverse_metric_diagonal.push_back(adapt.inverse_metric_dense[i * n + i]);
          expect = Expect::kNone;
        }
        continue;
      }
      if (absl::StartsWith(body, "Adaptation terminated")) {
        seen_adaptation = true;
      } else if (absl::StartsWith(body, "Step size")) {
        auto eq = body.find('=');
        if (eq == absl::string_view::npos || !parse_number(body.substr(eq + 1), adapt.step_size))
          return absl::InvalidArgumentError(absl::StrCat(where, ": cannot read the step size"));
      } else if (absl::StartsWith(body, "Diagonal elements of inverse mass matrix")) {
        expect = Expect::kDiagonal;
      } else if (absl::StartsWith(body, "Elements of inverse mass matrix")) {
        expect = Expect::kDense;
      } else if (absl::StartsWith(body, "Elapsed Time") || (timing_lines > 0 && timing_lines < 3)) {
        double v;
        if (timing_value(body, v)) {
          if (timing_lines == 0) warmup_seconds = v;
          if (timing_lines == 1) sampling_seconds = v;
          if (timing_lines == 2) seen_timing = true;  // the (Total) line: the file is complete
          ++timing_lines;
        }
      }
      continue;
    }
    if (columns.empty()) {
      for (absl::string_view c : absl::StrSplit(line, ','))
        columns.emplace_back(absl::StripAsciiWhitespace(c));
      if (columns.empty() || columns[0].empty())
        return absl::InvalidArgumentError(absl::StrCat(where, ": empty column header"));
      continue;
    }
    if (seen_timing)
      return absl::InvalidArgumentError(absl::StrCat(where, ": a draw after the timing block"));
    // A row is complete once its newline is written: a last line without
    // one was cut, even when what is left parses.
    if (ln + 1 == lines.size() && cut_last) {
      if (!options.allow_incomplete)
        return absl::DataLossError(absl::StrCat(where, ": the file is truncated (its last line is cut mid-row)"));
      out.notes.push_back(absl::StrCat(where, ": dropped a row cut mid-line"));
      break;
    }
    std::vector<double> row;
    row.reserve(columns.size());
    std::size_t k = 0;
    bool bad_count = false;
    for (absl::string_view f : absl::StrSplit(line, ',')) {
      if (k >= columns.size()) {
        bad_count = true;
        break;
      }
      double x;
      if (!parse_number(f, x)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ", column '", columns[k], "': '", f,
                                                       "' is not a number"));
      }
      row.push_back(x);
      ++k;
    }
    if (bad_count || row.size() != columns.size()) {
      const std::size_t n = static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1;
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", n, " fields, expected ", columns.size(), " (one per column)"));
    }
    (seen_adaptation ? rows : warmup_rows).push_back(std::move(row));
  }
  if (columns.empty())
    return absl::InvalidArgumentError(absl::StrCat(source, ": no column header (is this a Stan CSV file?)"));

  // Without an adaptation block (no adaptation, or a file cut during
  // warmup), rows are warmup only when save_warmup says so, and then only
  // the first ceil(num_warmup / thin) of them.
  auto cfg = [&](const char* key, std::size_t fallback) {
    std::size_t v = fallback;
    auto it = out.config.find(key);
    if (it != out.config.end()) (void)absl::SimpleAtoi(it->second, &v);
    return v;
  };
  run.num_samples = cfg("num_samples", 0);
  run.num_warmup = cfg("num_warmup", 0);
  run.thin = std::max<std::size_t>(1, cfg("thin", 1));
  run.seed = cfg("seed", 0);
  const bool save_warmup = cfg("save_warmup", 0) != 0;
  if (!seen_adaptation) {
    std::size_t nw = save_warmup ? (run.num_warmup + run.thin - 1) / run.thin : 0;
    nw = std::min(nw, warmup_rows.size());
    rows.assign(warmup_rows.begin() + static_cast<std::ptrdiff_t>(nw), warmup_rows.end());
    warmup_rows.resize(nw);
  }
  if (auto it = out.config.find("model"); it != out.config.end()) run.model_name = it->second;
  if (auto it = out.config.find("algorithm"); it != out.config.end()) run.algorithm = it->second;
  if (auto it = out.config.find("engine"); it != out.config.end()) run.engine = it->second;
  if (auto it = out.config.find("inference_library"); it != out.config.end())
    run.inference_library = it->second;
  else
    run.inference_library = "cmdstan";
  run.chain_ids = {cfg("id", 1)};
  run.adaptation = {adapt};
  run.warmup_seconds = {warmup_seconds};
  run.sampling_seconds = {sampling_seconds};

  if (!seen_timing) {
    out.complete = false;
    if (!options.allow_incomplete)
      return absl::DataLossError(absl::StrCat(
          source, ": the file is incomplete: no timing block (the run did not finish or was killed); ",
          rows.size(), " complete draws are readable with ReadOptions::allow_incomplete"));
    out.notes.push_back(absl::StrCat(source, ": incomplete (no timing block), ", rows.size(), " draws"));
  }

  // Columns: `__` stats first, then parameters grouped by base name.
  std::vector<std::size_t> stat_cols;
  struct Group {
    std::vector<std::size_t> cols;
    std::vector<std::vector<std::size_t>> idx;
  };
  std::vector<std::string> group_order;
  std::map<std::string, Group> groups;
  for (std::size_t k = 0; k < columns.size(); ++k) {
    if (columns[k].ends_with("__")) {
      stat_cols.push_back(k);
      continue;
    }
    auto [base, idx] = split_name(columns[k]);
    if (!groups.count(base)) group_order.push_back(base);
    auto& g = groups[base];
    if (!g.idx.empty() && g.idx[0].size() != idx.size())
      return absl::InvalidArgumentError(absl::StrCat(source, ": column '", columns[k],
                                                     "' has a different number of indices than '",
                                                     base, "'s other columns"));
    g.cols.push_back(k);
    g.idx.push_back(idx);
  }
  std::vector<std::size_t> flat_to_col;
  for (const auto& base : group_order) {
    const auto& g = groups[base];
    Parameter p{base, {}};
    const std::size_t rank = g.idx[0].size();
    p.dims.assign(rank, 0);
    for (const auto& ix : g.idx)
      for (std::size_t r = 0; r < rank; ++r) p.dims[r] = std::max(p.dims[r], ix[r]);
    if (p.size() != g.cols.size())
      return absl::InvalidArgumentError(absl::StrCat(source, ": parameter '", base, "' has ",
                                                     g.cols.size(), " columns, not a full array"));
    std::vector<std::size_t> map(p.size(), columns.size());
    for (std::size_t j = 0; j < g.cols.size(); ++j) {
      std::size_t flat = 0;
      for (std::size_t r = 0; r < rank; ++r) flat = flat * p.dims[r] + (g.idx[j][r] - 1);
      if (map[flat] != columns.size())
        return absl::InvalidArgumentError(absl::StrCat(source, ": column '", columns[g.cols[j]], "' appears twice"));
      map[flat] = g.cols[j];
    }
    flat_to_col.insert(flat_to_col.end(), map.begin(), map.end());
    run.parameters.push_back(std::move(p));
  }
  auto fill = [&](const std::vector<std::vector<double>>& src, xt::xtensor<double, 3>& draws,
                  std::vector<SampleStat>& stats) {
    draws = xt::xtensor<double, 3>::from_shape({1, src.size(), flat_to_col.size()});
    for (std::size_t i = 0; i < src.size(); ++i)
      for (std::size_t j = 0; j < flat_to_col.size(); ++j) draws(0, i, j) = src[i][flat_to_col[j]];
    for (std::size_t k : stat_cols) {
      SampleStat s{arviz_stat_name(columns[k]), xt::xtensor<double, 2>::from_shape({1, src.size()})};
      for (std::size_t i = 0; i < src.size(); ++i) s.values(0, i) = src[i][k];
      stats.push_back(std::move(s));
    }
  };
  fill(rows, run.draws, run.stats);
  if (!warmup_rows.empty()) fill(warmup_rows, run.warmup_draws, run.warmup_stats);
  else run.warmup_draws = xt::xtensor<double, 3>::from_shape({1, 0, flat_to_col.size()});
  return out;
}

absl::StatusOr<StanCsv> read_stan_csv(const std::string& path, const ReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return parse_stan_csv(ss.str(), path, options);
}

absl::StatusOr<StanCsv> read_stan_csv(const std::vector<std::string>& paths, const ReadOptions& options) {
  if (paths.empty()) return absl::InvalidArgumentError("no Stan CSV files given");
  std::vector<StanCsv> files;
  for (const auto& p : paths) {
    auto f = read_stan_csv(p, options);
    if (!f.ok()) return f.status();
    files.push_back(*std::move(f));
  }
  StanCsv out = files[0];
  const std::size_t m = files.size();
  std::size_t draws = files[0].run.num_draws(), warm = files[0].run.num_warmup_draws();
  for (std::size_t c = 1; c < m; ++c) {
    const RunData& r = files[c].run;
    if (r.draws.shape(2) != out.run.draws.shape(2) || r.stats.size() != out.run.stats.size() ||
        r.parameters.size() != out.run.parameters.size())
      return absl::InvalidArgumentError(absl::StrCat(paths[c], " has other columns than ", paths[0]));
    for (std::size_t k = 0; k < r.parameters.size(); ++k)
      if (r.parameters[k].name != out.run.parameters[k].name || r.parameters[k].dims != out.run.parameters[k].dims)
        return absl::InvalidArgumentError(absl::StrCat(paths[c], " has other columns than ", paths[0]));
    if ((r.num_draws() != draws || r.num_warmup_draws() != warm) && !options.allow_incomplete)
      return absl::InvalidArgumentError(absl::StrCat(paths[c], " has ", r.num_draws(), " draws, ",
                                                     paths[0], " has ", draws));
    draws = std::min(draws, r.num_draws());
    warm = std::min(warm, r.num_warmup_draws());
  }
  RunData& run = out.run;
  const std::size_t dim = run.draws.shape(2);
  run.draws = xt::xtensor<double, 3>::from_shape({m, draws, dim});
  run.warmup_draws = xt::xtensor<double, 3>::from_shape({m, warm, dim});
  for (auto& s : run.stats) s.values = xt::xtensor<double, 2>::from_shape({m, draws});
  for (auto& s : run.warmup_stats) s.values = xt::xtensor<double, 2>::from_shape({m, warm});
  run.adaptation.clear();
  run.chain_ids.clear();
  run.warmup_seconds.clear();
  run.sampling_seconds.clear();
  out.complete = true;
  out.notes.clear();
  for (std::size_t c = 0; c < m; ++c) {
    const StanCsv& f = files[c];
    out.complete = out.complete && f.complete;
    out.notes.insert(out.notes.end(), f.notes.begin(), f.notes.end());
    for (std::size_t i = 0; i < draws; ++i)
      for (std::size_t j = 0; j < dim; ++j) run.draws(c, i, j) = f.run.draws(0, i, j);
    for (std::size_t i = 0; i < warm; ++i)
      for (std::size_t j = 0; j < dim; ++j) run.warmup_draws(c, i, j) = f.run.warmup_draws(0, i, j);
    for (std::size_t k = 0; k < run.stats.size(); ++k)
      for (std::size_t i = 0; i < draws; ++i) run.stats[k].values(c, i) = f.run.stats[k].values(0, i);
    for (std::size_t k = 0; k < run.warmup_stats.size() && k < f.run.warmup_stats.size(); ++k)
      for (std::size_t i = 0; i < warm; ++i)
        run.warmup_stats[k].values(c, i) = f.run.warmup_stats[k].values(0, i);
    run.adaptation.push_back(f.run.adaptation[0]);
    run.chain_ids.push_back(f.run.chain_ids[0]);
    run.warmup_seconds.push_back(f.run.warmup_seconds[0]);
    run.sampling_seconds.push_back(f.run.sampling_seconds[0]);
  }
  if (warm == 0) run.warmup_stats.clear();
  return out;
}

}  // namespace nutshell::io
