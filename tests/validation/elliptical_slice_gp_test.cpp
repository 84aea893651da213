// Elliptical slice sampling on the latent GP of gp_student_t_100, composed
// with NUTS on the hyperparameters by the mixed combinator, against the
// reference posterior (rstan, 4 x 10 000 draws) on the unconstrained scale.
//
// The model is non-centred: z ~ N(0, I), f = L(ell, eta) z, y ~ StudentT(nu,
// f, sigma). So z has exactly the Gaussian prior elliptical slice needs, and
// its log-likelihood given the hyperparameters is the rest of log p as a
// function of z: sum_n -(nu + 1)/2 log(1 + (y_n - f_n)^2 / (nu sigma^2)) (the
// other Student-t terms do not depend on z).
//
// The composition: the continuous block is the 4 hyperparameters (log_ell,
// log_eta, log_sigma, log_nu_raw), moved by NUTS on log p(hyper, z) as a
// function of hyper (the model's density and the first 4 entries of its
// gradient; one Cholesky per evaluation); `others` is z (a Vec), drawn by a
// mixed::gibbs block that calls elliptical_slice's kernel. mixed recomputes the
// continuous block's density after the Gibbs block every sweep, and window
// adaptation tunes NUTS with the Gibbs block running inside warmup.
//
// The Gibbs block takes kEssStepsPerSweep elliptical slice transitions per
// sweep (keys fold_in(block key, i)), not one. With one, the chains do not mix
// within any affordable budget: z moves little per transition (every ESS
// transition needs ~6 shrinkage steps; the likelihood of 100 points pins the
// smooth components of z), and the hyperparameters, whose conditional given z
// is narrow in this parameterisation, can only follow z. Measured on one
// chain of 4000 sweeps after 1000 of warmup, the bulk ESS of log_ell was 3
// with 1 ESS step per sweep, 41 with 10 and 48 with 40. ESS transitions are
// cheap next to NUTS here (the likelihood caches the Cholesky factor of K for
// the sweep's hyperparameters, so an evaluation is one triangular product,
// against a full O(N^3) gradient per NUTS leapfrog step), so 10 per sweep cost
// about a quarter of a sweep.
//
// Even so, log_ell mixes slowly (integrated autocorrelation ~300 sweeps, bulk
// ESS ~100 from 4 x 8000 sweeps: the Gibbs coupling between the
// hyperparameters and z), so its MCSE is the largest, ~0.1 reference sd, and
// the check on its mean is correspondingly coarse (4 combined MCSE ~0.4 sd). The test checks every one of the 104 means
// within 4 combined MCSE (ours from posterior's mcse_mean over 4 chains, and
// the reference's), every sd within 4 combined MCSE of the sd, R-hat < 1.1
// and a bulk ESS of at least 50 everywhere (so the MCSEs mean something).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>
#include <xtensor-blas/xlinalg.hpp>

#include "nutshell/adaptation/window_adaptation.hpp"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/mcmc/elliptical_slice.hpp"
#include "nutshell/compose/mixed.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/scan.hpp"
#include "tests/posteriors/json_fields.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace nutshell {
namespace {

using posteriors::GpStudentT100;
namespace es = elliptical_slice;

constexpr std::size_t kHyper = 4;

/// gp_student_t_100's data: y and the squared distances of the inputs.
struct GpData {
  std::size_t n = 0;
  std::vector<double> y, d2;  // d2 row-major N x N, lower triangle
};

absl::StatusOr<std::shared_ptr<const GpData>> load_gp_data() {
  auto f = posteriors::detail::read_posterior_json(GpStudentT100::kName, "data.json", {});
  if (!f.ok()) return f.status();
  auto n = posteriors::detail::get_int(*f, f->value, "N", 1);
  if (!n.ok()) return n.status();
  auto x = posteriors::detail::get_reals(*f, f->value, "x", *n);
  auto y = posteriors::detail::get_reals(*f, f->value, "y", *n);
  if (!x.ok()) return x.status();
  if (!y.ok()) return y.status();
  auto d = std::make_shared<GpData>();
  d->n = static_cast<std::size_t>(*n);
  d->y = *std::move(y);
  d->d2.assign(d->n * d->n, 0.0);
  for (std::size_t i = 0; i < d->n; ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const double dx = (*x)[i] - (*x)[j];
      d->d2[i * d->n + j] = dx * dx;
    }
  return std::shared_ptr<const GpData>(std::move(d));
}

/// The latent block's log likelihood: the terms of log p that depend on z,
/// except z's own N(0, I) prior, for fixed hyperparameters
///   sum_n -(nu + 1)/2 log(1 + (y_n - f_n)^2 / (nu sigma^2)),  f = L z.
/// `set_hyper` builds K(ell, eta) and factors it once; each evaluation then
/// costs one triangular product. Value semantics: copies own their scratch.
class LatentLikelihood {
 public:
  explicit LatentLikelihood(std::shared_ptr<const GpData> d)
      : d_(std::move(d)), chol_(d_->n * d_->n, 0.0), f_(d_->n, 0.0) {}

