#include "nutshell/io/csv_stream.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace nutshell::io {

namespace {
std::vector<Parameter> stream_parameters(const CsvStreamOptions& o, std::size_t dim) {
  return o.parameters.empty() ? scalar_parameters(dim) : o.parameters;
}
// The complete file of run row `r` built from its partial file's rows, so
// no number is formatted twice: the header, adaptation and timing blocks
// come from `run`, the rows from the partial file, with the unknown
// stepsize__ (nan) replaced by the adapted step size. False when the
// partial file does not hold exactly what `run` says (other columns, too
// few draws, another lp__), and the caller writes from `run` instead.
bool complete_from_partial(const RunData& run, std::size_t r, const std::string& partial, const std::string& path,
                           bool save_warmup, std::string& out) {
  std::FILE* f = std::fopen(partial.c_str(), "rb");
  if (!f) return false;
  std::string text;
  char buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  const bool read_ok = !std::ferror(f);
  std::fclose(f);
  if (!read_ok || text.empty() || text.back() != '\n') return false;
  const std::string columns = detail::column_line(run);
  std::vector<std::string_view> warmup, sampling;
  bool seen_columns = false, in_sampling = false;
  std::size_t step_field = std::string::npos;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = text.find('\n', pos);
    std::string_view line(text.data() + pos, end - pos + 1);  // with its newline
    pos = end + 1;
    if (line[0] == '#') {
      if (seen_columns && line.starts_with("# Adaptation terminated")) in_sampling = true;
      continue;
    }
    if (!seen_columns) {
      if (line != columns) return false;
      seen_columns = true;
      const auto at = columns.find("stepsize__");
      if (at != std::string::npos) step_field = static_cast<std::size_t>(std::count(columns.begin(), columns.begin() + at, ','));
      continue;
    }
    (in_sampling ? sampling : warmup).push_back(line);
  }
  if (!seen_columns || sampling.size() < run.num_draws()) return false;
  const SampleStat* lp = run.stat("lp");
  std::string number;
  for (std::size_t i = 0; lp && i < run.num_draws(); ++i) {
    number.clear();
    detail::append_number(number, lp->values(r, i));
    if (sampling[i].substr(0, sampling[i].find(',')) != number) return false;
  }
  const ChainAdaptation a = run.adaptation.empty() ? ChainAdaptation{} : run.adaptation[r];
  std::string step;
  detail::append_number(step, a.step_size);
  out.clear();
  out.reserve(text.size() + 4096);
  const bool with_warmup = save_warmup && !warmup.empty();
  out += detail::header_text(run, r, std::filesystem::path(path).filename().string(), with_warmup);
  out += columns;
  if (with_warmup)
    for (auto w : warmup) out += w;
  out += detail::adaptation_text(a);
  for (std::size_t i = 0; i < run.num_draws(); ++i) {
    std::string_view row = sampling[i];
    if (step_field != std::string::npos) {
      std::size_t b = 0;
      for (std::size_t k = 0; k < step_field; ++k) b = row.find(',', b) + 1;
      const std::size_t e = row.find(',', b);
      if (row.substr(b, e - b) == "nan") {
        out += row.substr(0, b);
        out += step;
        out += row.substr(e);
        continue;
      }
    }
    out += row;
  }
  out += detail::timing_text(run.warmup_seconds[r], run.sampling_seconds[r]);
  return true;
}

}  // namespace

ChainCsvStream::ChainCsvStream(const CsvStreamOptions& options, std::size_t chain)
    : options_(options), chain_(chain), path_(absl::StrCat(options.prefix, "_", chain + 1, ".csv.partial")),
      start_(std::chrono::steady_clock::now()) {}

ChainCsvStream::~ChainCsvStream() { close(); }

