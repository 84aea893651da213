// Command-line flags shared by the examples: "--name value" pairs and bare
// "--name" switches, so CI can run every example with small settings.
#pragma once

#include <cstdlib>
#include <string>

namespace examples {

/// The integer after `name` on the command line, or `fallback`.
inline long int_flag(int argc, char** argv, const std::string& name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (name == argv[i]) return std::strtol(argv[i + 1], nullptr, 10);
  return fallback;
}

/// True when the switch `name` is on the command line.
inline bool has_flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (name == argv[i]) return true;
  return false;
}

}  // namespace examples

namespace examples {

/// The string after `name` on the command line, or `fallback`.
inline std::string string_flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (name == argv[i]) return argv[i + 1];
  return fallback;
}

}  // namespace examples