  /// False when K is not numerically positive definite.
  bool set_hyper(const Vec& hyper) {
    const std::size_t n = d_->n;
    const double ell = std::exp(hyper(0)), eta2 = std::exp(2.0 * hyper(1));
    sigma2_ = std::exp(2.0 * hyper(2));
    nu_ = 1.0 + std::exp(hyper(3));
    const double scale = -0.5 / (ell * ell);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < i; ++j)
        chol_[i * n + j] = eta2 * std::exp(scale * d_->d2[i * n + j]);
      chol_[i * n + i] = eta2 + 1e-6;
      for (std::size_t j = i + 1; j < n; ++j) chol_[i * n + j] = 0.0;
    }
    // Row-major lower = column-major upper for LAPACK.
    return cxxlapack::potrf<int>('U', static_cast<int>(n), chol_.data(), static_cast<int>(n)) == 0;
  }

  double operator()(const Vec& z) {
    using namespace cxxblas;
    const std::size_t n = d_->n;
    const int ni = static_cast<int>(n);
    std::copy(z.begin(), z.end(), f_.begin());
    trmv(RowMajor, Lower, NoTrans, NonUnit, ni, chol_.data(), ni, f_.data(), 1);
    double s = 0.0;
    const double nu_s2 = nu_ * sigma2_;
    for (std::size_t i = 0; i < n; ++i) {
      const double r = d_->y[i] - f_[i];
      s += std::log1p(r * r / nu_s2);
    }
    return -0.5 * (nu_ + 1.0) * s;
  }

 private:
  std::shared_ptr<const GpData> d_;
  std::vector<double> chol_, f_;
  double sigma2_ = 1.0, nu_ = 2.0;
};

/// The Gibbs block: `steps` elliptical slice transitions of z against its
/// prior N(0, I) and LatentLikelihood at the sweep's hyperparameters, the
/// i-th keyed by fold_in(block key, i). Const-callable, as mixed requires:
/// the scratch (the factor of K, the kernel's buffers) is mutable and owned
/// per copy, and each chain has its own copy.
class LatentEss {
 public:
  LatentEss(std::shared_ptr<const GpData> d, int steps)
      : steps_(steps),
        lik_(d),
        prior_(*es::GaussianPrior::diagonal(xt::zeros<double>({d->n}), xt::ones<double>({d->n}))) {}

  absl::StatusOr<Vec> operator()(const Key& key, const Vec& hyper, const Vec& z) const {
    if (!lik_.set_hyper(hyper))
      return absl::FailedPreconditionError("kernel matrix is not positive definite");
    out_.position = z;
    out_.loglikelihood = lik_(z);
    for (int i = 0; i < steps_; ++i) {
      std::swap(in_, out_);
      auto s = kernel_.step_into(fold_in(key, static_cast<std::uint64_t>(i)), in_, lik_, prior_,
                                 out_, info_, ws_);
      if (!s.ok()) return s;
      ++steps_taken_;
      shrinkage_steps_ += info_.num_shrinkage_steps;
    }
    return out_.position;
  }

  long steps_taken() const { return steps_taken_; }
  long shrinkage_steps() const { return shrinkage_steps_; }

 private:
  int steps_;
  es::Kernel kernel_ = es::build_kernel();
  mutable LatentLikelihood lik_;
  es::GaussianPrior prior_;
  mutable es::State in_, out_;
  mutable es::Info info_;
  mutable es::Workspace ws_;
  mutable long steps_taken_ = 0, shrinkage_steps_ = 0;
};

/// The hyperparameters' conditional log p(hyper, z) as a function of hyper,
/// with its gradient: the model's, restricted to the first 4 coordinates.
class HyperConditional {
 public:
  explicit HyperConditional(const GpStudentT100& model)
      : model_(model), u_(Vec::from_shape({model.dim()})), grad_(Vec::from_shape({model.dim()})) {}
  double operator()(const Vec& hyper, Vec& grad, const Vec& z) {
    std::copy(hyper.begin(), hyper.end(), u_.begin());
    std::copy(z.begin(), z.end(), u_.begin() + kHyper);
    const double lp = model_(u_, grad_);
    std::copy(grad_.begin(), grad_.begin() + kHyper, grad.begin());
    ++calls;
    return lp;
  }
  long calls = 0;

