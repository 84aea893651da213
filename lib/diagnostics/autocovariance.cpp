#include "nutshell/diagnostics/autocovariance.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <memory>
#include <numbers>
#include <span>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include "nutshell/diagnostics/moments.hpp"

namespace nutshell::diagnostics {
namespace {

using Complex = std::complex<double>;

// Radix-2 FFT of one power-of-two size (xtensor 0.24 ships none). Twiddles
// are computed directly, not by recurrence, to keep errors at a few ulps.
class Fft {
 public:
  explicit Fft(std::size_t n) : n_(n), twiddle_(n / 2), bit_reverse_(n) {
    for (std::size_t k = 0; k < n / 2; ++k) {
      twiddle_[k] = std::polar(1.0, -2.0 * std::numbers::pi * k / n);
    }
    std::size_t bits = 0;
    while ((std::size_t{1} << bits) < n) ++bits;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t r = 0;
      for (std::size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
      bit_reverse_[i] = r;
    }
  }

  // In place; the inverse is unnormalised (callers normalise by lag 0).
  // Works on the interleaved (re, im) doubles with the twiddle loop outside
  // the butterfly loop, which keeps every operand in registers.
  void transform(std::vector<Complex>& data, bool inverse) const {
    for (std::size_t i = 0; i < n_; ++i) {
      if (i < bit_reverse_[i]) std::swap(data[i], data[bit_reverse_[i]]);
    }
    double* a = reinterpret_cast<double*>(data.data());
    const double sign = inverse ? -1.0 : 1.0;
    for (std::size_t len = 2; len <= n_; len <<= 1) {
      const std::size_t half = len / 2, step = n_ / len;
      for (std::size_t j = 0; j < half; ++j) {
        const double wr = twiddle_[j * step].real();
        const double wi = sign * twiddle_[j * step].imag();
        for (std::size_t start = j; start < n_; start += len) {
          double* p = a + 2 * start;
          double* q = a + 2 * (start + half);
          const double tr = q[0] * wr - q[1] * wi;
          const double ti = q[0] * wi + q[1] * wr;
          q[0] = p[0] - tr;
          q[1] = p[1] - ti;
          p[0] += tr;
          p[1] += ti;
        }
      }
    }
  }

  std::size_t size() const { return n_; }

 private:
  std::size_t n_;
  std::vector<Complex> twiddle_;
  std::vector<std::size_t> bit_reverse_;
};

std::size_t fft_size_for(std::size_t n) {
  // Zero padding to >= 2n turns the circular correlation into the linear one.
  std::size_t size = 1;
  while (size < 2 * n) size <<= 1;
  return size;
}

bool is_constant(std::span<const double> x) {
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  return *lo == *hi;
}

// Autocovariances of two real chains x and y (y may be empty) with one
// complex FFT pair: x goes in the real part, y in the imaginary part.
// Posterior rescales the FFT result so that lag 0 equals the biased
// variance computed directly; done here too so the two agree to ulps.
void autocovariance_pair(const Fft& fft, std::span<const double> x,
                         std::span<const double> y, std::span<double> out_x,
                         std::span<double> out_y,
                         std::vector<Complex>& work,
                         std::vector<Complex>& power) {
  const std::size_t n = x.size(), size = fft.size();
  const bool has_y = !y.empty();
  const double mx = mean(x), my = has_y ? mean(y) : 0.0;
  std::fill(work.begin(), work.end(), Complex(0.0, 0.0));
  for (std::size_t i = 0; i < n; ++i) {
    work[i] = Complex(x[i] - mx, has_y ? y[i] - my : 0.0);
  }
  fft.transform(work, /*inverse=*/false);
  // Separate the two spectra (X_k = (Z_k + conj Z_-k) / 2, Y_k = (Z_k -
  // conj Z_-k) / 2i) and pack their power spectra |X|^2 + i |Y|^2; both are
  // real and even, so the inverse FFT returns each autocorrelation in one
  // part. The factor 1/4 is dropped: lag 0 normalises it away.
  for (std::size_t k = 0; k < size; ++k) {
    const Complex z = work[k], zc = std::conj(work[(size - k) % size]);
    power[k] = Complex(std::norm(z + zc), std::norm(z - zc));
  }
  fft.transform(power, /*inverse=*/true);
  auto finish = [n, &power](std::span<const double> v, std::span<double> out,
                            bool imaginary) {
    if (is_constant(v)) {
      std::fill(out.begin(), out.end(), 0.0);
      return;
    }
    const double var = variance(v);
    const double lag0 = imaginary ? power[0].imag() : power[0].real();
    for (std::size_t t = 0; t < n; ++t) {
      const double ac = imaginary ? power[t].imag() : power[t].real();
      out[t] = ac / lag0 * var * static_cast<double>(n - 1) / static_cast<double>(n);
    }
  };
  finish(x, out_x, false);
  if (has_y) finish(y, out_y, true);
}

// Plans are reused across calls: ESS of many dimensions asks for the same
// size over and over, and building one costs n/2 sin/cos evaluations.
const Fft& fft_plan(std::size_t size) {
  thread_local std::unique_ptr<Fft> plan;
  if (!plan || plan->size() != size) plan = std::make_unique<Fft>(size);
  return *plan;
}

}  // namespace

xt::xtensor<double, 2> autocovariance(const xt::xtensor<double, 2>& chains) {
  const std::size_t m = chains.shape()[0], n = chains.shape()[1];
  xt::xtensor<double, 2> out = xt::zeros<double>({m, n});
  if (m == 0 || n == 0) return out;
  const Fft& fft = fft_plan(fft_size_for(n));
  std::vector<Complex> work(fft.size()), power(fft.size());
  const double* in = chains.data();
  double* res = out.data();
  for (std::size_t c = 0; c < m; c += 2) {
    const bool pair = c + 1 < m;
    autocovariance_pair(
        fft, {in + c * n, n}, pair ? std::span<const double>(in + (c + 1) * n, n)
                                   : std::span<const double>(),
        {res + c * n, n}, pair ? std::span<double>(res + (c + 1) * n, n)
                               : std::span<double>(),
        work, power);
  }
  return out;
}

xt::xtensor<double, 1> autocovariance(const xt::xtensor<double, 1>& x) {
  const std::size_t n = x.size();
  xt::xtensor<double, 2> as_row = xt::zeros<double>({std::size_t{1}, n});
  std::copy(x.begin(), x.end(), as_row.begin());
  const xt::xtensor<double, 2> ac = autocovariance(as_row);
  xt::xtensor<double, 1> out = xt::zeros<double>({n});
  std::copy(ac.begin(), ac.end(), out.begin());
  return out;
}

}  // namespace nutshell::diagnostics
