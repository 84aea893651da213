#!/usr/bin/env bash
# xarray opens every group of nutshell's netCDF and finds what was written.
# Uses Debian's python (python3-netcdf4, python3-xarray); fails without them.
set -euo pipefail
write_run="$1"
check="$2"
py=/usr/bin/python3
if ! "$py" -c 'import netCDF4, xarray' >/dev/null 2>&1; then
  echo "FAIL: $py lacks netCDF4/xarray; run 'bash tools/install_deps.sh' (python3-netcdf4, python3-xarray)" >&2
  exit 1
fi
out="${TEST_TMPDIR:-$(mktemp -d)}/netcdf_check"
rm -rf "$out" && mkdir -p "$out"
"$write_run" "$out"
"$py" "$check" "$out/run.nc" "$out/expected.json"
