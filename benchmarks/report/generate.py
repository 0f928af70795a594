#!/usr/bin/env python3
"""Writes synthetic podgap records for the report benchmark: realistic lines (a full environment
block with its machine probe, and the kernel's descriptor, as podgap run writes them, schema 2),
5 environments x 5 rank counts x 2 algorithms x 20 sizes x TRIALS rounds, each round running the
environments in a shuffled order (so the report pairs them round by round). 1000 rounds give
1,000,000 records (about 1.5 GB).

usage: generate.py FOLDER [TRIALS]"""
import json, os, random, sys

folder = sys.argv[1]
trials = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
os.makedirs(folder, exist_ok=True)
environments = {"native-shm": 1.0, "native-tcp": 1.6, "native-2node": 1.9, "pod-bridge": 2.1, "pod-overlay": 2.4}
sizes = [4 << i for i in range(20)]
rng = random.Random(1)
names = list(environments)
# Each round's order of the environments, and the machine's mode in that round (fast or 2-5x slow).
orders, modes = [], []
for _ in range(trials):
    order = names[:]
    rng.shuffle(order)
    orders.append({name: index + 1 for index, name in enumerate(order)})
    modes.append(1.0 if rng.random() < 0.7 else rng.uniform(2, 5))
descriptor = json.dumps({
    "busFactor": "allreduce", "order": 0,
    "headlines": [{"asRate": False, "label": "small-message latency", "point": "smallest"},
                  {"asRate": True, "label": "large-message bandwidth", "point": "largest"}],
    "metrics": [{"direction": "lower", "key": "seconds", "label": "time per call", "unit": "seconds"},
                {"direction": "higher", "key": "busbw_gbps", "label": "bus bandwidth", "unit": "gigabytes_per_second"}]},
    sort_keys=True, separators=(",", ":"))

for name, factor in environments.items():
    environment = {
        "bindings": ["0", "1"], "cgroup": {}, "cores": 2, "cpuset": "0-1", "gitCommit": "0" * 40,
        "hostname": "vm", "hostnames": ["vm"], "kernel": "Linux 6.1.0 x86_64", "launcher": {"kind": "mpirun"},
        "mpiLibrary": "Open MPI v4.1.4", "name": name, "network": "loopback", "oversubscribed": True,
        "podgapVersion": "0.1.0", "ranksPerNode": 2, "rdma": [],
        "topology": {"caches": {"L1d": 32768, "L2": 1048576, "L3": 33554432}, "cores": 2, "numaNodes": 1,
                     "packages": 1, "pciDevices": [{"busID": "0000:00:03.0", "kind": "network", "name": "eth0", "numaNode": 0}],
                     "processingUnits": 2},
        "transport": {"btl": "self,vader", "note": "vader (shared memory) between ranks on one node", "pml": "ob1"},
        "yieldSetBy": "podgap", "yieldWhenIdle": True,
    }
    with open(os.path.join(folder, name + ".jsonl"), "w") as out:
        for trial in range(1, trials + 1):
            mode = modes[trial - 1]
            environment["probe"] = {"gemmGflops": 30.0 / mode, "seconds": 0.03 * mode, "sumGBps": 10.0 / mode}
            block = json.dumps(environment, sort_keys=True, separators=(",", ":"))
            lines = []
            for ranks in (2, 4, 8, 16, 32):
                for algorithm in ("mpi", "ring"):
                    for size in sizes:
                        base = (2e-6 + size / 5e9) * factor * (1 + ranks / 16) * mode
                        p50 = base * rng.lognormvariate(0, 0.05)
                        busbw = size / p50 * 2 * (ranks - 1) / ranks / 1e9
                        lines.append(
                            '{"descriptor":%s,"environment":%s,"iterations":100,"kernel":"allreduce","params":{"algorithm":"%s","bytes":%d,'
                            '"count":%d,"dtype":"float32","operation":"sum"},"position":%d,"ranks":%d,"round":%d,"run":"bench-%s-%d","schema":"podgap.record/2",'
                            '"seconds":{"max":%r,"mean":%r,"min":%r,"p50":%r,"p99":%r,"stddev":%r},'
                            '"throughput":{"algbw_gbps":%r,"busbw_gbps":%r},"time":"2026-11-25T20:00:00.000Z","trial":%d,'
                            '"verification":"every element equals the exact sum over %d ranks","verified":true,"warmup":10}'
                            % (descriptor, block, algorithm, size, size // 4, orders[trial - 1][name], ranks, trial, name, trial,
                               p50 * 1.3, p50 * 1.02, p50 * 0.9,
                               p50, p50 * 1.25, p50 * 0.04, busbw * ranks / (2 * (ranks - 1)), busbw, trial, ranks))
            out.write("\n".join(lines) + "\n")