 private:
  GpStudentT100 model_;
  Vec u_, grad_;
};

constexpr std::size_t kChains = 4;
constexpr int kEssStepsPerSweep = 10;

/// Pooled draws of kChains chains: [chain, draw, (hyper, z)].
struct Chains {
  diagnostics::Draws draws;
  std::size_t divergent = 0;
  double seconds = 0.0, grads_per_sweep = 0.0, shrinks_per_ess_step = 0.0;
  std::vector<double> step_sizes;
};

/// kChains chains (pmap, 2 threads) of the mixed sampler: each starts at a
/// Stan-style dispersed point, runs window adaptation for `warmup_sweeps`
/// sweeps, then keeps `sweeps` sweeps.
Chains run_chains(const GpStudentT100& model, const std::shared_ptr<const GpData>& data,
                  std::size_t warmup_sweeps, std::size_t sweeps) {
  struct ChainOut {
    Mat draws;
    std::size_t divergent = 0;
    double step_size = 0.0;
    long grads = 0, ess_steps = 0, shrinks = 0;
  };
  const std::size_t dim = model.dim();
  auto task = [&](std::size_t, const Key& k) -> absl::StatusOr<ChainOut> {
    const auto keys = split<3>(k);
    // This chain's own scratch: the model's and the latent likelihood's.
    auto kernel = mixed::build_kernel<Vec>(nuts::build_kernel(),
                                           mixed::gibbs(LatentEss(data, kEssStepsPerSweep)));
    HyperConditional f(model);
    const Vec u0 = model.initial_point(keys[0]);
    auto s0 = kernel.init(Vec(xt::view(u0, xt::range(0, kHyper))),
                          Vec(xt::view(u0, xt::range(kHyper, dim))), f);
    if (!s0.ok()) return s0.status();
    auto warmup = adaptation::window_adaptation(kernel, std::ref(f));
    auto adapted = warmup.run_from(keys[1], *s0, warmup_sweeps);
    if (!adapted.ok()) return adapted.status();
    f.calls = 0;
    auto alg = mixed::sampler(kernel, std::ref(f), adapted->parameters);
    ChainOut out;
    out.draws = Mat::from_shape({sweeps, dim});
    std::size_t row = 0;
    auto run = run_inference_algorithm(
        keys[2], alg, adapted->state, sweeps, [&](const auto& st, const auto&) {
          std::copy(st.position.begin(), st.position.end(), &out.draws(row, 0));
          std::copy(st.others.begin(), st.others.end(), &out.draws(row, kHyper));
          ++row;
          return 0;
        });
    if (!run.ok()) return run.status();
    const LatentEss& ess = std::get<0>(alg.kernel().blocks()).fn;
    out.divergent = run->num_divergent;
    out.step_size = adapted->parameters.step_size;
    out.grads = f.calls;
    out.ess_steps = ess.steps_taken();
    out.shrinks = ess.shrinkage_steps();
    return out;
  };
  const auto start = std::chrono::steady_clock::now();
  auto chains = pmap(make_key(20260501), kChains, task, PmapOptions{.num_threads = 2});
  Chains out;
  EXPECT_TRUE(chains.ok()) << chains.status;
  if (!chains.ok()) return out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.draws = diagnostics::Draws::from_shape({kChains, sweeps, dim});
  long grads = 0, steps = 0, shrinks = 0;
  for (std::size_t c = 0; c < kChains; ++c) {
    const ChainOut& ch = *chains.chains[c];
    xt::view(out.draws, c, xt::all(), xt::all()) = ch.draws;
    out.divergent += ch.divergent;
    out.step_sizes.push_back(ch.step_size);
    grads += ch.grads;
    steps += ch.ess_steps;
    shrinks += ch.shrinks;
  }
  out.grads_per_sweep = static_cast<double>(grads) / static_cast<double>(kChains * sweeps);
  out.shrinks_per_ess_step = static_cast<double>(shrinks) / static_cast<double>(steps);
  return out;
}

class EllipticalSliceGp : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = GpStudentT100::load();
    ASSERT_TRUE(model.ok()) << model.status();
    model_.emplace(*std::move(model));
    auto ref = model_->reference();
    ASSERT_TRUE(ref.ok()) << ref.status();
    ref_ = *std::move(ref);
    auto data = load_gp_data();
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = *std::move(data);
  }
  std::optional<GpStudentT100> model_;
  posteriors::Reference ref_;
  std::shared_ptr<const GpData> data_;
};

