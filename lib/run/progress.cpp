#include "nutshell/run/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace nutshell {

namespace {
std::int64_t nanoseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start)
      .count();
}

std::string format_duration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = static_cast<long>(std::lround(seconds));
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}
}  // namespace

ProgressBar::ProgressBar(std::uint64_t total_steps, ProgressOptions options)
    : total_(total_steps), options_(std::move(options)),
      start_(std::chrono::steady_clock::now()) {
  if (options_.enabled && ::isatty(STDERR_FILENO)) out_ = &std::cerr;
}

ProgressBar::ProgressBar(std::uint64_t total_steps, std::ostream& out, ProgressOptions options)
    : total_(total_steps), options_(std::move(options)),
      start_(std::chrono::steady_clock::now()) {
  if (options_.enabled) out_ = &out;
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(std::uint64_t steps, std::uint64_t divergences) {
  done_.fetch_add(steps, std::memory_order_relaxed);
  if (divergences) divergent_.fetch_add(divergences, std::memory_order_relaxed);
  if (!out_) return;
  const std::int64_t now = nanoseconds_since(start_);
  std::int64_t due = next_redraw_ns_.load(std::memory_order_relaxed);
  if (now < due) return;
  const auto interval = static_cast<std::int64_t>(options_.min_interval_seconds * 1e9);
  // Only the thread that moves the deadline redraws; the others go on.
  if (!next_redraw_ns_.compare_exchange_strong(due, now + interval, std::memory_order_relaxed))
    return;
  redraw(false);
}

void ProgressBar::set_label(std::string label) {
  std::lock_guard<std::mutex> lock(mutex_);
  options_.label = std::move(label);
}

void ProgressBar::finish() {
  if (!out_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
  }
  redraw(true);
}

void ProgressBar::redraw(bool final) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  const double elapsed = static_cast<double>(nanoseconds_since(start_)) * 1e-9;
  const std::string line =
      format(options_.label, completed(), total_, divergences(), elapsed);
  // Pad over whatever a longer previous line left behind.
  *out_ << '\r' << line << "   ";
  if (final) {
    *out_ << '\n';
    finished_ = true;
  }
  out_->flush();
}

std::string ProgressBar::format(const std::string& label, std::uint64_t done, std::uint64_t total,
                                std::uint64_t divergences, double elapsed_seconds) {
  constexpr int kWidth = 24;
  const std::uint64_t shown = total > 0 ? std::min(done, total) : done;
  const double frac = total > 0 ? static_cast<double>(shown) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(frac * kWidth);
  std::ostringstream os;
  if (!label.empty()) os << label << ' ';
  os << '[' << std::string(filled, '#') << std::string(kWidth - filled, '-') << "] ";
  char pct[16];
  std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100.0));
  os << pct << ' ' << shown << '/' << total;
  const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0.0;
  char r[32];
  std::snprintf(r, sizeof r, "%.0f", rate);
  os << " | " << r << " draws/s | " << divergences
     << (divergences == 1 ? " divergence" : " divergences");
  if (rate > 0 && shown < total)
    os << " | eta " << format_duration(static_cast<double>(total - shown) / rate);
  return os.str();
}

}  // namespace nutshell