void ChainCsvStream::fail(const std::string& what) {
  if (!failed_) status_ = absl::ResourceExhaustedError(absl::StrCat(what, " ", path_, ": ", std::strerror(errno)));
  failed_ = true;
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

void ChainCsvStream::tick(bool is_warmup) {
  std::lock_guard<std::mutex> lock(mutex_);
  tick_locked(is_warmup);
}

void ChainCsvStream::tick_locked(bool is_warmup) {
  const auto now = std::chrono::steady_clock::now();
  if (is_warmup) {
    last_warmup_ = now;
    ++warmup_steps_;
  } else {
    last_sampling_ = now;
    ++sampling_steps_;
  }
}

void ChainCsvStream::write(bool is_warmup, std::span<const double> u,
                           const std::vector<std::string>& stat_names, const double* stats) {
  std::lock_guard<std::mutex> lock(mutex_);
  tick_locked(is_warmup);
  if (failed_) return;
  line_.clear();
  if (!file_) {
    errno = 0;
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) return fail("cannot write");
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
    const auto params = stream_parameters(options_, u.size());
    std::size_t flat = 0;
    for (const auto& p : params) flat += p.size();
    constrained_.assign(flat, 0.0);
    std::vector<std::string> names;
    order_ = detail::stan_column_order(params, &names);
    absl::StrAppend(&line_, "# model = ", options_.model_name, "\n# method = sample (Default)\n#   sample\n",
                    "#     num_samples = ", options_.num_samples, "\n#     num_warmup = ", options_.num_warmup,
                    "\n#     save_warmup = ", options_.save_warmup ? 1 : 0, "\n#     thin = ", options_.thin,
                    "\n# id = ", chain_ + 1, "\n# random\n#   seed = ", options_.seed,
                    "\n# inference_library = nutshell\n",
                    "# partial = 1 (written while sampling; the complete file replaces it)\n");
    // The columns: lp__ and the sampler columns Info carries, stepsize__
    // always (nan until finish() knows it), then the parameters. The plan
    // (which stat goes where) is made once, so a draw costs only its
    // numbers.
    bool has_step = false;
    for (const auto& s : stat_names) has_step = has_step || s == "step_size";
    bool first = true;
    auto col = [&](const std::string& c) {
      if (!first) line_ += ",";
      line_ += c;
      first = false;
    };
    plan_.clear();
    for (std::size_t k = 0; k < stat_names.size(); ++k) {
      const std::string c = stan_stat_column(stat_names[k]);
      if (c.empty()) continue;
      col(c);
      plan_.push_back(static_cast<int>(k));
      if (stat_names[k] == "acceptance_rate" && !has_step) {
        col("stepsize__");
        plan_.push_back(-1);
      }
    }
    for (const auto& n : names) col(n);
    line_ += "\n";
  }
  if (!is_warmup && !in_sampling_) {
    in_sampling_ = true;
    line_ += "# Adaptation terminated\n";
  }
  bool first = true;
  for (int k : plan_) {
    if (!first) line_ += ",";
    first = false;
    if (k < 0) line_ += "nan";
    else detail::append_number(line_, stats[k]);
  }
  if (options_.constrain) {
    options_.constrain(u, std::span<double>(constrained_));
  } else {
    for (std::size_t j = 0; j < u.size() && j < constrained_.size(); ++j) constrained_[j] = u[j];
  }
  for (std::size_t k : order_) {
    if (!first) line_ += ",";
    first = false;
    detail::append_number(line_, constrained_[k]);
  }
  line_ += "\n";
  errno = 0;
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) return fail("writing");
  if (++unflushed_ >= options_.flush_every) {
    unflushed_ = 0;
    if (std::fflush(file_) != 0) return fail("writing");
  }
}

void ChainCsvStream::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!file_) return;
  errno = 0;
  if (std::fclose(file_) != 0 && !failed_) {
    failed_ = true;
    status_ = absl::ResourceExhaustedError(absl::StrCat("writing ", path_, ": ", std::strerror(errno)));
  }
  file_ = nullptr;
}

absl::Status ChainCsvStream::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

double ChainCsvStream::warmup_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (warmup_steps_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return std::chrono::duration<double>(last_warmup_ - start_).count();
}

double ChainCsvStream::sampling_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sampling_steps_ == 0) return std::numeric_limits<double>::quiet_NaN();
  const auto from = warmup_steps_ > 0 ? last_warmup_ : start_;
  return std::chrono::duration<double>(last_sampling_ - from).count();
}

