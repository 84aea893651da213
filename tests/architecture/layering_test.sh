#!/usr/bin/env bash
# Checks the module dependency direction of ARCHITECTURE.md: a header or
# source file of a module may include only its own module and the modules
# below it. Fails with the offending file and include.
set -uo pipefail
shopt -s nullglob
root="${TEST_SRCDIR:-}/nutshell"
[[ -d "$root/include/nutshell" ]] || root="$(cd "$(dirname "$0")/../.." && pwd)"

# module -> modules it may include (besides itself)
declare -A allowed=(
  [core]=""
  [diagnostics]=""
  [ad]="core"
  [mcmc]="core"
  [sgmcmc]="core"
  [compose]="core"
  [constraints]="core ad"
  [distributions]="core ad"
  [model]="core ad constraints distributions"
  [adaptation]="core diagnostics mcmc"
  [smc]="core diagnostics mcmc adaptation"
  [vi]="core diagnostics mcmc adaptation"
  [run]="core diagnostics mcmc sgmcmc compose adaptation ad constraints model vi"
  [io]="core diagnostics run"
  [distributed]="core diagnostics mcmc compose adaptation run io"
)

check_tree() {
local root=$1
bad=0
checked=0
for dir in "$root"/include/nutshell/*/ "$root"/lib/*/; do
  module=$(basename "$dir")
  if [[ ! -v "allowed[$module]" ]]; then
    echo "unknown module folder: $dir (add it to tests/architecture/layering_test.sh and ARCHITECTURE.md)"
    bad=1
    continue
  fi
  for file in "$dir"*.hpp "$dir"*.cpp; do
    [[ -f $file ]] || continue
    checked=$((checked + 1))
    while IFS= read -r inc; do
      target=${inc#nutshell/}
      target=${target%%/*}
      [[ $target == "$module" ]] && continue
      ok=0
      for a in ${allowed[$module]}; do [[ $a == "$target" ]] && ok=1; done
      if ((ok == 0)); then
        echo "layering: ${file#$root/} includes nutshell/${inc#nutshell/} ($module may not depend on $target)"
        bad=1
      fi
    done < <(grep -oE '^#include "nutshell/[^"]+"' "$file" | sed -E 's/^#include "(.*)"/\1/')
  done
done
# Nothing but the umbrella header sits at the top level.
for f in "$root"/include/nutshell/*.hpp; do
  [[ $(basename "$f") == nutshell.hpp ]] || { echo "top-level header outside a module: $f"; bad=1; }
done
echo "checked $checked files under $root"
}

# The checker itself must catch a violation: a core header that includes run.
tmp=$(mktemp -d)
mkdir -p "$tmp/include/nutshell/core" "$tmp/include/nutshell/run"
echo '#include "nutshell/run/sample.hpp"' > "$tmp/include/nutshell/core/bad.hpp"
echo '#include "nutshell/core/bad.hpp"' > "$tmp/include/nutshell/run/good.hpp"
check_tree "$tmp" > "$tmp/out"
if ((bad == 0)) || ! grep -q "core may not depend on run" "$tmp/out" || grep -q "run/good.hpp" "$tmp/out"; then
  echo "self-check failed: the checker did not flag exactly core/bad.hpp"; cat "$tmp/out"; exit 1
fi
rm -rf "$tmp"

check_tree "$root"
((checked > 50)) || { echo "too few files found under $root: the test is not looking at the tree"; exit 1; }
exit $bad
