#!/usr/bin/env bash
# The lockstep warmups (ChEES, MEADS) over mpirun on localhost, 1, 2 and 3
# ranks: bitwise equality with a single process, folds across ranks, a
# failure on one rank ending the run on all, and a restart from per-chain
# checkpoints after rank 1 is killed (Open MPI settings: mpi_sample_test.sh).
set -euo pipefail
bin="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-nutshell}/tests/distributed/mpi_cross_chain_main"
[[ -x "$bin" ]] || bin="$(dirname "$0")/mpi_cross_chain_main"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export HOME="$tmp" TMPDIR="$tmp"
export OMPI_MCA_plm=isolated OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
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
# One chain starts afresh: the lockstep warmup must run again on every rank.
rm -f "$dir/chain-2.piece"
"${mpirun[@]}" -np 3 "$bin" resume "$dir"
echo "mpi_cross_chain_test: all passed"
