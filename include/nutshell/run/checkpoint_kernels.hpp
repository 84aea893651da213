// Checkpoint fields of the kernels whose state or parameters carry more
// than checkpoint.hpp's generic forms save: dynamic_hmc (ChEES's kernel:
// the jitter index in its state, a fractional trajectory length, the
// jitter settings) and ghmc (MEADS's kernel: the persistent momentum and
// slice variable, the refresh and slice parameters). Without them a
// chain of these kernels would resume from a checkpoint file (or travel
// between MPI ranks, distributed/chain_piece.hpp) with part of its state
// lost, and continue differently from an unbroken run.
//
// Found by argument-dependent lookup (through checkpoint::Record) and
// preferred over the generic templates as exact, non-template matches.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/mcmc/dynamic_hmc.hpp"
#include "nutshell/mcmc/ghmc.hpp"
#include "nutshell/run/checkpoint.hpp"

namespace nutshell::checkpoint {

namespace detail {
inline absl::Status read_double(const Record& r, const std::string& name, double& v) {
  auto x = r.get_double(name);
  if (!x.ok()) return x.status();
  v = *x;
  return absl::OkStatus();
}
inline absl::Status read_u64(const Record& r, const std::string& name, std::uint64_t& v) {
  auto x = r.get_u64(name);
  if (!x.ok()) return x.status();
  v = *x;
  return absl::OkStatus();
}
}  // namespace detail

inline void write_fields(Record& r, const std::string& prefix, const dynamic_hmc::State& s) {
  write_fields(r, prefix, static_cast<const GradientState&>(s));
  r.set_u64(prefix + ".random_generator_arg", s.random_generator_arg);
}
inline absl::Status read_fields(const Record& r, const std::string& prefix, dynamic_hmc::State& s) {
  if (auto st = read_fields(r, prefix, static_cast<GradientState&>(s)); !st.ok()) return st;
  return detail::read_u64(r, prefix + ".random_generator_arg", s.random_generator_arg);
}

inline void write_fields(Record& r, const std::string& prefix, const dynamic_hmc::Params& p) {
  r.set(prefix + ".step_size", p.step_size);
  write_fields(r, prefix + ".inverse_mass_matrix", p.inverse_mass_matrix);
  r.set(prefix + ".num_integration_steps", p.num_integration_steps);
  r.set(prefix + ".jitter_amount", p.jitter_amount);
  r.set_u64(prefix + ".jitter", static_cast<std::uint64_t>(p.jitter));
  write_fields(r, prefix + ".jitter_key", p.jitter_key);
}
inline absl::Status read_fields(const Record& r, const std::string& prefix, dynamic_hmc::Params& p) {
  if (auto s = detail::read_double(r, prefix + ".step_size", p.step_size); !s.ok()) return s;
  if (auto s = read_fields(r, prefix + ".inverse_mass_matrix", p.inverse_mass_matrix); !s.ok()) return s;
  if (auto s = detail::read_double(r, prefix + ".num_integration_steps", p.num_integration_steps); !s.ok())
    return s;
  if (auto s = detail::read_double(r, prefix + ".jitter_amount", p.jitter_amount); !s.ok()) return s;
  std::uint64_t jitter = 0;
  if (auto s = detail::read_u64(r, prefix + ".jitter", jitter); !s.ok()) return s;
  if (jitter > static_cast<std::uint64_t>(dynamic_hmc::Jitter::kUniform))
    return absl::InvalidArgumentError(absl::StrCat("checkpoint field '", prefix, ".jitter' is not a jitter kind"));
  p.jitter = static_cast<dynamic_hmc::Jitter>(jitter);
  return read_fields(r, prefix + ".jitter_key", p.jitter_key);
}

inline void write_fields(Record& r, const std::string& prefix, const ghmc::State& s) {
  r.set(prefix + ".position", s.position);
  r.set(prefix + ".momentum", s.momentum);
  r.set(prefix + ".logdensity", s.logdensity);
  r.set(prefix + ".logdensity_grad", s.logdensity_grad);
  r.set(prefix + ".slice", s.slice);
}
inline absl::Status read_fields(const Record& r, const std::string& prefix, ghmc::State& s) {
  ghmc::State out;
  for (auto [name, v] : {std::pair{".position", &out.position}, std::pair{".momentum", &out.momentum},
                         std::pair{".logdensity_grad", &out.logdensity_grad}}) {
    auto x = r.get_vec(prefix + name);
    if (!x.ok()) return x.status();
    *v = *std::move(x);
  }
  if (out.momentum.size() != out.position.size() || out.logdensity_grad.size() != out.position.size())
    return absl::InvalidArgumentError(absl::StrCat("checkpoint '", prefix,
                                                   "': momentum, gradient and position differ in size"));
  if (auto st = detail::read_double(r, prefix + ".logdensity", out.logdensity); !st.ok()) return st;
  if (auto st = detail::read_double(r, prefix + ".slice", out.slice); !st.ok()) return st;
  s = std::move(out);
  return absl::OkStatus();
}

inline void write_fields(Record& r, const std::string& prefix, const ghmc::Params& p) {
  r.set(prefix + ".step_size", p.step_size);
  write_fields(r, prefix + ".inverse_mass_matrix", p.inverse_mass_matrix);
  r.set(prefix + ".alpha", p.alpha);
  r.set(prefix + ".delta", p.delta);
}
inline absl::Status read_fields(const Record& r, const std::string& prefix, ghmc::Params& p) {
  if (auto s = detail::read_double(r, prefix + ".step_size", p.step_size); !s.ok()) return s;
  if (auto s = read_fields(r, prefix + ".inverse_mass_matrix", p.inverse_mass_matrix); !s.ok()) return s;
  if (auto s = detail::read_double(r, prefix + ".alpha", p.alpha); !s.ok()) return s;
  return detail::read_double(r, prefix + ".delta", p.delta);
}

}  // namespace nutshell::checkpoint
