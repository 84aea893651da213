#!/bin/sh
# Smoke test of the end-to-end benchmark path (not a timing): 2 chains x
# (100 warmup + 100 draws) on eight_schools_nc, then the ESS tool on the
# draws it wrote. Fails if either program fails or the CSV is malformed.
set -eu
posteriors="$1"
ess="$2"
out="${TEST_TMPDIR:-$(mktemp -d)}"
# Under --config=asan: ignore libgfortran's start-up leak (tools/lsan.supp).
if [ -f tools/lsan.supp ]; then
  export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(pwd)/tools/lsan.supp"
fi
"$posteriors" --posteriors=eight_schools_nc --chains=2 --warmup=100 --draws=100 --threads=2 \
  --output="$out/rows.csv" --draws_dir="$out"
cat "$out/rows.csv"
test "$(wc -l < "$out/rows.csv")" -eq 2
head -1 "$out/rows.csv" | grep -q '^posterior,dim,metric,'
sed -n 2p "$out/rows.csv" | grep -q '^eight_schools_nc,10,diag,2,100,100,'
# header + 2 x 100 draws
test "$(wc -l < "$out/eight_schools_nc.csv")" -eq 201
"$ess" "$out/eight_schools_nc.csv" > "$out/ess.csv"
cat "$out/ess.csv"
sed -n 2p "$out/ess.csv" | grep -q '^2,100,10,'
echo PASS
