// ArviZ InferenceData as one netCDF4 file (the layout arviz.from_netcdf and
// xarray.open_dataset(path, group=...) read): groups `posterior`,
// `sample_stats` and, when the run kept them, `warmup_posterior` and
// `warmup_sample_stats`. Each group has dimensions chain and draw (with
// integer coordinate variables) and, per vector or matrix parameter,
// dimensions `<name>_dim_0`, `<name>_dim_1`, ... (ArviZ's default names)
// with their coordinates. `diverging` is stored as int8 with the
// attribute dtype = "bool", which xarray decodes to a boolean, as ArviZ
// writes it; tree_depth and n_steps are int64, everything else double.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "nutshell/io/run_data.hpp"

namespace nutshell::io {

/// The version written as creation_library_version.
inline constexpr const char* kNutshellVersion = "0.1.0";

/// Writes `run` to `path` as netCDF4, atomically (written as `path.tmp`,
/// renamed when complete; nothing is left on error). Root attributes:
/// created_at (UTC, ISO 8601), creation_library = nutshell,
/// creation_library_version, inference_library (run.inference_library).
absl::Status write_netcdf(const RunData& run, const std::string& path);

}  // namespace nutshell::io
