#!/usr/bin/env python3
"""Paired comparison of interleaved benchmark runs, shared by benchmarks/*/run.

Reads WORK/<program>-<transport>.txt, lines "run bytes value" (one per size per run), and for each
pair "A/B" prints, per transport and size, the ratio of A's median to B's median (column "A / B",
the figure the targets are stated in) and, because runs were interleaved, the paired view (column
"paired"): the median of the per-run ratios A_i / B_i with a distribution-free 95% interval (order
statistics of the binomial).
That interval is the resolution reached: a size is "resolved within 5%" only when the whole
interval lies in [0.95, 1.05]. Give an A/A pair (the same program under two names) to see the
noise floor of the method on this machine before reading the others.

Usage: compare.py WORK A/B [C/D ...]
"""
import collections
import math
import os
import statistics
import sys

LIMIT = 0.05


def load(work, program, transport):
    """bytes -> {run: value}."""
    values = collections.defaultdict(dict)
    path = os.path.join(work, f"{program}-{transport}.txt")
    if os.path.exists(path):
        for line in open(path):
            fields = line.split()
            if len(fields) >= 3:
                values[int(fields[1])][int(fields[0])] = float(fields[2])
    return values


def median_interval(samples, level=0.95):
    """Distribution-free interval for a median: the order statistics whose binomial coverage reaches level.
    Below 6 samples even [min, max] covers less than 95%, so the interval is unbounded: nothing resolved."""
    ordered, n = sorted(samples), len(samples)
    if n < 6:
        return 0.0, math.inf
    # largest k with P(Binomial(n, 1/2) < k) <= (1 - level) / 2; the interval is [x_(k), x_(n-k+1)]
    tail, k, cumulative = (1 - level) / 2, 0, 0.0
    while True:
        next_mass = math.comb(n, k) / 2**n
        if cumulative + next_mass > tail:
            break
        cumulative += next_mass
        k += 1
    k = max(k, 1)
    return ordered[k - 1], ordered[n - k]


def main():
    if len(sys.argv) < 3 or any("/" not in pair for pair in sys.argv[2:]):
        sys.exit("usage: compare.py WORK A/B [C/D ...]")
    work, pairs = sys.argv[1], [tuple(pair.split("/")) for pair in sys.argv[2:]]
    programs = list(dict.fromkeys(name for pair in pairs for name in pair))
    transports = sorted({name.rsplit("-", 1)[1][:-4] for name in os.listdir(work) if name.endswith(".txt")})
    missing = [f"{p}-{t}.txt" for p in programs for t in transports if not os.path.exists(os.path.join(work, f"{p}-{t}.txt"))]
    if not transports or missing:
        sys.exit(f"compare.py: no numbers to compare in {work} (missing: {', '.join(missing) or 'every <program>-<transport>.txt'})")
    head = "| transport | bytes | " + " | ".join(f"{p} (us)" for p in programs)
    head += " | " + " | ".join(f"{a} / {b} | paired [95%]" for a, b in pairs) + " |"
    print(head)
    print("|---|---:|" + "---:|" * (len(programs) + 2 * len(pairs)))
    summary = {pair: {"sizes": 0, "within": 0, "resolved": 0, "worst": 0.0, "runs": set()} for pair in pairs}
    for transport in transports:
        data = {p: load(work, p, transport) for p in programs}
        sizes = sorted(set.intersection(*(set(data[p]) for p in programs)))
        for size in sizes:
            row = f"| {transport} | {size} | "
            row += " | ".join(f"{statistics.median(data[p][size].values()):.2f}" for p in programs)
            for a, b in pairs:
                x, y = data[a][size], data[b][size]
                ratio = statistics.median(x.values()) / statistics.median(y.values())
                paired = [x[run] / y[run] for run in x if run in y]
                low, high = median_interval(paired)
                row += f" | {ratio:.3f} | {statistics.median(paired):.3f} [{low:.3f}, {high:.3f}]"
                s = summary[(a, b)]
                s["sizes"] += 1
                s["within"] += abs(ratio - 1) <= LIMIT
                s["resolved"] += 1 - LIMIT <= low and high <= 1 + LIMIT
                s["worst"] = max(s["worst"], abs(ratio - 1))
                s["runs"].add(len(paired))
            print(row + " |")
    print()
    for (a, b), s in summary.items():
        runs = "/".join(str(n) for n in sorted(s["runs"]))
        print(f"{a} against {b}: {s['within']} of {s['sizes']} sizes with medians within {LIMIT:.0%}, "
              f"largest difference {s['worst']:.1%}; {s['resolved']} of {s['sizes']} resolved within "
              f"{LIMIT:.0%} (paired interval inside); {runs} paired runs per size")


if __name__ == "__main__":
    main()