TEST_F(EllipticalSliceGp, LatentLikelihoodIsTheModelAsAFunctionOfZ) {
  // For fixed hyperparameters, log p(hyper, z) = loglik(z) - |z|^2 / 2 + c:
  // differences in z must agree with the model's.
  LatentLikelihood lik(data_);
  GpStudentT100 model = *model_;
  Vec grad = Vec::from_shape({model.dim()});
  for (int k = 0; k < 5; ++k) {
    const Vec hyper = xt::view(model.initial_point(make_key(10 + k), 1.0), xt::range(0, kHyper));
    ASSERT_TRUE(lik.set_hyper(hyper));
    auto joint = [&](const Vec& z) {
      Vec u = Vec::from_shape({model.dim()});
      std::copy(hyper.begin(), hyper.end(), u.begin());
      std::copy(z.begin(), z.end(), u.begin() + kHyper);
      return model(u, grad);
    };
    auto ours = [&](const Vec& z) { return lik(z) - 0.5 * xt::sum(z * z)(); };
    const Vec z1 = normal(make_key(20 + k), data_->n), z2 = normal(make_key(30 + k), data_->n);
    const double expected = joint(z1) - joint(z2);
    EXPECT_NEAR(ours(z1) - ours(z2), expected, 1e-8 * std::max(1.0, std::abs(expected))) << k;
  }
}

TEST_F(EllipticalSliceGp, MixedNutsAndEllipticalSliceRecoverTheReference) {
  // 4 chains x (1000 warmup + 8000) sweeps: ~35 s on two free cores.
  const Chains c = run_chains(*model_, data_, 1000, 8000);
  ASSERT_EQ(c.draws.shape(0), kChains);
  auto mcse = diagnostics::mcse_mean(c.draws);
  auto mcse_sd = diagnostics::mcse_sd(c.draws);
  auto ess = diagnostics::ess_bulk(c.draws);
  auto rhat = diagnostics::rhat(c.draws);
  ASSERT_TRUE(mcse.ok() && mcse_sd.ok() && ess.ok() && rhat.ok());
  std::printf("%.1f s; %.1f gradients and %d ESS transitions (%.2f shrinkage steps each) per sweep; "
              "%zu divergent; step sizes",
              c.seconds, c.grads_per_sweep, kEssStepsPerSweep, c.shrinks_per_ess_step, c.divergent);
  for (double e : c.step_sizes) std::printf(" %.3f", e);
  std::printf("\n");
  const std::size_t total = c.draws.shape(0) * c.draws.shape(1);
  double worst_z = 0.0, worst_sd_z = 0.0;
  std::size_t worst = 0;
  for (std::size_t j = 0; j < ref_.mean.size(); ++j) {
    auto column = xt::view(c.draws, xt::all(), xt::all(), j);
    const double mean = xt::mean(column)();
    const double sd = std::sqrt(xt::variance(column)() * total / (total - 1.0));
    const double se = std::hypot((*mcse)(j), ref_.mcse_mean(j));
    const double se_sd = std::hypot((*mcse_sd)(j), ref_.mcse_sd(j));
    const double z = (mean - ref_.mean(j)) / se, z_sd = (sd - ref_.sd(j)) / se_sd;
    if (std::abs(z) > worst_z) worst_z = std::abs(z), worst = j;
    worst_sd_z = std::max(worst_sd_z, std::abs(z_sd));
    if (j < kHyper || j % 20 == 4)
      std::printf("%-10s mean %+.4f vs %+.4f (mcse %.4f, z %+.2f)  sd %.4f vs %.4f (z %+.2f)  "
                  "ess %5.0f  rhat %.3f\n",
                  ref_.names[j].c_str(), mean, ref_.mean(j), (*mcse)(j), z, sd, ref_.sd(j), z_sd,
                  (*ess)(j), (*rhat)(j));
    EXPECT_LT(std::abs(z), 4.0) << ref_.names[j] << ": mean " << mean << " vs reference "
                                << ref_.mean(j) << " (combined mcse " << se << ")";
    EXPECT_LT(std::abs(z_sd), 4.0) << ref_.names[j] << ": sd " << sd << " vs reference "
                                   << ref_.sd(j) << " (combined mcse " << se_sd << ")";
    EXPECT_LT((*rhat)(j), 1.1) << ref_.names[j];
    EXPECT_GT((*ess)(j), 50.0) << ref_.names[j];
  }
  std::printf("worst mean |z| %.2f (%s), worst sd |z| %.2f, min bulk ESS %.0f, max R-hat %.3f\n",
              worst_z, ref_.names[worst].c_str(), worst_sd_z, xt::amin(*ess)(), xt::amax(*rhat)());
  EXPECT_LE(c.divergent, total / 1000);
}

}  // namespace
}  // namespace nutshell
