// What the stochastic-gradient kernels (sgld.hpp, sghmc.hpp) share: the
// minibatch gradient estimator and step-size schedules.
//
// On a data set of N rows the log posterior is
//   log p(theta) + sum_i log p(row_i | theta),
// and a full gradient costs N per-row gradients. The estimator draws a
// minibatch B of n distinct rows and returns the unbiased estimate
//   grad log p(theta) + (N / n) sum_{i in B} grad log p(row_i | theta)
// (Robbins and Monro 1951; Welling and Teh 2011; Blackjax's
// `sgmcmc.gradients.grad_estimator`). Unlike Blackjax, where the caller slices
// the minibatch and passes it to every step, the batch is drawn from the step
// key, so a stochastic-gradient kernel is an ordinary `SamplingAlgorithm`
// that `run_inference_algorithm` can drive, and reproducible from its keys.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/kernel_api.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/state.hpp"
#include "nutshell/core/types.hpp"
#include "nutshell/core/vector_ops.hpp"

namespace nutshell::sgmcmc {

// ---------------------------------------------------------------------------
// Step-size schedules
// ---------------------------------------------------------------------------

/// A step-size schedule: the step size of transition t (t = 0, 1, ...).
/// Stochastic-gradient samplers need decreasing steps to be asymptotically
/// exact (Welling and Teh 2011), so the step size is a function of the step
/// counter kept in the state rather than a number.
template <class S>
concept StepSizeSchedule = requires(const S& s, std::uint64_t t) {
  { s(t) } -> std::convertible_to<double>;
};

/// The same step size at every transition: the usual practical choice, with
/// a bias that shrinks with the step size.
struct ConstantStepSize {
  double value = 1e-3;
  double operator()(std::uint64_t) const { return value; }
};

/// eps_t = a (b + t)^-gamma (Welling and Teh 2011). With 0.5 < gamma <= 1 the
/// steps satisfy sum eps_t = inf and sum eps_t^2 < inf, the Robbins-Monro
/// conditions under which SGLD converges to the posterior.
struct PolynomialDecay {
  double a = 1e-3;
  double b = 1.0;
  double gamma = 0.55;
  double operator()(std::uint64_t t) const {
    return a * std::pow(b + static_cast<double>(t), -gamma);
  }
};

namespace detail {
/// The step size of transition `t`, validated: a schedule that returns a
/// non-finite or non-positive value is a caller error, reported with t.
template <StepSizeSchedule S>
absl::StatusOr<double> scheduled_step_size(const S& schedule, std::uint64_t t) {
  const double h = static_cast<double>(schedule(t));
  if (!std::isfinite(h) || !(h > 0.0))
    return absl::InvalidArgumentError(
        absl::StrCat("step size schedule must give a finite value > 0; at step ", t, " it gave ", h));
  return h;
}

inline absl::Status check_temperature(double temperature) {
  if (!std::isfinite(temperature) || temperature < 0.0)
    return absl::InvalidArgumentError(
        absl::StrCat("temperature must be finite and >= 0, got ", temperature));
  return absl::OkStatus();
}
}  // namespace detail

// ---------------------------------------------------------------------------
// Minibatches
// ---------------------------------------------------------------------------

/// Scratch of the minibatch estimator: the row permutation used for drawing
/// without replacement, the batch's row indices and a gradient accumulator.
/// Sized on first use, then reused, so steady-state estimates allocate
/// nothing. One per chain.
struct BatchWorkspace {
  std::vector<std::size_t> permutation;  ///< identity between draws
  std::vector<std::size_t> swaps;        ///< to undo the partial shuffle
  std::vector<std::size_t> batch;        ///< row indices of the last batch
  Vec accumulator;
};

/// A uniform integer in [0, m), m >= 1, exactly (Lemire 2019: multiply-shift
/// with rejection of the few biased low products).
inline std::uint64_t uniform_below(Stream& stream, std::uint64_t m) {
  unsigned __int128 product = static_cast<unsigned __int128>(stream.bits()) * m;
  std::uint64_t low = static_cast<std::uint64_t>(product);
  if (low < m) {
    const std::uint64_t threshold = (0 - m) % m;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(stream.bits()) * m;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

/// Draws `batch_size` distinct rows of `data_size` into `ws.batch`, as a pure
/// function of `key`. A partial Fisher-Yates shuffle over a persistent
/// permutation costs O(batch_size) per draw; the swaps are undone afterwards
/// so the permutation is the identity again and the next batch depends on
/// its key only. The permutation holds data_size indices: no more memory
/// than the data set itself.
inline void draw_minibatch(const Key& key, std::size_t data_size, std::size_t batch_size,
                           BatchWorkspace& ws) {
  if (ws.permutation.size() != data_size) {
    ws.permutation.resize(data_size);
    for (std::size_t i = 0; i < data_size; ++i) ws.permutation[i] = i;
  }
  ws.swaps.resize(batch_size);
  ws.batch.resize(batch_size);
  Stream stream(key);
  for (std::size_t i = 0; i < batch_size; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(uniform_below(stream, data_size - i));
    std::swap(ws.permutation[i], ws.permutation[j]);
    ws.swaps[i] = j;
    ws.batch[i] = ws.permutation[i];
  }
  for (std::size_t i = batch_size; i-- > 0;) std::swap(ws.permutation[i], ws.permutation[ws.swaps[i]]);
}

// ---------------------------------------------------------------------------
// Gradient estimators
// ---------------------------------------------------------------------------

/// The gradient of one datum's log likelihood: `f(theta, i, grad)` ADDS
/// d log p(row_i | theta) / d theta into `grad`. Adding rather than writing
/// lets a batch accumulate without a per-row buffer. The function holds (or
/// refers to) the data set; the estimator only knows row indices.
template <class F>
concept DatumGradient = requires(F& f, const Vec& theta, std::size_t i, Vec& grad) {
  f(theta, i, grad);
};

/// The gradient of the log prior: `f(theta, grad)` WRITES d log p(theta) /
/// d theta into `grad` (sized like theta).
template <class F>
concept PriorGradient = requires(F& f, const Vec& theta, Vec& grad) { f(theta, grad); };

/// An improper flat prior: a zero gradient.
struct FlatPrior {
  void operator()(const Vec&, Vec& grad) const { grad.fill(0.0); }
};

/// What the stochastic-gradient kernels need from an estimator: a gradient
/// estimate at `theta` written into `grad` (sized like theta), random only
/// through `key`, with an error status when user code throws.
template <class E>
concept StochasticGradient =
    requires(E& e, const Key& key, const Vec& theta, Vec& grad, BatchWorkspace& ws) {
      { e.estimate(key, theta, grad, ws) } -> std::same_as<absl::Status>;
    };

/// Adapts a per-row gradient `g(theta, const Row&, grad)` over a sequence of
/// rows into a `DatumGradient`. Refers to the rows, which must outlive it.
template <class Row, class G>
struct RowGradient {
  std::span<const Row> rows;
  G gradient;
  void operator()(const Vec& theta, std::size_t i, Vec& grad) { gradient(theta, rows[i], grad); }
};

/// `RowGradient` with its types deduced: `rows(data, [](theta, row, grad) {...})`.
template <class Row, class G>
RowGradient<Row, std::decay_t<G>> rows(std::span<const Row> data, G&& gradient) {
  return {data, std::forward<G>(gradient)};
}
template <class Row, class G>
RowGradient<Row, std::decay_t<G>> rows(const std::vector<Row>& data, G&& gradient) {
  return {std::span<const Row>(data), std::forward<G>(gradient)};
}

/// The minibatch estimator of the log-posterior gradient (see the file
/// comment). Construct with `make_gradient_estimator`, which validates sizes.
template <DatumGradient L, PriorGradient P = FlatPrior>
class GradientEstimator {
 public:
  /// Unchecked; prefer `make_gradient_estimator`, which rejects bad sizes.
  GradientEstimator(std::size_t data_size, std::size_t batch_size, L loglikelihood_grad,
                    P logprior_grad)
      : data_size_(data_size),
        batch_size_(batch_size),
        loglikelihood_grad_(std::move(loglikelihood_grad)),
        logprior_grad_(std::move(logprior_grad)) {}

  /// N, the number of rows the likelihood sums over.
  std::size_t data_size() const { return data_size_; }
  /// n, the rows per estimate: cost per estimate, and noise ~ 1/n.
  std::size_t batch_size() const { return batch_size_; }
  /// N / n, the factor that makes a batch sum an unbiased full-data sum.
  double scale() const { return static_cast<double>(data_size_) / static_cast<double>(batch_size_); }

  /// Draws a minibatch from `key` (its rows are left in `ws.batch`) and
  /// writes the estimate at `theta` into `grad`. Allocation-free once `ws`
  /// is sized. A throwing gradient becomes an error status.
  absl::Status estimate(const Key& key, const Vec& theta, Vec& grad, BatchWorkspace& ws) {
    draw_minibatch(key, data_size_, batch_size_, ws);
    return accumulate(theta, std::span<const std::size_t>(ws.batch), scale(), grad, ws);
  }

  /// The exact full-data gradient (every row once, scale 1): for reference
  /// solutions and control variates, at N per-row gradients per call.
  absl::Status full_gradient(const Vec& theta, Vec& grad, BatchWorkspace& ws) {
    ws.batch.resize(data_size_);
    for (std::size_t i = 0; i < data_size_; ++i) ws.batch[i] = i;
    return accumulate(theta, std::span<const std::size_t>(ws.batch), 1.0, grad, ws);
  }

 private:
  absl::Status accumulate(const Vec& theta, std::span<const std::size_t> batch, double factor,
                          Vec& grad, BatchWorkspace& ws) {
    ensure_size(grad, theta.size());
    ensure_size(ws.accumulator, theta.size());
    ws.accumulator.fill(0.0);
    try {
      logprior_grad_(theta, grad);
      for (std::size_t i : batch) loglikelihood_grad_(theta, i, ws.accumulator);
    } catch (...) {
      return nutshell::detail::thrown_status();
    }
    ops::axpy(factor, ws.accumulator, grad);
    return absl::OkStatus();
  }

  std::size_t data_size_;
  std::size_t batch_size_;
  L loglikelihood_grad_;
  P logprior_grad_;
};

/// A minibatch gradient estimator over `data_size` rows with batches of
/// `batch_size` distinct rows. InvalidArgument unless 1 <= batch_size <=
/// data_size.
template <DatumGradient L, PriorGradient P = FlatPrior>
absl::StatusOr<GradientEstimator<std::decay_t<L>, std::decay_t<P>>> make_gradient_estimator(
    std::size_t data_size, std::size_t batch_size, L&& loglikelihood_grad, P&& logprior_grad = {}) {
  if (data_size == 0) return absl::InvalidArgumentError("the data set is empty");
  if (batch_size == 0 || batch_size > data_size)
    return absl::InvalidArgumentError(absl::StrCat("batch size must be in [1, ", data_size,
                                                   "] (the data size), got ", batch_size));
  return GradientEstimator<std::decay_t<L>, std::decay_t<P>>(
      data_size, batch_size, std::forward<L>(loglikelihood_grad), std::forward<P>(logprior_grad));
}

/// The state of SGLD and SGHMC: the position, and the number of transitions
/// taken, which indexes the step-size schedule. Nothing else persists
/// between transitions (SGHMC redraws its momentum every transition).
struct State {
  Vec position;
  std::uint64_t step = 0;
};

/// A validated starting state (non-empty, finite position; step 0).
inline absl::StatusOr<State> init_state(const Vec& position) {
  if (auto s = nutshell::detail::check_initial_position(position); !s.ok()) return s;
  return State{position, 0};
}

/// A stochastic-gradient kernel K (sgld, sghmc), its gradient estimator and
/// parameters bound together: a BoundSampler whose density is an estimator,
/// reachable under that name. Because minibatches come from the step key,
/// it is an ordinary `SamplingAlgorithm` (Blackjax's SGLD, which takes the
/// minibatch as an argument, is not).
template <class K, StochasticGradient E, class P>
class EstimatorSampler : public BoundSampler<K, E, P> {
 public:
  using BoundSampler<K, E, P>::BoundSampler;
  /// The bound estimator (e.g. to compute a full-data gradient).
  E& estimator() { return this->logdensity(); }
};

}  // namespace nutshell::sgmcmc
