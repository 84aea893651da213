#!/usr/bin/env bash
# The driver of the MPI tests: runs one test program (tests/distributed/
# mpi_*_main) under mpirun on localhost with 1, 2 and 3 ranks.
#   mpi_test.sh PROGRAM [ARG]          PROGRAM ARG on 1, 2 and 3 ranks
#   mpi_test.sh PROGRAM check --kill-resume [--drop FILE]
#       then a checkpointed run killed on rank 1 (2 ranks; it must fail with
#       signal 9 and leave checkpoint files), optionally FILE deleted from
#       the checkpoints (that chain starts afresh), then resumed on 3 ranks
#       (the files do not care which rank continues); PROGRAM checks that
#       the resumed run is bitwise the unbroken one.
#
# Open MPI in a test sandbox: HOME must be writable (Open MPI writes its
# session directory under TMPDIR and reads ~/.openmpi), everything runs on
# localhost so no ssh launcher is needed (plm isolated), oversubscription is
# allowed (3 ranks on 2 cores), root is allowed (CI containers run as root),
# and the single-copy shared-memory path is off (it needs ptrace rights
# containers often lack).
set -euo pipefail
program=$1
shift
args=()
kill_resume=0
drop=""
while (($#)); do
  case $1 in
    --kill-resume) kill_resume=1 ;;
    --drop) drop=$2; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done

bin="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-nutshell}/tests/distributed/$program"
[[ -x "$bin" ]] || bin="$(dirname "$0")/$program"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export HOME="$tmp" TMPDIR="$tmp"
export OMPI_MCA_plm=isolated OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under --config=asan: Open MPI leaks at MPI_Finalize (its components are
# dlclosed by then, so the frames cannot be suppressed by library name);
# leak checking of our own code is local_sample_test's and
# local_cross_chain_test's (same code but the transport). Address and UB
# checks stay on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpirun=(mpirun --oversubscribe --allow-run-as-root --bind-to none)

for np in 1 2 3; do
  "${mpirun[@]}" -np "$np" "$bin" ${args[@]+"${args[@]}"}
done

if ((kill_resume)); then
  dir="$tmp/checkpoints"
  rm -rf "$dir" && mkdir -p "$dir"
  if "${mpirun[@]}" -np 2 "$bin" kill "$dir" >"$tmp/kill.log" 2>&1; then
    echo "FAILED: the run whose rank 1 was killed exited 0" >&2
    exit 1
  fi
  grep -q "signal 9" "$tmp/kill.log" || { echo "FAILED: rank 1 was not killed:" >&2; cat "$tmp/kill.log" >&2; exit 1; }
  ls "$dir"/chain-*.piece >/dev/null || { echo "FAILED: no checkpoint files" >&2; exit 1; }
  [[ -z $drop ]] || rm -f "$dir/$drop"
  "${mpirun[@]}" -np 3 "$bin" resume "$dir"
fi
echo "$program: all passed"
