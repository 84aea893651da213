#!/usr/bin/env bash
# nutshell vs Stan (rstan 2.21, Debian's r-cran-rstan) on the benchmark
# posteriors, side by side in one invocation. Takes minutes: not run in CI.
#
#   benchmarks/compare_with_stan.sh                       # all ten, 4 x (1000 + 1000)
#   POSTERIORS=eight_schools_nc,gauss_100 REPEATS=3 benchmarks/compare_with_stan.sh
#
# Environment (defaults in brackets):
#   POSTERIORS      comma list or all [all]
#   CHAINS WARMUP DRAWS [4 1000 1000]   CORES [nproc]
#   SEEDS           how many independent runs per posterior and sampler (seeds
#                   1..SEEDS); the table pools them [1]. One run's min ESS is
#                   noisy (+-15%): use >= 5 to judge "ESS/grad within 10%".
#   SEED_LIST       explicit comma list of seeds instead of 1..SEEDS (e.g. one
#                   seed per invocation, so a long run keeps what it finished)
#   REPEATS         timing repeats of each identical run; wall times are medians [1]
#   POSTERIORS_DIR  the Stan programs and data [<repo>/../shared/posteriors]; the
#                   four real-data posteriors (mtcars_uncentred, stackloss_t,
#                   chickweight_hier, warpbreaks_pln) are in <repo>/tests/posteriors/data
#   ADAPTATIONS     nutshell warmups, each compared with the same Stan run [window];
#                   issue 13: ADAPTATIONS=window,fisher_diagonal,fisher_low_rank,fisher_auto
#   METRIC          nutshell's (and so Stan's) metric: auto|diag|dense [auto: dense
#                   for corr_gauss_50]; issue 13 compares with diag_e: METRIC=diag
#   OUT_DIR         CSVs and draws [/tmp/nutshell_vs_stan]
#   NUTSHELL_BIN    prebuilt posteriors and ess binaries [build them]
#   STAN_CACHE      compiled Stan models [${XDG_CACHE_HOME:-~/.cache}/nutshell-stan]
#
# Steps:
# Issue 13's figure (ESS per gradient = min bulk ESS / every gradient incl.
# warmup, vs Stan diag_e, >= 5 seeds), all ten posteriors (about an hour):
#   METRIC=diag SEEDS=5 ADAPTATIONS=window,fisher_diagonal,fisher_low_rank,fisher_auto \
#     POSTERIORS=all benchmarks/compare_with_stan.sh
#
#   1. installs r-cran-rstan, r-cran-posterior, r-cran-jsonlite (and r-base-dev)
#      if missing;
#   2. builds //benchmarks:posteriors and //benchmarks:ess with --config=opt;
#   3. compiles the Stan programs (cached; compile time is not part of any figure);
#   4. runs nutshell (benchmarks/posteriors: window adaptation + NUTS, the
#      README's metric) and writes its draws;
#   5. runs rstan's NUTS with the same chains / warmup / draws / metric /
#      adapt_delta 0.8 / max_treedepth 10 / chains in parallel on CORES;
#   6. computes min bulk ESS, min tail ESS and max R-hat of BOTH samplers'
#      unconstrained draws with the same program (bazel-bin/benchmarks/ess,
#      nutshell::diagnostics), cross-checked against R's posterior package;
#   7. prints the table; writes $OUT_DIR/comparison.csv (the table) and
#      $OUT_DIR/runs.csv (every posterior x seed).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POSTERIORS="${POSTERIORS:-all}"
CHAINS="${CHAINS:-4}"
WARMUP="${WARMUP:-1000}"
DRAWS="${DRAWS:-1000}"
CORES="${CORES:-$(nproc)}"
SEEDS="${SEEDS:-1}"
ADAPTATIONS="${ADAPTATIONS:-window}"
METRIC="${METRIC:-auto}"
REPEATS="${REPEATS:-1}"
POSTERIORS_DIR="${POSTERIORS_DIR:-$repo/../shared/posteriors}"
OUT_DIR="${OUT_DIR:-/tmp/nutshell_vs_stan}"
STAN_CACHE="${STAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nutshell-stan}"
POSTERIORS_DIR="$(cd "$POSTERIORS_DIR" && pwd)"
mkdir -p "$OUT_DIR" "$STAN_CACHE"
# Chains are the parallelism; a threaded BLAS would only fight them.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# 1. R packages (r-base-dev: rstan compiles the models with R's toolchain;
# Debian's r-cran-bh brings Boost as libboost-dev in /usr/include).
if ! Rscript -e 'suppressPackageStartupMessages({library(rstan); library(posterior); library(jsonlite)})' \
    >/dev/null 2>&1 || ! command -v g++ >/dev/null || [ ! -e /usr/share/R/include/R.h ]; then
  echo "== installing r-cran-rstan r-cran-posterior r-cran-jsonlite r-base-dev" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd apt-get install -y r-cran-rstan r-cran-posterior r-cran-jsonlite r-base-dev
