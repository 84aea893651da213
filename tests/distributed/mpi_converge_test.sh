#!/usr/bin/env bash
# distributed::sample_until_converged under mpirun on localhost, 1, 2 and 3
# ranks: on a Gaussian and on eight_schools_nc the stop point (and the
# draws) equal the single-process run's, so they are identical across rank
# counts. Open MPI's environment for a sandbox: see mpi_sample_test.sh.
set -euo pipefail
bin="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-nutshell}/tests/distributed/mpi_converge_main"
[[ -x "$bin" ]] || bin="$(dirname "$0")/mpi_converge_main"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export HOME="$tmp" TMPDIR="$tmp"
export OMPI_MCA_plm=isolated OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
for np in 1 2 3; do
  mpirun --oversubscribe --allow-run-as-root --bind-to none -np "$np" "$bin"
done
echo "mpi_converge_test: all passed"
