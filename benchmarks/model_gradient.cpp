// Cost of one gradient of each shared posterior written once (layout +
// distributions + AD, tests/posteriors/ad/) against its hand-written
// gradient (tests/posteriors/), measured in the same run:
//   bazel run --config=opt //benchmarks:model_gradient
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "nutshell/core/key.hpp"
#include "tests/posteriors/ad/all.hpp"
#include "tests/posteriors/posteriors.hpp"

namespace {

template <class M>
void gradient(benchmark::State& state) {
  auto model = M::load();
  if (!model.ok()) {
    state.SkipWithError("cannot load the posterior");
    return;
  }
  const nutshell::Vec u = model->initial_point(nutshell::make_key(1), 1.0);
  nutshell::Vec grad = nutshell::Vec::from_shape({model->dim()});
  for (auto _ : state) benchmark::DoNotOptimize((*model)(u, grad));
}

using namespace nutshell::posteriors;
BENCHMARK(gradient<Gauss100>)->Name("hand/gauss_100");
BENCHMARK(gradient<Gauss100Ad>)->Name("model/gauss_100");
BENCHMARK(gradient<CorrGauss50>)->Name("hand/corr_gauss_50");
BENCHMARK(gradient<CorrGauss50Ad>)->Name("model/corr_gauss_50");
BENCHMARK(gradient<EightSchoolsNc>)->Name("hand/eight_schools_nc");
BENCHMARK(gradient<EightSchoolsNcAd>)->Name("model/eight_schools_nc");
BENCHMARK(gradient<Logistic1000x25>)->Name("hand/logistic_1000x25");
BENCHMARK(gradient<Logistic1000x25Ad>)->Name("model/logistic_1000x25");
BENCHMARK(gradient<Funnel10>)->Name("hand/funnel_10");
BENCHMARK(gradient<Funnel10Ad>)->Name("model/funnel_10");
BENCHMARK(gradient<GpStudentT100>)->Name("hand/gp_student_t_100");
BENCHMARK(gradient<GpStudentT100Ad>)->Name("model/gp_student_t_100");

}  // namespace

BENCHMARK_MAIN();