fi

# 2. nutshell binaries.
cd "$repo"
# NUTSHELL_BIN: a folder with prebuilt `posteriors` and `ess` (skips the build,
# e.g. to keep a long run's binaries fixed while the tree changes).
if [ -n "${NUTSHELL_BIN:-}" ]; then
  bin="$NUTSHELL_BIN"
else
  echo "== building //benchmarks:posteriors //benchmarks:ess (--config=opt)" >&2
  bazel build ${BAZEL_FLAGS:-} --config=opt //benchmarks:posteriors //benchmarks:ess >&2
  bin="$(bazel info --config=opt bazel-bin 2>/dev/null)/benchmarks"
fi

seed_list="${SEED_LIST:-$(seq -s, 1 "$SEEDS")}"
common=(--posteriors="$POSTERIORS" --chains="$CHAINS" --warmup="$WARMUP" --draws="$DRAWS"
        --repeats="$REPEATS" --metric="$METRIC")
rargs=(--posteriors-dir="$POSTERIORS_DIR" --cache-dir="$STAN_CACHE" --out-dir="$OUT_DIR"
       --posteriors="$POSTERIORS" --chains="$CHAINS" --warmup="$WARMUP" --draws="$DRAWS"
       --cores="$CORES" --seeds="$seed_list" --repeats="$REPEATS"
       --extra-dir="$repo/tests/posteriors/data" --adaptations="$ADAPTATIONS")

# 3. Stan compilation, before anything is timed.
echo "== compiling Stan programs (cached in $STAN_CACHE)" >&2
Rscript "$repo/benchmarks/compare_with_stan.R" --mode=compile "${rargs[@]}" >&2

echo "== load: $(uptime)" >&2
# 4. nutshell.
echo "== nutshell: $CHAINS chains x ($WARMUP + $DRAWS), $CORES threads, seeds $seed_list" >&2
for a in ${ADAPTATIONS//,/ }; do
  for seed in ${seed_list//,/ }; do
    "$bin/posteriors" "${common[@]}" --seed="$seed" --threads="$CORES" --adaptation="$a" \
      --data_dir="$POSTERIORS_DIR" --output="$OUT_DIR/nutshell_${a}_seed$seed.csv" \
      --draws_dir="$OUT_DIR/nutshell_${a}_draws_seed$seed"
  done
done

# 5-7. Stan, the shared ESS code, the table.
echo "== Stan: $CHAINS chains x ($WARMUP + $DRAWS), $CORES cores" >&2
Rscript "$repo/benchmarks/compare_with_stan.R" --mode=run "${rargs[@]}" \
  --ess-tool="$bin/ess" --nutshell-csv="$OUT_DIR/nutshell_%s_seed%d.csv" \
  --nutshell-draws="$OUT_DIR/nutshell_%s_draws_seed%d"
echo "== load: $(uptime)" >&2
echo "(CSVs and draws in $OUT_DIR)" >&2
