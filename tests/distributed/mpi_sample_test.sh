#!/usr/bin/env bash
# distributed::sample under mpirun on localhost, 1, 2 and 3 ranks (issue 14):
# bitwise equality with a single-process sample, a chain failing on rank 1,
# and a restart from per-chain checkpoints after rank 1 is killed (killed
# with 2 ranks, resumed with 3: the files do not care which rank continues).
#
# Open MPI in a test sandbox: HOME must be writable (Open MPI writes its
# session directory under TMPDIR and reads ~/.openmpi), everything runs on
# localhost so no ssh launcher is needed (plm isolated), oversubscription is
# allowed (3 ranks on 2 cores), root is allowed (CI containers run as root),
# and the single-copy shared-memory path is off (it needs ptrace rights
# containers often lack).
set -euo pipefail
bin="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-nutshell}/tests/distributed/mpi_sample_main"
[[ -x "$bin" ]] || bin="$(dirname "$0")/mpi_sample_main"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export HOME="$tmp" TMPDIR="$tmp"
export OMPI_MCA_plm=isolated OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under --config=asan: Open MPI leaks at MPI_Finalize (its components are
# dlclosed by then, so the frames cannot be suppressed by library name);
# leak checking of our own code is local_sample_test's (same code but the
# transport). Address and UB checks stay on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpirun=(mpirun --oversubscribe --allow-run-as-root --bind-to none)

for np in 1 2 3; do
  "${mpirun[@]}" -np "$np" "$bin" check
done

dir="$tmp/checkpoints"
rm -rf "$dir" && mkdir -p "$dir"
if "${mpirun[@]}" -np 2 "$bin" kill "$dir" >"$tmp/kill.log" 2>&1; then
  echo "FAILED: the run whose rank 1 was killed exited 0" >&2
  exit 1
fi
grep -q "signal 9" "$tmp/kill.log" || { echo "FAILED: rank 1 was not killed:" >&2; cat "$tmp/kill.log" >&2; exit 1; }
ls "$dir"/chain-*.piece >/dev/null || { echo "FAILED: no checkpoint files" >&2; exit 1; }
"${mpirun[@]}" -np 3 "$bin" resume "$dir"
echo "mpi_sample_test: all passed"