CsvStream::CsvStream(CsvStreamOptions options) : options_(std::move(options)) {
  if (options_.thin == 0) options_.thin = 1;
  if (options_.flush_every == 0) options_.flush_every = 1;
  for (std::size_t c = 0; c < options_.num_chains; ++c)
    chains_.push_back(std::make_unique<ChainCsvStream>(options_, c));
}

absl::Status CsvStream::status() const {
  for (const auto& c : chains_)
    if (auto s = c->status(); !s.ok()) return s;
  return absl::OkStatus();
}

std::vector<std::string> CsvStream::partial_paths() const {
  std::vector<std::string> out;
  for (const auto& c : chains_) out.push_back(c->partial_path());
  return out;
}

absl::StatusOr<std::vector<std::string>> CsvStream::finish(RunData run) {
  for (auto& c : chains_) c->close();
  const absl::Status streamed = status();
  const std::size_t m = run.num_chains();
  // Timing from the stream's clock, per chain row (by chain id when given).
  auto chain_of = [&](std::size_t row) -> std::size_t {
    return run.chain_ids.empty() ? row : static_cast<std::size_t>(run.chain_ids[row] - 1);
  };
  if (run.warmup_seconds.empty() || run.sampling_seconds.empty()) {
    run.warmup_seconds.assign(m, 0.0);
    run.sampling_seconds.assign(m, 0.0);
    for (std::size_t r = 0; r < m; ++r) {
      const std::size_t c = chain_of(r);
      if (c >= chains_.size()) continue;
      const double w = chains_[c]->warmup_seconds(), s = chains_[c]->sampling_seconds();
      run.warmup_seconds[r] = std::isnan(w) ? 0.0 : w;
      run.sampling_seconds[r] = std::isnan(s) ? 0.0 : s;
    }
  }
  // Fast path: each complete file from its partial file's rows.
  if (streamed.ok() && validate(run).ok()) {
    std::vector<std::string> contents(m), paths;
    bool all = true;
    for (std::size_t r = 0; r < m && all; ++r) {
      const std::size_t c = chain_of(r);
      paths.push_back(absl::StrCat(options_.prefix, "_", c + 1, ".csv"));
      all = c < chains_.size() && complete_from_partial(run, r, chains_[c]->partial_path(), paths.back(),
                                                         options_.save_warmup, contents[r]);
    }
    if (all) {
      for (std::size_t r = 0; r < m; ++r)
        if (auto s = detail::write_file_atomically(paths[r], contents[r]); !s.ok()) return s;
      for (const auto& c : chains_) std::remove(c->partial_path().c_str());
      return paths;
    }
  }
  // The warmup draws were streamed but a driver's result need not keep
  // them: take them back from the partial files.
  if (options_.save_warmup && run.num_warmup_draws() == 0 && streamed.ok()) {
    std::vector<std::string> partials;
    for (std::size_t r = 0; r < m; ++r)
      if (chain_of(r) < chains_.size()) partials.push_back(chains_[chain_of(r)]->partial_path());
    auto back = read_stan_csv(partials, ReadOptions{.allow_incomplete = true});
    if (!back.ok()) return back.status();
    if (back->run.num_warmup_draws() > 0 && back->run.draws.shape(2) == run.flat_size() &&
        back->run.num_chains() == m) {
      run.warmup_draws = std::move(back->run.warmup_draws);
      run.warmup_stats = std::move(back->run.warmup_stats);
    }
  }
  if (auto s = validate(run); !s.ok()) return s;
  std::vector<std::string> paths;
  for (std::size_t r = 0; r < m; ++r) {
    std::string path = absl::StrCat(options_.prefix, "_", chain_of(r) + 1, ".csv");
    if (auto s = write_stan_csv_file(run, r, path); !s.ok()) return s;
    paths.push_back(std::move(path));
  }
  if (!streamed.ok()) return streamed;
  for (const auto& c : chains_) std::remove(c->partial_path().c_str());
  return paths;
}

}  // namespace nutshell::io
