#!/usr/bin/env bash
# Runs an example with small settings and checks it reports sane output:
# exit status 0 and the line "check: ok" (each example checks its own
# results against known answers when given --check).
set -uo pipefail
binary=$1
shift
# "@TMP@" in an argument stands for the test's scratch directory.
args=()
for a in "$@"; do args+=("${a//@TMP@/${TEST_TMPDIR:-/tmp}}"); done
out=$("$binary" "${args[@]}" --check 2>&1)
rc=$?
echo "$out"
if [[ $rc -ne 0 ]]; then
  echo "FAIL: $binary exited with status $rc" >&2
  exit 1
fi
if ! grep -q "^check: ok$" <<<"$out"; then
  echo "FAIL: $binary did not print 'check: ok'" >&2
  exit 1
fi
echo "PASS"
