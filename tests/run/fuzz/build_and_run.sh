#!/usr/bin/env bash
# Builds the checkpoint fuzz target with clang's libFuzzer (Bazel here uses
# gcc, which has no libFuzzer) and runs it for a fixed time.
#   tests/run/fuzz/build_and_run.sh [seconds] [source root]
# Needs Debian's clang and libclang-rt-14-dev (tools/install_deps.sh). Exits
# non-zero when clang is missing: the test must really run, never skip.
set -euo pipefail
seconds="${1:-25}"
root="${2:-$(cd "$(dirname "$0")/../../.." && pwd)}"
cxx="$(command -v clang++-14 || command -v clang++ || true)"
if [[ -z "$cxx" ]]; then
  echo "clang++ not found: install clang and libclang-rt-14-dev (tools/install_deps.sh)" >&2
  exit 1
fi
work="${TEST_TMPDIR:-$(mktemp -d)}/checkpoint_fuzz"
mkdir -p "$work/corpus"
# ASan and UBSan with the fuzzer; xtensor's asserts off as in the library's
# own builds. The library sources the reader needs are compiled in.
"$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I "$root/include" -I "$root" \
  "$root/tests/run/fuzz/checkpoint_fuzz.cpp" \
  "$root/lib/run/checkpoint_record.cpp" "$root/lib/run/checkpoint_io.cpp" \
  "$root/lib/core/metric.cpp" "$root/lib/core/normals.cpp" \
  -labsl_statusor -labsl_status -labsl_cord -labsl_cordz_info -labsl_cordz_handle \
  -labsl_cordz_functions -labsl_cordz_sample_token -labsl_cord_internal \
  -labsl_hashtablez_sampler -labsl_synchronization -labsl_graphcycles_internal -labsl_time \
  -labsl_civil_time -labsl_time_zone -labsl_str_format_internal -labsl_strings \
  -labsl_strings_internal -labsl_int128 -labsl_stacktrace -labsl_symbolize \
  -labsl_debugging_internal -labsl_malloc_internal -labsl_bad_optional_access \
  -labsl_bad_variant_access -labsl_throw_delegate -labsl_base -labsl_spinlock_wait \
  -labsl_raw_logging_internal -labsl_log_severity -lopenblas -lpthread \
  -o "$work/checkpoint_fuzz"
cd "$work"
# What earlier runs found must stay fixed.
ASAN_OPTIONS=detect_leaks=1 ./checkpoint_fuzz "$root"/tests/run/fuzz/regressions/*
NUTSHELL_FUZZ_SEED_DIR="$work/corpus" ASAN_OPTIONS=detect_leaks=1 \
  ./checkpoint_fuzz -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 \
  -max_len=4096 corpus
