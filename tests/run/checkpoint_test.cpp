#include "nutshell/run/checkpoint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/compose/mixed.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/resume.hpp"
#include "nutshell/run/sample.hpp"
#include "tests/support/gaussian.hpp"

// A user's block type, saved through write_fields / read_fields found by
// argument-dependent lookup.
namespace user {
struct Blocks {
  int tau = 0;
  std::vector<int> z;
  nutshell::Vec w;
};
inline void write_fields(nutshell::checkpoint::Record& r, const std::string& p, const Blocks& b) {
  using nutshell::checkpoint::write_fields;
  write_fields(r, p + ".tau", b.tau);
  write_fields(r, p + ".z", b.z);
  write_fields(r, p + ".w", b.w);
}
inline absl::Status read_fields(const nutshell::checkpoint::Record& r, const std::string& p,
                                Blocks& b) {
  using nutshell::checkpoint::read_fields;
  if (auto s = read_fields(r, p + ".tau", b.tau); !s.ok()) return s;
  if (auto s = read_fields(r, p + ".z", b.z); !s.ok()) return s;
  return read_fields(r, p + ".w", b.w);
}
}  // namespace user

namespace nutshell {
namespace {

using checkpoint::ChainCheckpoint;
using checkpoint::Record;
using testing::Gaussian;

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(Checkpoint, DoublesRoundTripBitForBit) {
  const double special[] = {0.0,
                            -0.0,
                            M_PI,
                            -1.0 / 3.0,
                            std::numeric_limits<double>::denorm_min(),
                            -std::numeric_limits<double>::min(),
                            std::numeric_limits<double>::max(),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            1e-300 * 1.2345678901234567,
                            0.1};
  Vec v = Vec::from_shape({std::size(special)});
  for (std::size_t i = 0; i < v.size(); ++i) v(i) = special[i];
  Mat m = {{1.5, -2.25}, {std::nextafter(1.0, 2.0), 7.0}};
  Record r;
  r.set("v", v);
  r.set("m", m);
  r.set("x", -0.0);
  r.set_u64("big", std::numeric_limits<std::uint64_t>::max());
  r.set_i64s("ints", {-5, 0, std::numeric_limits<std::int64_t>::min()});
  r.set_string("s", "hello");
  auto back = Record::parse(r.serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  auto v2 = back->get_vec("v");
  ASSERT_TRUE(v2.ok());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_TRUE(same_bits(v(i), (*v2)(i))) << i;
  auto m2 = back->get_mat("m");
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->shape(), m.shape());
  for (std::size_t i = 0; i < m.size(); ++i) EXPECT_TRUE(same_bits(m.data()[i], m2->data()[i]));
  EXPECT_TRUE(same_bits(*back->get_double("x"), -0.0));
  EXPECT_EQ(*back->get_u64("big"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(back->get_i64s("ints")->at(2), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(*back->get_string("s"), "hello");
  EXPECT_TRUE(std::isnan(*Record::parse([] {
                            Record n;
                            n.set("nan", std::numeric_limits<double>::quiet_NaN());
                            return n.serialize();
                          }())->get_double("nan")));
  // Wrong type or missing field: clear errors.
  EXPECT_NE(back->get_u64("s").status().message().find("has type str, expected u64"),
            std::string::npos);
  EXPECT_NE(back->get_vec("nope").status().message().find("no field 'nope'"), std::string::npos);
}

TEST(Checkpoint, MetricsRoundTrip) {
  for (Metric m : {Metric::identity(3), *Metric::diagonal(Vec{0.5, 2.0, 3.0}),
                   *Metric::dense(Mat{{2.0, 0.3, 0.0}, {0.3, 1.0, 0.1}, {0.0, 0.1, 0.7}})}) {
    Record r;
    checkpoint::write_fields(r, "metric", m);
    auto back = Record::parse(r.serialize());
    ASSERT_TRUE(back.ok());
    Metric m2;
    ASSERT_TRUE(checkpoint::read_fields(*back, "metric", m2).ok());
    EXPECT_EQ(m2.kind(), m.kind());
    EXPECT_EQ(m2.dim(), 3u);
    EXPECT_TRUE(m2.inverse_mass_diagonal() == m.inverse_mass_diagonal());
    EXPECT_TRUE(m2.cholesky() == m.cholesky());
  }
}

ChainCheckpoint<GradientState, nuts::Params> a_nuts_checkpoint() {
  ChainCheckpoint<GradientState, nuts::Params> c;
  c.chain = 3;
  c.key = split_one(make_key(5), 3);
  c.next_step = 1234;
  c.state = GradientState{Vec{0.1, -2.5}, -3.75, Vec{1e-3, 4.0}};
  c.params = nuts::Params{0.3141, *Metric::diagonal(Vec{1.5, 0.25}), 0.1};
  return c;
}

TEST(Checkpoint, ChainCheckpointRoundTripsThroughAFile) {
  const auto c = a_nuts_checkpoint();
  const std::string path = temp_path("chain.ckpt");
  ASSERT_TRUE(checkpoint::save(path, c).ok());
  auto back = checkpoint::load<GradientState, nuts::Params>(path, 2);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->chain, 3u);
  EXPECT_EQ(back->key, c.key);
  EXPECT_EQ(back->next_step, 1234u);
  EXPECT_TRUE(back->state.position == c.state.position);
  EXPECT_EQ(back->state.logdensity, c.state.logdensity);
  EXPECT_TRUE(back->state.logdensity_grad == c.state.logdensity_grad);
  EXPECT_EQ(back->params.step_size, 0.3141);
  EXPECT_EQ(back->params.step_size_jitter, 0.1);
  EXPECT_TRUE(back->params.inverse_mass_matrix.inverse_mass_diagonal() ==
              c.params.inverse_mass_matrix.inverse_mass_diagonal());
  const std::string text = read_text(path);
  EXPECT_EQ(text.rfind("nutshell-checkpoint 1\n", 0), 0u) << text;
  EXPECT_NE(text.find("params.step_size f64 1 0x"), std::string::npos) << text;
}

TEST(Checkpoint, CorruptOrMismatchedFilesAreRefusedWithClearErrors) {
  const std::string path = temp_path("bad.ckpt");
  ASSERT_TRUE(checkpoint::save(path, a_nuts_checkpoint()).ok());
  const std::string good = read_text(path);
  auto load = [&](const std::string& text) {
    write_text(path, text);
    return checkpoint::load<GradientState, nuts::Params>(path).status();
  };
  auto expect = [](const absl::Status& s, absl::StatusCode code, const std::string& words) {
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_NE(s.message().find(words), std::string::npos) << s;
  };
  // One flipped digit: the checksum catches it.
  std::string edited = good;
  edited[edited.find("next_step u64 1 1234") + 16] = '9';
  expect(load(edited), absl::StatusCode::kDataLoss, "checksum");
  // Truncated (half the file).
  expect(load(good.substr(0, good.size() / 2)), absl::StatusCode::kDataLoss, "truncated");
  // Not a checkpoint at all; a newer version.
  expect(load("hello world\n"), absl::StatusCode::kInvalidArgument, "not a nutshell checkpoint");
  std::string v2 = good;
  v2.replace(0, std::strlen("nutshell-checkpoint 1"), "nutshell-checkpoint 2");
  expect(load(v2), absl::StatusCode::kFailedPrecondition, "version 2");
  // The error names the file.
  expect(load("hello\n"), absl::StatusCode::kInvalidArgument, path);
  // Missing file.
  expect(checkpoint::load<GradientState, nuts::Params>(temp_path("absent.ckpt")).status(),
         absl::StatusCode::kNotFound, "cannot open");
  // Wrong model dimension.
  write_text(path, good);
  expect(checkpoint::load<GradientState, nuts::Params>(path, 5).status(),
         absl::StatusCode::kInvalidArgument, "dimension 2, but this model has dimension 5");
  // Written for another kernel: an hmc checkpoint has a field nuts does not
  // use, and lacks nothing; a nuts checkpoint lacks hmc's num_integration_steps.
  ChainCheckpoint<GradientState, hmc::Params> h;
  h.state = a_nuts_checkpoint().state;
  h.params = hmc::Params{0.1, Metric::identity(2), 7};
  ASSERT_TRUE(checkpoint::save(path, h).ok());
  expect(checkpoint::load<GradientState, nuts::Params>(path).status(),
         absl::StatusCode::kInvalidArgument, "num_integration_steps");
  write_text(path, good);
  expect(checkpoint::load<GradientState, hmc::Params>(path).status(),
         absl::StatusCode::kInvalidArgument, "no field 'params.num_integration_steps'");
}

// The resume test: sample 2N draws in one go, or N draws, save every
// chain to a file, load and continue N: the continued draws are bitwise the
// uninterrupted ones.
TEST(Checkpoint, ResumingFromFilesIsBitwiseIdenticalToAnUninterruptedRun) {
  SampleOptions o;
  o.num_chains = 3;
  o.num_warmup = 150;
  o.num_samples = 200;
  o.progress_bar = false;
  auto whole = sample(make_key(21), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  ASSERT_TRUE(whole.ok());
  o.num_samples = 100;
  auto first = sample(make_key(21), Gaussian::scales_10d(), Vec(xt::zeros<double>({10})), o);
  ASSERT_TRUE(first.ok());
  std::vector<ChainCheckpoint<GradientState, nuts::Params>> loaded;
  for (std::size_t c = 0; c < 3; ++c) {
    const std::string path = temp_path("chain" + std::to_string(c) + ".ckpt");
    ASSERT_TRUE(checkpoint::save(path, first->checkpoints[c]).ok());
    auto back = checkpoint::load<GradientState, nuts::Params>(path, 10);
    ASSERT_TRUE(back.ok()) << back.status();
    loaded.push_back(*std::move(back));
  }
  auto rest = resume(loaded, nuts::Kernel{}, Gaussian::scales_10d(), o);
  ASSERT_TRUE(rest.ok()) << rest.status();
  std::size_t compared = 0;
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < 100; ++i)
      for (std::size_t j = 0; j < 10; ++j, ++compared) {
        ASSERT_EQ(first->positions(c, i, j), whole->positions(c, i, j));
        ASSERT_EQ(rest->positions(c, i, j), whole->positions(c, 100 + i, j))
            << "chain " << c << " draw " << i;
      }
  EXPECT_EQ(compared, 3000u);
  EXPECT_EQ(rest->checkpoints[0].next_step, 200u);
}

TEST(Checkpoint, MixedStatesWithUserBlocksResumeBitwise) {
  // x | blocks ~ N(tau + mean(w), 1); the Gibbs blocks move deterministically
  // from the key, which is all this test needs.
  auto f = [](const Vec& x, Vec& g, const user::Blocks& b) {
    const double c = b.tau + (b.w.size() ? b.w(0) : 0.0);
    g(0) = -(x(0) - c);
    return -0.5 * (x(0) - c) * (x(0) - c);
  };
  auto step_blocks = [](const Key& k, const Vec& x, const user::Blocks& b) {
    user::Blocks n = b;
    n.tau = static_cast<int>(uniform(k) * 3);
    n.z = {n.tau, -n.tau};
    n.w = Vec{0.5 * x(0)};
    return n;
  };
  auto kernel = mixed::build_kernel<user::Blocks>(hmc::build_kernel(), mixed::gibbs(step_blocks));
  auto alg = mixed::sampler(kernel, f, hmc::Params{0.4, Metric::identity(1), 3});
  auto s0 = alg.init(Vec{0.0}, user::Blocks{1, {1, -1}, Vec{0.0}});
  ASSERT_TRUE(s0.ok());
  auto whole = run_chain(make_key(22), alg, *s0, 120);
  auto first = run_chain(make_key(22), alg, *s0, 60);
  ASSERT_TRUE(whole.ok() && first.ok());
  using S = decltype(alg)::State;
  ChainCheckpoint<S, hmc::Params> c{0, make_key(22), first->next_step, first->final_state,
                                    alg.params()};
  const std::string path = temp_path("mixed.ckpt");
  ASSERT_TRUE(checkpoint::save(path, c).ok());
  EXPECT_NE(read_text(path).find("state.others.z i64 2"), std::string::npos) << read_text(path);
  auto back = checkpoint::load<S, hmc::Params>(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->state.others.z, first->final_state.others.z);
  auto alg2 = mixed::sampler(kernel, f, back->params);
  auto rest = run_chain(back->key, alg2, back->state, 60, ChainOptions{.first_step = back->next_step});
  ASSERT_TRUE(rest.ok());
  for (std::size_t i = 0; i < 60; ++i) ASSERT_EQ(rest->positions(i, 0), whole->positions(60 + i, 0));
  EXPECT_EQ(rest->final_state.others.tau, whole->final_state.others.tau);
}

}  // namespace
}  // namespace nutshell

namespace nutshell {
namespace {

TEST(CheckpointSave, AMissingFolderIsNotFoundAndAFailedSaveLeavesNoTemporary) {
  const std::string dir = temp_path("no_such_folder");
  const std::string path = dir + "/chain.ckpt";
  auto s = checkpoint::save(path, a_nuts_checkpoint());
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());
  // A save whose final rename fails (the target is a folder) removes its
  // temporary file.
  const std::string target = temp_path("a_folder.ckpt");
  ASSERT_EQ(std::system(("mkdir -p '" + target + "'").c_str()), 0);
  auto t = checkpoint::save(target, a_nuts_checkpoint());
  EXPECT_FALSE(t.ok());
  EXPECT_FALSE(std::ifstream(target + ".tmp").good()) << t;
}

}  // namespace
}  // namespace nutshell

namespace nutshell {
namespace {

// What libFuzzer found (tests/run/fuzz): each used to throw out of parse or
// load (a crash) instead of returning an error.
std::string with_checksum(std::string body) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char line[64];
  std::snprintf(line, sizeof line, "checksum %016llx\n", static_cast<unsigned long long>(h));
  return body + line;
}

TEST(CheckpointFuzzFindings, ControlCharactersInNamesOrValuesAreDataErrors) {
  auto a = checkpoint::Record::parse(with_checksum("nutshell-checkpoint 1\n\f\x01nd str chain\n"));
  EXPECT_FALSE(a.ok());
  auto b = checkpoint::Record::parse(with_checksum("nutshell-checkpoint 1\nkind str ch\tain\n"));
  EXPECT_FALSE(b.ok());
}

TEST(CheckpointFuzzFindings, AMatrixWhoseSizeOverflowsIsADataError) {
  // 2^33 x 2^31 wraps to 0 values.
  auto r = checkpoint::Record::parse(
      with_checksum("nutshell-checkpoint 1\nm mat 8589934592 2147483648\n"));
  EXPECT_FALSE(r.ok());
}

// A checkpoint written before nuts::Params had step_size_jitter loads
// unjittered (the field is optional on reading).
TEST(Checkpoint, ParamsWithoutTheJitterFieldLoadUnjittered) {
  const auto c = a_nuts_checkpoint();
  const std::string path = temp_path("chain_jitter.ckpt");
  ASSERT_TRUE(checkpoint::save(path, c).ok());
  std::string text = read_text(path);
  const auto at = text.find("params.step_size_jitter");
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, text.find('\n', at) + 1 - at);
  text.erase(text.rfind("checksum "));  // the last line: recomputed below
  write_text(path, with_checksum(text));
  auto back = checkpoint::load<GradientState, nuts::Params>(path, 2);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->params.step_size_jitter, 0.0);
  EXPECT_EQ(back->params.step_size, 0.3141);
}

}  // namespace
}  // namespace nutshell
