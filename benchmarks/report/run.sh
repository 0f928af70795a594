#!/usr/bin/env bash
# podgap report over 1,000,000 records: wall time and peak memory (targets: < 2 s, < 512 MB).
# usage: benchmarks/report/run.sh [PODGAP]   (default: a release build in .build-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
podgap=${1:-}
if [[ -z "$podgap" ]]; then
    swift build -c release --product podgap --scratch-path .build-bench >&2
    podgap=.build-bench/release/podgap
fi
# Rounds and probes since records schema 2; a folder from the older generator would be unpaired.
data=${PODGAP_BENCH_DATA:-/tmp/podgap-report-bench-rounds}
if [[ ! -f "$data/pod-overlay.jsonl" ]]; then
    echo "generating 1,000,000 records in $data ..." >&2
    python3 benchmarks/report/generate.py "$data" 1000
fi
records=$(cat "$data"/*.jsonl | wc -l)
bytes=$(du -cb "$data"/*.jsonl | tail -1 | cut -f1)
echo "input: $records records, $((bytes / 1048576)) MiB in $data" >&2
/usr/bin/time -f "wall %e s, peak memory %M KiB" "$podgap" report "$data" --baseline native-2node --format csv --out /tmp/podgap-report-bench.csv
echo "rows: $(($(wc -l < /tmp/podgap-report-bench.csv) - 1)) comparisons" >&2
