// Microbenchmarks of nutshell's hot paths (Google Benchmark).
//
//   bazel run --config=opt //benchmarks:micro -- --benchmark_repetitions=5
//
// Targets: gauss_10 / gauss_100 / gauss_1000 (independent Gaussians with sds
// log-spaced 0.1..10; d = 100 is shared/posteriors/gauss_100 read from its
// data.json, d = 10 and 1000 the same formula) and corr_gauss_50 (dense
// Gaussian, condition number 1e4). Metrics: `diag` and `dense`. For the
// diagonal Gaussians the dense metric is the adapted diagonal written as a
// full matrix, so the trajectories are the diagonal ones and only the linear
// algebra differs; corr_gauss_50 gets a genuinely adapted dense metric.
//
// Every kernel runs with parameters from a real window adaptation (1000
// steps, fixed key), starting from the warmup's last state, so tree depths are
// the ones of a tuned sampler.
//
// Benchmarks (times are per gradient evaluation unless said otherwise):
//   logdensity/<t>                   one log density + gradient call
//   fused/<t>/<m>/{call,inline}      hand-fused leapfrog, plain arrays, no library
//                                    code; `call` calls the same density
//                                    function the library calls, `inline`
//                                    inlines the Gaussian's gradient into the
//                                    loop (the absolute practical limit)
//   leapfrog/<t>/<m>/<integrator>    one nutshell::integrate_step
//   momentum/<t>/<m>                 one momentum draw (per transition, not per gradient)
//   hmc/<t>/<m>/L:16                 one hmc transition of 16 steps
//   nuts/<t>/<m>                     one nuts transition (+ heap allocations)
//   overhead/<t>/<m>                 NUTS and the fused loop interleaved in the
//                                    same iterations: the overhead ratios
//   window_adaptation/<t>/<m>        a whole 1000-step warmup
//   diagnostics/<which>              ESS / R-hat on 4 x 1000 x 100 draws
//
// Counters: `t_grad` (seconds per gradient evaluation), `steps` (integration
// steps per transition), `heap_allocs` / `new_calls` (per transition, steady
// state; see alloc_counter.hpp), `ratio_call` / `ratio_inline` (overhead).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <ctime>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/alloc_counter.hpp"
#include "benchmarks/common.hpp"
#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/core/integrators.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell::bench {
namespace {

/// CPU time of the calling thread: on a shared machine, time spent
/// preempted is not charged to whichever side of a ratio happened to be
/// running (Google Benchmark's own rates use CPU time too).
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class T>
T value_or_die(absl::StatusOr<T> s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(s.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(s);
}

/// A const, thread-safe density held by pointer: cheap to copy, and the call
/// inlines exactly as a user's functor would.
template <class T>
struct Ref {
  const T* t;
  double operator()(const Vec& x, Vec& g) const { return (*t)(x, g); }
};

enum class MetricKind { kDiag, kDense };
const char* metric_name(MetricKind m) { return m == MetricKind::kDiag ? "diag" : "dense"; }

/// Tuned parameters and a typical-set state for one (target, metric), plus
/// the Gaussian's precision for the inlined fused loop.
struct Setup {
  nuts::Params params;
  GradientState state;
  Vec momentum;             // a momentum drawn from the metric, for the fused loops
  bool dense_target = false;
  Vec precision_diag;       // diagonal targets
  Mat precision;            // dense targets
  double log_norm = 0.0;    // log density at 0
};

template <class T>
class Target {
 public:
  Target(std::string name, std::shared_ptr<const T> t, bool dense_target)
      : name_(std::move(name)), t_(std::move(t)), dense_target_(dense_target) {}
  const std::string& name() const { return name_; }
  Ref<T> density() const { return Ref<T>{t_.get()}; }
  std::size_t dim() const { return t_->dim(); }

  /// Built on first use (window adaptation is not timed).
  const Setup& setup(MetricKind m) {
    auto it = setups_.find(m);
    if (it != setups_.end()) return it->second;
    return setups_.emplace(m, build(m)).first->second;
  }

 private:
  Setup build(MetricKind m) {
    const std::size_t d = dim();
    Ref<T> f = density();
    adaptation::WindowAdaptationOptions options;
    // Dense adaptation only where the target is dense; a diagonal target's
    // dense metric is its adapted diagonal as a full matrix.
    const bool adapt_dense = m == MetricKind::kDense && dense_target_;
    options.is_mass_matrix_diagonal = !adapt_dense;
    Vec x0 = Vec::from_shape({d});
    Stream s(make_key(7));
    for (double& xi : x0) xi = 2.0 * (2.0 * s.uniform() - 1.0);
    auto warm = value_or_die(
        adaptation::window_adaptation(nuts::Kernel{}, f, options).run(make_key(1), x0, 1000),
        "window adaptation");
    Setup out;
    out.params = warm.parameters;
    if (m == MetricKind::kDense && !adapt_dense) {
      const Vec& diag = warm.parameters.inverse_mass_matrix.inverse_mass_diagonal();
      Mat full = xt::zeros<double>({d, d});
      for (std::size_t i = 0; i < d; ++i) full(i, i) = diag(i);
      out.params.inverse_mass_matrix = value_or_die(Metric::dense(full), "dense metric");
    }
    out.state = warm.state;
    out.momentum = Vec::from_shape({d});
    out.params.inverse_mass_matrix.sample_momentum(make_key(3), out.momentum);
    // The Gaussian's precision, read off its gradient (mean 0: grad = -P x).
    Vec x = xt::zeros<double>({d}), g = xt::zeros<double>({d});
    out.log_norm = f(x, g);
    out.dense_target = dense_target_;
    if (dense_target_) {
      out.precision = xt::zeros<double>({d, d});
      for (std::size_t j = 0; j < d; ++j) {
        x.fill(0.0);
        x(j) = 1.0;
        f(x, g);
        for (std::size_t i = 0; i < d; ++i) out.precision(i, j) = -g(i);
      }
    } else {
      x.fill(1.0);
      f(x, g);
      out.precision_diag = -g;
    }
    return out;
  }

  std::string name_;
  std::shared_ptr<const T> t_;
  bool dense_target_;
  std::map<MetricKind, Setup> setups_;
};

// ---------------------------------------------------------------------------
// The hand-fused leapfrog: plain loops over raw arrays, the two half kicks
// between steps fused into one full kick, no nutshell code. The log density
// is either called (`F`, the very function the library calls) or, with
// kInline, the Gaussian's gradient -P x is computed in the loop itself.
// Dense matrix-vector products (dense metric, dense precision) are BLAS
// dsymv, the fastest available, as in any hand-written HMC. The loops carry
// `#pragma omp simd` (built with -fopenmp-simd): GCC 12 at -O2, which is what
// --config=opt compiles with, uses the "very cheap" vectorisation cost model
// and leaves loops of unknown trip count scalar. See README.md.

struct FusedState {
  Vec x, g;                  // Vec only so the density can be called on them
  std::vector<double> p, v;  // momentum, velocity scratch
  double lp = 0.0;
};

template <bool kDenseMetric, bool kInline, class F>
double fused_leapfrog(F& f, const Setup& s, FusedState& z, double eps, int num_steps) {
  const std::size_t d = z.x.size();
  double* x = z.x.data();
  double* g = z.g.data();
  double* p = z.p.data();
  double* v = z.v.data();
  const double* m = s.params.inverse_mass_matrix.inverse_mass_diagonal().data();
  const double* mm = s.params.inverse_mass_matrix.inverse_mass_matrix().data();
  const double* pd = s.precision_diag.data();
  const double* pm = s.precision.data();
  const bool dense_target = s.dense_target;
  double lp = 0.0;
  for (int step = 0; step < num_steps; ++step) {
    const double kick = step == 0 ? 0.5 * eps : eps;
    if constexpr (!kDenseMetric) {
      if (kInline && !dense_target) {
        // Everything in one pass: kick, drift, gradient, log density.
        double quad = 0.0;
#pragma omp simd reduction(+ : quad)
        for (std::size_t i = 0; i < d; ++i) {
          p[i] += kick * g[i];
          x[i] += eps * m[i] * p[i];
          g[i] = -pd[i] * x[i];
          quad += x[i] * g[i];
        }
        lp = s.log_norm + 0.5 * quad;
        continue;
      }
#pragma omp simd
      for (std::size_t i = 0; i < d; ++i) {
        p[i] += kick * g[i];
        x[i] += eps * m[i] * p[i];
      }
    } else {
#pragma omp simd
      for (std::size_t i = 0; i < d; ++i) p[i] += kick * g[i];
      // v = M^-1 p: BLAS's symmetric matvec reads half the matrix, which a
      // plain loop cannot beat (memory bound from d ~ 100 on).
      cblas_dsymv(CblasRowMajor, CblasLower, static_cast<int>(d), 1.0, mm, static_cast<int>(d), p,
                  1, 0.0, v, 1);
      if (kInline && !dense_target) {
        double quad = 0.0;
#pragma omp simd reduction(+ : quad)
        for (std::size_t i = 0; i < d; ++i) {
          x[i] += eps * v[i];
          g[i] = -pd[i] * x[i];
          quad += x[i] * g[i];
        }
        lp = s.log_norm + 0.5 * quad;
        continue;
      }
#pragma omp simd
      for (std::size_t i = 0; i < d; ++i) x[i] += eps * v[i];
    }
    if constexpr (kInline) {
      // Dense Gaussian: g = -P x, lp = log_norm + x.g / 2.
      cblas_dsymv(CblasRowMajor, CblasLower, static_cast<int>(d), -1.0, pm, static_cast<int>(d), x,
                  1, 0.0, g, 1);
      double quad = 0.0;
#pragma omp simd reduction(+ : quad)
      for (std::size_t i = 0; i < d; ++i) quad += x[i] * g[i];
      lp = s.log_norm + 0.5 * quad;
    } else {
      lp = f(z.x, z.g);
    }
  }
#pragma omp simd
  for (std::size_t i = 0; i < d; ++i) p[i] += 0.5 * eps * g[i];
  z.lp = lp;
  return lp;
}

void reset_fused(const Setup& s, FusedState& z) {
  z.x = s.state.position;
  z.g = s.state.logdensity_grad;
  z.lp = s.state.logdensity;
  z.p.assign(s.momentum.begin(), s.momentum.end());
  z.v.assign(z.p.size(), 0.0);
}

/// Runs `num_steps` fused steps in chunks of 16, resetting to the setup
/// point should the trajectory ever leave the finite range.
template <class F>
void run_fused(F& f, const Setup& s, FusedState& z, MetricKind m, bool inline_density,
               std::int64_t num_steps) {
  const double eps = s.params.step_size;
  while (num_steps > 0) {
    const int chunk = static_cast<int>(std::min<std::int64_t>(16, num_steps));
    double lp;
    if (m == MetricKind::kDiag)
      lp = inline_density ? fused_leapfrog<false, true>(f, s, z, eps, chunk)
                          : fused_leapfrog<false, false>(f, s, z, eps, chunk);
    else
      lp = inline_density ? fused_leapfrog<true, true>(f, s, z, eps, chunk)
                          : fused_leapfrog<true, false>(f, s, z, eps, chunk);
    benchmark::DoNotOptimize(lp);
    if (!std::isfinite(lp)) reset_fused(s, z);
    num_steps -= chunk;
  }
}

// ---------------------------------------------------------------------------
// Benchmarks.

void set_time_per_grad(benchmark::State& state, double grads) {
  state.counters["t_grad"] =
      benchmark::Counter(grads, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class T>
void bm_logdensity(benchmark::State& state, Target<T>* t) {
  const Setup& s = t->setup(MetricKind::kDiag);
  auto f = t->density();
  Vec x = s.state.position, g = s.state.logdensity_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x.data());
    double lp = f(x, g);
    benchmark::DoNotOptimize(lp);
    benchmark::ClobberMemory();
  }
  set_time_per_grad(state, static_cast<double>(state.iterations()));
}

template <class T>
void bm_fused(benchmark::State& state, Target<T>* t, MetricKind m, bool inline_density) {
  const Setup& s = t->setup(m);
  auto f = t->density();
  FusedState z;
  reset_fused(s, z);
  constexpr int kSteps = 16;
  for (auto _ : state) run_fused(f, s, z, m, inline_density, kSteps);
  set_time_per_grad(state, static_cast<double>(state.iterations()) * kSteps);
}

template <class T>
void bm_leapfrog(benchmark::State& state, Target<T>* t, MetricKind m, Integrator integrator) {
  const Setup& s = t->setup(m);
  auto f = t->density();
  IntegratorState z0{s.state.position, s.momentum, s.state.logdensity, s.state.logdensity_grad};
  IntegratorState z = z0;
  Vec velocity = Vec::from_shape({t->dim()});
  std::int64_t since_reset = 0;
  for (auto _ : state) {
    auto st = integrate_step(integrator, s.params.inverse_mass_matrix, f, z, s.params.step_size,
                             velocity);
    benchmark::DoNotOptimize(st);
    if (++since_reset == 1024) {  // keep far from any blow-up; amortised
      since_reset = 0;
      if (!std::isfinite(z.logdensity)) z = z0;
    }
  }
  set_time_per_grad(state,
                    static_cast<double>(state.iterations()) * integrator.gradient_evaluations());
}

/// One momentum draw from the metric (a fixed cost of every HMC / NUTS
/// transition, paid once however many steps the transition takes).
template <class T>
void bm_momentum(benchmark::State& state, Target<T>* t, MetricKind m) {
  const Setup& s = t->setup(m);
  Vec p = Vec::from_shape({t->dim()});
  const Key key = make_key(24);
  std::uint64_t i = 0;
  for (auto _ : state) {
    s.params.inverse_mass_matrix.sample_momentum(fold_in(key, i++), p);
    benchmark::DoNotOptimize(p.data());
    benchmark::ClobberMemory();
  }
}

template <class T>
void bm_hmc(benchmark::State& state, Target<T>* t, MetricKind m, int num_steps) {
  const Setup& s = t->setup(m);
  auto f = t->density();
  hmc::Kernel kernel;
  hmc::Params params{s.params.step_size, s.params.inverse_mass_matrix, num_steps};
  hmc::Workspace ws;
  hmc::Info info;
  GradientState a = s.state, b = s.state;
  GradientState* cur = &a;
  GradientState* next = &b;
  const Key key = make_key(21);
  std::uint64_t i = 0;
  for (; i < 16; ++i) {  // warm the buffers
    if (!kernel.step_into(fold_in(key, i), *cur, f, params, *next, info, ws).ok()) std::abort();
    std::swap(cur, next);
  }
  const std::uint64_t heap0 = thread_heap_allocations();
  for (auto _ : state) {
    auto st = kernel.step_into(fold_in(key, i++), *cur, f, params, *next, info, ws);
    benchmark::DoNotOptimize(st);
    std::swap(cur, next);
  }
  const double heap = static_cast<double>(thread_heap_allocations() - heap0);
  const double n = static_cast<double>(state.iterations());
  set_time_per_grad(state, n * num_steps);
  state.counters["heap_allocs"] = heap / n;
}

template <class T>
void bm_nuts(benchmark::State& state, Target<T>* t, MetricKind m) {
  const Setup& s = t->setup(m);
  auto f = t->density();
  nuts::Kernel kernel;
  nuts::Workspace ws;
  nuts::Info info;
  GradientState a = s.state, b = s.state;
  GradientState* cur = &a;
  GradientState* next = &b;
  const Key key = make_key(22);
  std::uint64_t i = 0;
  for (; i < 64; ++i) {  // steady state: every buffer has been sized once
    if (!kernel.step_into(fold_in(key, i), *cur, f, s.params, *next, info, ws).ok()) std::abort();
    std::swap(cur, next);
  }
  const std::uint64_t heap0 = thread_heap_allocations();
  const std::uint64_t new0 = thread_operator_new_calls();
  double grads = 0.0, divergent = 0.0;
  for (auto _ : state) {
    auto st = kernel.step_into(fold_in(key, i++), *cur, f, s.params, *next, info, ws);
    benchmark::DoNotOptimize(st);
    grads += info.num_integration_steps;
    divergent += info.is_divergent;
    std::swap(cur, next);
  }
  // Read both counters before the counter map allocates its entries.
  const double heap = static_cast<double>(thread_heap_allocations() - heap0);
  const double news = static_cast<double>(thread_operator_new_calls() - new0);
  const double n = static_cast<double>(state.iterations());
  state.counters["heap_allocs"] = heap / n;
  state.counters["new_calls"] = news / n;
  state.counters["steps"] = grads / n;
  state.counters["divergent"] = divergent / n;
  set_time_per_grad(state, grads);
}

/// NUTS transitions and as many fused leapfrog steps as they took gradient
/// evaluations, interleaved in every iteration so that load changes on a
/// shared machine hit both alike.
template <class T>
void bm_overhead(benchmark::State& state, Target<T>* t, MetricKind m) {
  const Setup& s = t->setup(m);
  auto f = t->density();
  nuts::Kernel kernel;
  nuts::Workspace ws;
  nuts::Info info;
  GradientState a = s.state, b = s.state;
  GradientState* cur = &a;
  GradientState* next = &b;
  const Key key = make_key(23);
  std::uint64_t i = 0;
  for (; i < 64; ++i) {
    if (!kernel.step_into(fold_in(key, i), *cur, f, s.params, *next, info, ws).ok()) std::abort();
    std::swap(cur, next);
  }
  FusedState zc, zi;
  reset_fused(s, zc);
  reset_fused(s, zi);
  double t_nuts = 0.0, t_call = 0.0, t_inline = 0.0, grads = 0.0;
  constexpr int kTransitions = 8;
  for (auto _ : state) {
    std::int64_t steps = 0;
    double t0 = thread_seconds();
    for (int k = 0; k < kTransitions; ++k) {
      auto st = kernel.step_into(fold_in(key, i++), *cur, f, s.params, *next, info, ws);
      benchmark::DoNotOptimize(st);
      steps += info.num_integration_steps;
      std::swap(cur, next);
    }
    double t1 = thread_seconds();
    t_nuts += t1 - t0;
    run_fused(f, s, zc, m, false, steps);
    t0 = thread_seconds();
    t_call += t0 - t1;
    run_fused(f, s, zi, m, true, steps);
    t_inline += thread_seconds() - t0;
    grads += static_cast<double>(steps);
  }
  state.counters["nuts_ns"] = 1e9 * t_nuts / grads;
  state.counters["fused_call_ns"] = 1e9 * t_call / grads;
  state.counters["fused_inline_ns"] = 1e9 * t_inline / grads;
  state.counters["ratio_call"] = t_nuts / t_call;
  state.counters["ratio_inline"] = t_nuts / t_inline;
}

template <class T>
void bm_window_adaptation(benchmark::State& state, Target<T>* t, MetricKind m) {
  const Setup& s = t->setup(MetricKind::kDiag);  // only for a typical-set start
  auto f = t->density();
  adaptation::WindowAdaptationOptions options;
  options.is_mass_matrix_diagonal = m == MetricKind::kDiag;
  auto warmup = adaptation::window_adaptation(nuts::Kernel{}, f, options);
  constexpr std::size_t kSteps = 1000;
  double grads = 0.0;
  std::uint64_t iter = 0;
  const std::uint64_t heap0 = thread_heap_allocations();
  for (auto _ : state) {
    auto r = warmup.run(fold_in(make_key(31), iter++), s.state.position, kSteps);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    for (const auto& w : r->infos) grads += w.info.num_integration_steps;
    benchmark::DoNotOptimize(r->parameters.step_size);
  }
  const double heap = static_cast<double>(thread_heap_allocations() - heap0);
  const double n = static_cast<double>(state.iterations());
  // What `sample` runs: no kept Infos. Allocations of one whole warmup, then
  // of one twice as long: the difference is what more steps cost (window
  // ends re-estimate the metric; the transitions allocate nothing).
  options.keep_infos = false;
  auto lean = adaptation::window_adaptation(nuts::Kernel{}, f, options);
  std::uint64_t lean_allocs[2];
  for (int k = 0; k < 2; ++k) {
    const std::uint64_t h0 = thread_heap_allocations();
    auto r = lean.run(make_key(32), s.state.position, kSteps << k);
    lean_allocs[k] = thread_heap_allocations() - h0;
    benchmark::DoNotOptimize(r.ok());
  }
  set_time_per_grad(state, grads);
  state.counters["heap_allocs_no_infos"] = static_cast<double>(lean_allocs[0]);
  state.counters["heap_allocs_no_infos_2x"] = static_cast<double>(lean_allocs[1]);
  state.counters["t_step"] = benchmark::Counter(
      n * kSteps, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["steps"] = grads / (n * kSteps);
  state.counters["heap_allocs_per_step"] = heap / (n * kSteps);
}

// 4 chains x 1000 draws x 100 dimensions of AR(1) series (phi from 0 to 0.9
// across dimensions), as a sampler would produce.
const diagnostics::Draws& diagnostic_draws() {
  static const diagnostics::Draws draws = [] {
    diagnostics::Draws d = xt::zeros<double>({4, 1000, 100});
    Stream s(make_key(41));
    for (std::size_t c = 0; c < 4; ++c)
      for (std::size_t k = 0; k < 100; ++k) {
        const double phi = 0.9 * static_cast<double>(k) / 99.0;
        double x = s.normal();
        for (std::size_t i = 0; i < 1000; ++i) {
          x = phi * x + std::sqrt(1.0 - phi * phi) * s.normal();
          d(c, i, k) = x;
        }
      }
    return d;
  }();
  return draws;
}

void bm_diagnostics(benchmark::State& state, int which) {
  const auto& draws = diagnostic_draws();
  for (auto _ : state) {
    if (which == 0 || which == 3) benchmark::DoNotOptimize(diagnostics::ess_bulk(draws));
    if (which == 1 || which == 3) benchmark::DoNotOptimize(diagnostics::ess_tail(draws));
    if (which == 2 || which == 3) benchmark::DoNotOptimize(diagnostics::rhat(draws));
  }
}

// ---------------------------------------------------------------------------

template <class T>
void register_target(Target<T>* t, bool dense_metric_nuts, bool dense_adaptation) {
  const std::string& n = t->name();
  benchmark::RegisterBenchmark(("logdensity/" + n).c_str(), bm_logdensity<T>, t);
  for (MetricKind m : {MetricKind::kDiag, MetricKind::kDense}) {
    if (m == MetricKind::kDense && !dense_metric_nuts) continue;
    const std::string tm = n + "/" + metric_name(m);
    benchmark::RegisterBenchmark(("fused/" + tm + "/call").c_str(), bm_fused<T>, t, m, false);
    benchmark::RegisterBenchmark(("fused/" + tm + "/inline").c_str(), bm_fused<T>, t, m, true);
    for (const Integrator* in : {&velocity_verlet, &mclachlan, &yoshida})
      benchmark::RegisterBenchmark(("leapfrog/" + tm + "/" + in->name).c_str(), bm_leapfrog<T>,
                                   t, m, *in);
    benchmark::RegisterBenchmark(("momentum/" + tm).c_str(), bm_momentum<T>, t, m);
    benchmark::RegisterBenchmark(("hmc/" + tm + "/L:16").c_str(), bm_hmc<T>, t, m, 16);
    benchmark::RegisterBenchmark(("nuts/" + tm).c_str(), bm_nuts<T>, t, m);
    benchmark::RegisterBenchmark(("overhead/" + tm).c_str(), bm_overhead<T>, t, m);
    if (m == MetricKind::kDiag || dense_adaptation)
      benchmark::RegisterBenchmark(("window_adaptation/" + tm).c_str(), bm_window_adaptation<T>,
                                   t, m)
          ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace nutshell::bench

int main(int argc, char** argv) {
  using namespace nutshell;
  using namespace nutshell::bench;
  // OpenBLAS (dense metric: dsymv, dtrsv) must not run threads of its own:
  // they would compete for the 2 cores and hide their CPU time from the
  // per-thread clocks.
  ensure_single_threaded_blas(argv);
  benchmark::Initialize(&argc, argv);
  auto g100 = value_or_die(posteriors::Gauss100::load(), "gauss_100");
  auto c50 = value_or_die(posteriors::CorrGauss50::load(), "corr_gauss_50");
  static Target<ScaledGaussian> t10("gauss_10", std::make_shared<ScaledGaussian>(10), false);
  static Target<posteriors::Gauss100> t100(
      "gauss_100", std::make_shared<posteriors::Gauss100>(std::move(g100)), false);
  static Target<ScaledGaussian> t1000("gauss_1000", std::make_shared<ScaledGaussian>(1000), false);
  static Target<posteriors::CorrGauss50> tc50(
      "corr_gauss_50", std::make_shared<posteriors::CorrGauss50>(std::move(c50)), true);
  register_target(&t10, true, true);
  register_target(&t100, true, true);
  register_target(&tc50, true, true);
  // d = 1000: a dense metric costs a 1000 x 1000 matvec per step (memory
  // bound, 8 MB); measured, but no dense adaptation (500 draws cannot
  // estimate a 1000 x 1000 covariance anyway).
  register_target(&t1000, true, false);
  benchmark::RegisterBenchmark("diagnostics/ess_bulk", bm_diagnostics, 0)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("diagnostics/ess_tail", bm_diagnostics, 1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("diagnostics/rhat", bm_diagnostics, 2)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("diagnostics/all_three", bm_diagnostics, 3)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
