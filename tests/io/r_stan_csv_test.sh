#!/usr/bin/env bash
# rstan reads nutshell's Stan CSV, and posterior's summary of it equals
# nutshell's. Without R this test FAILS: `bash tools/install_deps.sh`
# installs r-cran-rstan and r-cran-posterior.
set -euo pipefail
write_run="$1"
check="$2"
summarize="$3"
if ! command -v Rscript >/dev/null 2>&1; then
  echo "FAIL: Rscript not found; run 'bash tools/install_deps.sh' (r-cran-rstan, r-cran-posterior)" >&2
  exit 1
fi
if ! Rscript -e 'suppressPackageStartupMessages({library(rstan); library(posterior)})' >/dev/null 2>&1; then
  echo "FAIL: R packages rstan/posterior missing; run 'bash tools/install_deps.sh'" >&2
  exit 1
fi
out="${TEST_TMPDIR:-$(mktemp -d)}/r_check"
rm -rf "$out" && mkdir -p "$out"
"$write_run" "$out"
Rscript "$check" "$out"

# CmdStan's own output files, as rstan ships them: nutshell's reader and
# summary agree with rstan + posterior on them too.
testdata=$(Rscript -e 'cat(system.file("unitTests", "testdata", package = "rstan"))')
cmdstan=("$testdata/blocker1.csv" "$testdata/blocker2.csv")
for f in "${cmdstan[@]}"; do
  [[ -f "$f" ]] || { echo "FAIL: CmdStan file $f missing from the rstan package" >&2; exit 1; }
done
out2="$out/cmdstan"
mkdir -p "$out2"
"$summarize" "$out2" "${cmdstan[@]}"
Rscript "$check" "$out2" "${cmdstan[@]}"
