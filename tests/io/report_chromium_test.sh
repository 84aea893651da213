#!/usr/bin/env bash
# The report opens in headless Chromium with no console message, and the
# rendered page holds the expected number of plots and the summary table's
# text. A deliberately broken copy must be caught (the check can fail).
# Without Chromium this test FAILS: `bash tools/install_deps.sh` installs it.
set -euo pipefail
write_run="$1"
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "FAIL: chromium not found; run 'bash tools/install_deps.sh' (Debian package chromium)" >&2
  exit 1
fi
out="${TEST_TMPDIR:-$(mktemp -d)}/report_check"
rm -rf "$out" && mkdir -p "$out"
"$write_run" "$out"

# render FILE: the DOM on stdout, Chromium's log in FILE.log.
render() {
  local profile
  profile=$(mktemp -d "$out/profile.XXXXXX")
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 --dump-dom "file://$1" 2>"$1.log"
}

# check FILE: 0 when the page rendered cleanly with what it must hold.
check() {
  local dom plots row want
  dom=$(render "$1") || { echo "chromium failed on $1" >&2; return 1; }
  if grep -q ':CONSOLE' "$1.log"; then
    echo "console messages on $1:" >&2
    grep ':CONSOLE' "$1.log" >&2
    return 1
  fi
  want=$(sed -n 1p "$out/report_expected.txt")
  row=$(sed -n 2p "$out/report_expected.txt")
  plots=$(grep -o '<svg class="plot"' <<<"$dom" | wc -l)
  if [[ "$plots" -ne "$want" ]]; then
    echo "$1: $plots plots, expected $want" >&2
    return 1
  fi
  if ! grep -q "data-plots=\"$want\"" <<<"$dom"; then
    echo "$1: the page's script did not run (no data-plots=\"$want\")" >&2
    return 1
  fi
  if ! grep -qF "$row" <<<"$dom"; then
    echo "$1: the summary row '$row' is not in the rendered table" >&2
    return 1
  fi
  if grep -qiE '(src|href)="https?:' <<<"$dom"; then
    echo "$1: refers to the network" >&2
    return 1
  fi
  echo "$1: $plots plots, summary row found, no console message"
}

check "$out/report.html"

# The check must be able to fail: a script error, and a missing plot.
sed 's|</body>|<script>undefinedFunction();</script></body>|' "$out/report.html" >"$out/broken_script.html"
if check "$out/broken_script.html" 2>/dev/null; then
  echo "FAIL: a page with a script error passed the check" >&2
  exit 1
fi
sed '0,/<svg class="plot"/s//<svg class="removed"/' "$out/report.html" >"$out/missing_plot.html"
if check "$out/missing_plot.html" 2>/dev/null; then
  echo "FAIL: a page missing a plot passed the check" >&2
  exit 1
fi
echo OK
