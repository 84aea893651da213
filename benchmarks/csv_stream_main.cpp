// How much the streaming Stan CSV writer costs a run of a 100-dimensional
// model: gp_student_t_100 (a GP regression, a density as costly as real
// models are) or gauss_100 (100 independent Gaussians, a density that
// costs almost nothing, so the writer's share is the largest it gets).
// NUTS, 4 chains of 1000 warmup + 1000 draws, with an io::CsvStream as the step callback. Every call to
// the stream during sampling is timed, as is finish() (the complete
// files); both are compared with the chains' sampling time.
//
//   bazel run //benchmarks:csv_stream -- [--model gauss_100|gp_student_t_100] [--flush-every N] [--dir DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "nutshell/io/csv_stream.hpp"
#include "nutshell/io/from_draws.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/posteriors/gauss_100.hpp"
#include "tests/posteriors/gp_student_t_100.hpp"

template <class Model>
int run_benchmark(const std::string& name, std::size_t flush_every, const std::string& dir);

int main(int argc, char** argv) {
  std::size_t flush_every = 1;
  std::string model = "gauss_100";
  std::string dir = std::filesystem::temp_directory_path() / "nutshell_csv_stream_bench";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--flush-every") flush_every = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::string(argv[i]) == "--dir") dir = argv[i + 1];
    if (std::string(argv[i]) == "--model") model = argv[i + 1];
  }
  if (model == "gauss_100") return run_benchmark<nutshell::posteriors::Gauss100>(model, flush_every, dir);
  if (model == "gp_student_t_100")
    return run_benchmark<nutshell::posteriors::GpStudentT100>(model, flush_every, dir);
  std::fprintf(stderr, "unknown --model %s (gauss_100, gp_student_t_100)\n", model.c_str());
  return 2;
}

template <class Model>
int run_benchmark(const std::string& name, std::size_t flush_every, const std::string& dir) {
  auto model = Model::load();
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  std::filesystem::create_directories(dir);
  nutshell::SampleOptions o;
  o.num_chains = 4;
  o.num_warmup = 1000;
  o.num_samples = 1000;
  o.progress_bar = false;
  nutshell::io::CsvStreamOptions so;
  so.prefix = dir + "/" + name;
  so.num_chains = o.num_chains;
  so.model_name = name;
  so.num_warmup = o.num_warmup;
  so.num_samples = o.num_samples;
  so.flush_every = flush_every;
  nutshell::io::CsvStream stream(so);

  using Clock = std::chrono::steady_clock;
  std::vector<double> write_seconds(o.num_chains, 0.0);
  std::vector<Clock::time_point> first(o.num_chains), last(o.num_chains);
  auto callback = [&](const nutshell::StepEvent<nutshell::nuts::State, nutshell::nuts::Info>& e) {
    if (e.is_warmup) return;
    const auto t0 = Clock::now();
    stream(e);
    const auto t1 = Clock::now();
    write_seconds[e.chain] += std::chrono::duration<double>(t1 - t0).count();
    if (e.step == 0) first[e.chain] = t0;
    last[e.chain] = t1;
  };
  auto draws = nutshell::sample(nutshell::make_key(1), *model, nutshell::Vec(xt::zeros<double>({model->dim()})), o,
                                callback);
  if (!draws.ok() || !stream.status().ok()) {
    std::fprintf(stderr, "run or stream failed\n");
    return 1;
  }
  nutshell::io::RunInfo info;
  info.model_name = name;
  info.num_warmup = o.num_warmup;
  info.num_samples = o.num_samples;
  auto run = nutshell::io::from_draws(*draws, info);
  const auto f0 = Clock::now();
  auto paths = stream.finish(*run);
  const double finish_seconds = std::chrono::duration<double>(Clock::now() - f0).count();
  if (!paths.ok()) {
    std::fprintf(stderr, "%s\n", std::string(paths.status().message()).c_str());
    return 1;
  }
  double sampling = 0.0, writing = 0.0;
  std::printf("chain  sampling_s  stream_write_s  share\n");
  for (std::size_t c = 0; c < o.num_chains; ++c) {
    const double s = std::chrono::duration<double>(last[c] - first[c]).count();
    sampling += s;
    writing += write_seconds[c];
    std::printf("%5zu  %10.4f  %14.5f  %5.2f%%\n", c + 1, s, write_seconds[c], 100.0 * write_seconds[c] / s);
  }
  std::printf("%s, flush every %zu draw(s); %zu draws x %zu dims per chain\n", name.c_str(), flush_every,
              run->num_draws(),
              run->flat_size());
  std::printf("streaming: %.5f s of %.4f s sampling (summed over chains) = %.2f%%\n", writing, sampling,
              100.0 * writing / sampling);
  std::printf("finish (complete files, once, after the run): %.4f s = %.2f%% of the summed sampling time\n",
              finish_seconds, 100.0 * finish_seconds / sampling);
  std::printf("total writer share: %.2f%%\n", 100.0 * (writing + finish_seconds) / sampling);
  return 0;
}
