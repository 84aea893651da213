#!/usr/bin/env bash
# Test wrapper: the sources are in the runfiles tree.
set -euo pipefail
root="${TEST_SRCDIR}/${TEST_WORKSPACE:-nutshell}"
exec "$root/tests/run/fuzz/build_and_run.sh" 15 "$root"
