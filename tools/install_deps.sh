#!/usr/bin/env bash
# Installs whatever nutshell needs that this Debian 12 machine is missing.
# Safe to run repeatedly: it only calls apt-get when a package is absent.
set -euo pipefail

packages=(
  g++ bazel-bootstrap bazel-bootstrap-source
  libxtensor-dev libxtensor-blas-dev libxsimd-dev libopenblas-dev
  libabsl-dev libgtest-dev libbenchmark-dev librandom123-dev nlohmann-json3-dev
  liblbfgs-dev
  clang libclang-rt-14-dev
  libnetcdf-dev libnetcdf-c++4-dev python3-netcdf4 python3-xarray
  r-cran-rstan r-cran-posterior chromium
  openmpi-bin libopenmpi-dev
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
