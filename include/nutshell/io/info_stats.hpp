// Which ArviZ sample stats a kernel's Info carries, found by member
// detection, so any kernel (and any Info that grows new fields) maps to
// the stat columns that apply to it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace nutshell::io {

/// The ArviZ stats a kernel's Info and State provide, in CmdStan's column
/// order: lp (State::logdensity), acceptance_rate, step_size (an Info
/// member, if the kernel reports it), tree_depth (num_trajectory_expansions
/// or tree_depth), n_steps (num_integration_steps), diverging
/// (is_divergent), energy, energy_error.
template <class State, class Info>
std::vector<std::string> info_stat_names() {
  std::vector<std::string> n;
  if constexpr (requires(const State& s) { double(s.logdensity); }) n.push_back("lp");
  if constexpr (requires(const Info& i) { double(i.acceptance_rate); }) n.push_back("acceptance_rate");
  if constexpr (requires(const Info& i) { double(i.step_size); }) n.push_back("step_size");
  if constexpr (requires(const Info& i) { double(i.num_trajectory_expansions); }) n.push_back("tree_depth");
  else if constexpr (requires(const Info& i) { double(i.tree_depth); }) n.push_back("tree_depth");
  if constexpr (requires(const Info& i) { double(i.num_integration_steps); }) n.push_back("n_steps");
  if constexpr (requires(const Info& i) { bool(i.is_divergent); }) n.push_back("diverging");
  if constexpr (requires(const Info& i) { double(i.energy); }) n.push_back("energy");
  if constexpr (requires(const Info& i) { double(i.energy_error); }) n.push_back("energy_error");
  return n;
}

/// Writes the values of info_stat_names<State, Info>() into `out`, in the
/// same order (lp from `logdensity`, which the caller passes because
/// some drivers keep it apart from the state).
template <class State, class Info>
void info_stat_values(const State& state, const Info& info, double* out) {
  std::size_t k = 0;
  if constexpr (requires(const State& s) { double(s.logdensity); }) out[k++] = state.logdensity;
  if constexpr (requires(const Info& i) { double(i.acceptance_rate); }) out[k++] = info.acceptance_rate;
  if constexpr (requires(const Info& i) { double(i.step_size); }) out[k++] = info.step_size;
  if constexpr (requires(const Info& i) { double(i.num_trajectory_expansions); })
    out[k++] = static_cast<double>(info.num_trajectory_expansions);
  else if constexpr (requires(const Info& i) { double(i.tree_depth); })
    out[k++] = static_cast<double>(info.tree_depth);
  if constexpr (requires(const Info& i) { double(i.num_integration_steps); })
    out[k++] = static_cast<double>(info.num_integration_steps);
  if constexpr (requires(const Info& i) { bool(i.is_divergent); }) out[k++] = info.is_divergent ? 1.0 : 0.0;
  if constexpr (requires(const Info& i) { double(i.energy); }) out[k++] = info.energy;
  if constexpr (requires(const Info& i) { double(i.energy_error); }) out[k++] = info.energy_error;
  (void)state;
  (void)info;
  (void)out;
}

/// The engine name a kernel's Info suggests: "nuts" when it reports
/// trajectory doublings, "static" (Stan's fixed-length HMC) when it
/// reports integration steps only, otherwise "".
template <class Info>
std::string guess_engine() {
  if constexpr (requires(const Info& i) { i.num_trajectory_expansions; }) return "nuts";
  else if constexpr (requires(const Info& i) { i.num_integration_steps; }) return "static";
  else return "";
}

}  // namespace nutshell::io
