// The formats write_run adds after Stan CSV (netCDF, report), kept apart so
// each can be added as it is written.
#pragma once

#include <string>

#include "nutshell/io/run_data.hpp"

inline int write_run_extra(const nutshell::io::RunData&, const std::string&) { return 0; }
