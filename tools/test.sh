#!/usr/bin/env bash
# Runs every test: the main workspace (unit, statistical and example tests)
# and the consumer workspace that uses nutshell as a Bazel dependency. Ends
# with one line "N passed, M failed" counting gtest cases and test targets.
# Extra arguments go to `bazel test` (e.g. --config=asan, --test_tag_filters=).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

status=0
# No `|| true` here: with pipefail a failing bazel would run it, and
# PIPESTATUS would then be true's, hiding bazel's exit code.
# Compile time is most of this command's time on 2 cores, so two flags
# trade run time the tests do not need for it (results are the same bits:
# no -ffast-math, no FMA contraction without -march):
# - the unit tests' own files at -O1 (each instantiates the kernel and driver
#   stack; -O1 compiles them ~25% faster and they still run in seconds).
#   The examples' files too: their tests run each for a few hundred draws.
#   The statistical tests (validation, sgmcmc), the posterior models they and
#   the benchmarks use (tests/posteriors) and lib/ keep -O2.
# - the benchmark programs are not built, except the two the smoke test runs
#   (end to end on eight_schools_nc, and the ESS tool), at -O0. Their timings
#   come from `bazel run --config=opt`, and building all of them here cost
#   ~9% of this command on 2 cores. `bazel build //benchmarks/...` (or the
#   --config=opt runs in benchmarks/README.md) builds the rest; a change to
#   an API they use is expected to build them, as the guide's "benchmarks
#   touched are re-run" asks.
# Both are here, not in .bazelrc, so `--config=opt` builds never see them.
fast_compile=(
  "--per_file_copt=^tests/.*,^examples/.*,-^tests/validation/.*,-^tests/sgmcmc/.*,-^tests/posteriors/.*@-O1"
  "--per_file_copt=^benchmarks/.*@-O0"
)
targets=(//... -//benchmarks/... //benchmarks:posteriors_smoke_test)
bazel test "${fast_compile[@]}" "$@" -- "${targets[@]}" 2>&1 | tee /tmp/nutshell_test_main.log | grep -E "^(//|Executed|INFO: Build|FAIL|ERROR)"
main_rc=${PIPESTATUS[0]}
[[ $main_rc -eq 0 ]] || status=1

(cd tests/consumer && bazel test //... 2>&1 | tee /tmp/nutshell_test_consumer.log | grep -E "^(//|Executed|FAIL|ERROR)") || true
consumer_rc=$(grep -q "FAILED\|ERROR" /tmp/nutshell_test_consumer.log && echo 1 || echo 0)
[[ $consumer_rc -eq 0 ]] || status=1
(cd tests/consumer && bazel shutdown >/dev/null 2>&1) || true

# Count gtest cases from the XML reports of the targets that ran; a target
# without cases (a shell test, a target that failed to build) counts as one.
passed=0
failed=0
count_logs() {
  local workspace=$1 log=$2
  while read -r target result; do
    local path=${target#//}
    path=${path/://}
    local xml="$workspace/bazel-testlogs/$path/test.xml"
    local cases=0 bad=0
    if [[ -f $xml ]]; then
      cases=$(grep -c "<testcase " "$xml" || true)
      bad=$(grep -c "<failure" "$xml" || true)
    fi
    if [[ $result != PASSED ]]; then
      if ((bad == 0)); then bad=1; fi
    fi
    if ((cases == 0)); then
      if [[ $result == PASSED ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    else
      failed=$((failed + bad))
      passed=$((passed + cases - bad))
    fi
  done < <(grep -E "^//[^ ]+ +(\(cached\) )?(PASSED|FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|FLAKY)" "$log" |
           sed -E 's/ +\(cached\)//' | awk '{print $1, $2}')
}
count_logs "$root" /tmp/nutshell_test_main.log
count_logs "$root/tests/consumer" /tmp/nutshell_test_consumer.log
if [[ $main_rc -ne 0 ]] && ! grep -qE "^//" /tmp/nutshell_test_main.log; then
  failed=$((failed + 1))  # the build itself failed before any test ran
fi
echo "$passed passed, $failed failed"
exit $status
