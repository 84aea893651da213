"""Opens nutshell's netCDF with xarray, group by group, as arviz.from_netcdf
does, and checks every dimension, name and value against expected.json.

    /usr/bin/python3 netcdf_check.py run.nc expected.json
"""
import json
import sys

import netCDF4
import numpy as np
import xarray as xr

path, expected_path = sys.argv[1], sys.argv[2]
with open(expected_path) as f:
    expected = json.load(f)

root = netCDF4.Dataset(path)
assert set(root.groups) == set(expected["groups"]), (set(root.groups), set(expected["groups"]))
for attr in ("created_at", "creation_library", "creation_library_version", "inference_library"):
    assert attr in root.ncattrs(), attr
assert root.creation_library == "nutshell"
assert root.inference_library == expected["inference_library"]
root.close()

checked = 0
for group, variables in expected["groups"].items():
    ds = xr.open_dataset(path, group=group)
    assert set(ds.data_vars) == set(variables), (group, set(ds.data_vars), set(variables))
    for name in ("chain", "draw"):
        assert name in ds.coords, (group, name)
    for name, want in variables.items():
        da = ds[name]
        assert list(da.dims) == want["dims"], (group, name, da.dims, want["dims"])
        assert list(da.shape) == want["shape"], (group, name, da.shape, want["shape"])
        for dim, size in zip(da.dims, da.shape):
            np.testing.assert_array_equal(ds.coords[dim].values, np.arange(size))
        values = np.asarray(want["values"], dtype=float).reshape(want["shape"])
        if name == "diverging":
            assert da.dtype == bool, (group, name, da.dtype)
        np.testing.assert_array_equal(da.values.astype(float), values, err_msg=f"{group}/{name}")
        checked += 1
    ds.close()
print(f"netCDF: {len(expected['groups'])} groups, {checked} variables equal what was written")
print("OK")
