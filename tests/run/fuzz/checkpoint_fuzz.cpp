// libFuzzer target for the checkpoint reader: any bytes must give a Record
// or an error status, and a Record a checkpoint or an error status, never a
// crash, a leak, an out-of-bounds read or undefined behaviour. A text that
// parses must also survive a round trip (serialize, parse again).
//
// Built outside Bazel with clang (Bazel here uses gcc), see build_and_run.sh:
//   tests/run/fuzz/build_and_run.sh 25        # 25 s, as the test suite does
//   tests/run/fuzz/build_and_run.sh 3600      # longer runs by hand
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "nutshell/mcmc/hmc.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/checkpoint.hpp"

namespace {
// The checkpoint's checksum (FNV-1a of everything before its line), so
// that mutated bodies get past it and reach the field parsers: without
// this nearly every mutation would stop at "checksum mismatch".
std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string with_checksum(std::string body) {
  if (body.empty() || body.back() != '\n') body += '\n';
  char line[64];
  std::snprintf(line, sizeof line, "checksum %016llx\n",
                static_cast<unsigned long long>(fnv1a(body)));
  return body + line;
}

template <class State, class Params>
void load_as(const nutshell::checkpoint::Record& r) {
  auto c = nutshell::checkpoint::from_record<State, Params>(r);
  if (!c.ok()) return;
  // A loaded checkpoint is consistent: what resume relies on.
  if constexpr (requires { c->state.logdensity_grad; })
    if (c->state.logdensity_grad.size() != c->state.position.size()) std::abort();
  if constexpr (requires { c->params.inverse_mass_matrix; })
    if (c->params.inverse_mass_matrix.dim() != c->state.position.size()) std::abort();
  auto again = nutshell::checkpoint::from_record<State, Params>(
      *nutshell::checkpoint::Record::parse(nutshell::checkpoint::to_record(*c).serialize()));
  if (!again.ok()) std::abort();
}

void check(const std::string& text) {
  auto r = nutshell::checkpoint::Record::parse(text);
  if (!r.ok()) return;
  auto round = nutshell::checkpoint::Record::parse(r->serialize());
  if (!round.ok()) std::abort();  // what we write, we must read
  load_as<nutshell::GradientState, nutshell::nuts::Params>(*r);
  load_as<nutshell::GradientState, nutshell::hmc::Params>(*r);
}

// Seeds: real checkpoints (without their checksum line, which the target
// appends), written where NUTSHELL_FUZZ_SEED_DIR says.
void write_seeds(const char* dir) {
  nutshell::checkpoint::ChainCheckpoint<nutshell::GradientState, nutshell::nuts::Params> c;
  c.chain = 2;
  c.key = nutshell::make_key(7);
  c.next_step = 99;
  c.state = nutshell::GradientState{nutshell::Vec{0.5, -1.0, 2.0}, -3.25,
                                    nutshell::Vec{1.0, 0.0, -2.0}};
  c.params.step_size = 0.25;
  c.params.inverse_mass_matrix = *nutshell::Metric::diagonal(nutshell::Vec{1.0, 2.0, 0.5});
  auto body = [](const std::string& text) { return text.substr(0, text.rfind("checksum ")); };
  std::ofstream(std::string(dir) + "/diag") << body(nutshell::checkpoint::to_record(c).serialize());
  c.params.inverse_mass_matrix = *nutshell::Metric::dense(
      nutshell::Mat{{2.0, 0.5, 0.0}, {0.5, 1.0, 0.0}, {0.0, 0.0, 1.0}});
  std::ofstream(std::string(dir) + "/dense") << body(nutshell::checkpoint::to_record(c).serialize());
  c.params.inverse_mass_matrix = nutshell::Metric::identity(3);
  std::ofstream(std::string(dir) + "/identity")
      << body(nutshell::checkpoint::to_record(c).serialize());
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("NUTSHELL_FUZZ_SEED_DIR")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check(text);                 // as given (the checksum usually stops it)
  check(with_checksum(text));  // as a body with a valid checksum
  return 0;
}
