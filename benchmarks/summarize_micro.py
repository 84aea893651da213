#!/usr/bin/env python3
"""Markdown tables from the JSON output of //benchmarks:micro.

    bazel run --config=opt //benchmarks:micro -- --benchmark_repetitions=5 \
        --benchmark_out=/tmp/micro.json --benchmark_out_format=json
    python3 benchmarks/summarize_micro.py /tmp/micro.json

With repetitions, the median aggregate of every benchmark is used (counters
included, so each overhead ratio is the median of per-repetition ratios, each
measured with NUTS and the fused loop interleaved). Times are CPU times.
"""
import json
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    rows = {}
    have_median = any(b.get("aggregate_name") == "median" for b in doc["benchmarks"])
    for b in doc["benchmarks"]:
        if have_median and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        rows[name] = b
    return doc.get("context", {}), rows


def ns(b, unit_key="cpu_time"):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b[unit_key] * scale


def fmt_ns(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f} ms"
    if x >= 1e4:
        return f"{x / 1e3:.1f} us"
    if x >= 1e3:
        return f"{x / 1e3:.2f} us"
    return f"{x:.0f} ns" if x >= 100 else f"{x:.1f} ns"


def main():
    ctx, rows = load(sys.argv[1])
    print(f"Context: {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz, "
          f"load average {ctx.get('load_avg')}, date {ctx.get('date')}\n")
    targets = ["gauss_10", "gauss_100", "gauss_1000", "corr_gauss_50"]
    print("| target | metric | log density | fused, call | fused, inline | leapfrog (verlet / mclachlan / yoshida) "
          "| HMC L=16 | NUTS | steps / NUTS transition | momentum draw / transition | overhead ratio vs call | "
          "overhead ratio vs inline | heap allocs / NUTS transition |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in targets:
        for m in ["diag", "dense"]:
            tm = f"{t}/{m}"
            if f"nuts/{tm}" not in rows:
                continue
            g = lambda n: rows[n]["t_grad"] * 1e9 if n in rows and "t_grad" in rows[n] else None
            lf = " / ".join(fmt_ns(g(f"leapfrog/{tm}/{i}")) for i in ["velocity_verlet", "mclachlan", "yoshida"])
            nuts = rows[f"nuts/{tm}"]
            ov = rows.get(f"overhead/{tm}", {})
            mom = rows.get(f"momentum/{tm}")
            print(f"| {t} | {m} | {fmt_ns(g(f'logdensity/{t}'))} | {fmt_ns(g(f'fused/{tm}/call'))} | "
                  f"{fmt_ns(g(f'fused/{tm}/inline'))} | {lf} | {fmt_ns(g(f'hmc/{tm}/L:16'))} | "
                  f"{fmt_ns(g(f'nuts/{tm}'))} | {nuts.get('steps', 0):.1f} | "
                  f"{fmt_ns(ns(mom) if mom else None)} | {ov.get('ratio_call', float('nan')):.2f} | "
                  f"{ov.get('ratio_inline', float('nan')):.2f} | {nuts.get('heap_allocs', float('nan')):g} |")
    print("\nTimes per gradient evaluation (CPU), except the momentum draw (per transition).\n")

    print("| window adaptation (1000 steps) | per warmup | per step | per gradient | steps / transition "
          "| heap allocs / warmup step |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, b in rows.items():
        if not name.startswith("window_adaptation/"):
            continue
        print(f"| {name[len('window_adaptation/'):]} | {fmt_ns(ns(b))} | {fmt_ns(b['t_step'] * 1e9)} | "
              f"{fmt_ns(b['t_grad'] * 1e9)} | {b['steps']:.1f} | {b['heap_allocs_per_step']:.2f} |")

    print("\n| diagnostics, 4 chains x 1000 draws x 100 dims | time |")
    print("|---|---:|")
    for name, b in rows.items():
        if name.startswith("diagnostics/"):
            print(f"| {name[len('diagnostics/'):]} | {fmt_ns(ns(b))} |")


if __name__ == "__main__":
    main()
