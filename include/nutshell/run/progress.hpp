// A progress bar on stderr for long runs: steps done, draws per second,
// divergences so far.
//
// Why it is safe to leave on: it only reads counters that the chains bump
// with relaxed atomics, it never touches a key or a state, so results are
// the same with or without it; and it redraws at most every
// `min_interval_seconds` (10 times a second by default), from whichever
// worker thread notices the interval has passed, so it costs a clock read
// per step. It switches itself off when stderr is not a terminal (CI logs,
// pipes), so logs are not flooded with carriage returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>

namespace nutshell {

/// What to show and where.
struct ProgressOptions {
  /// Off entirely when false.
  bool enabled = true;
  /// Shortest time between two redraws.
  double min_interval_seconds = 0.1;
  /// Printed before the bar, e.g. "sampling".
  std::string label;
};

/// A thread-safe progress bar over a known number of steps (all chains
/// together).
class ProgressBar {
 public:
  /// A bar on stderr, active only if `options.enabled` and stderr is a
  /// terminal.
  ProgressBar(std::uint64_t total_steps, ProgressOptions options = {});
  /// A bar on `out`, active whenever `options.enabled` (for tests and for
  /// callers that manage their own terminal).
  ProgressBar(std::uint64_t total_steps, std::ostream& out, ProgressOptions options = {});
  /// Draws the final state of the bar and ends the line (see finish()).
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// True when the bar prints anything.
  bool active() const { return out_ != nullptr; }
  /// Records `steps` completed steps, `divergences` of them divergent, and
  /// redraws if the interval has passed. Cheap and thread-safe.
  void advance(std::uint64_t steps = 1, std::uint64_t divergences = 0);
  /// Changes the label (e.g. from "warmup" to "sampling").
  void set_label(std::string label);
  /// Draws the bar one last time and ends its line. Idempotent.
  void finish();

  /// Steps recorded so far (also when the bar is inactive, so callers can
  /// use it as a counter).
  std::uint64_t completed() const { return done_.load(std::memory_order_relaxed); }
  /// Divergences recorded so far.
  std::uint64_t divergences() const { return divergent_.load(std::memory_order_relaxed); }
  /// The number of steps the bar counts up to.
  std::uint64_t total() const { return total_; }

  /// The text of one redraw (without the leading carriage return), exposed
  /// so its format can be tested: "label [####----]  42% 420/1000 | 812
  /// draws/s | 3 divergences | eta 1s".
  static std::string format(const std::string& label, std::uint64_t done, std::uint64_t total,
                            std::uint64_t divergences, double elapsed_seconds);

 private:
  void redraw(bool final);

  std::uint64_t total_;
  std::ostream* out_ = nullptr;
  ProgressOptions options_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> divergent_{0};
  std::atomic<std::int64_t> next_redraw_ns_{0};
  std::mutex mutex_;  // guards the label and the output stream
  bool finished_ = false;
};

}  // namespace nutshell
