"""Memory read bandwidth of this machine, one reader thread per core: the rate at which the cores
together can stream a buffer the size of the model's weights from memory. A batch-1 decode step
reads every weight once and writes almost nothing, so this bandwidth over the weight bytes bounds
single-stream tokens/s from above (a copy benchmark counts writes a decode step does not make).

numpy's sum releases the GIL, so the threads read in parallel; each reads its own share, larger
together than the last-level cache, several times, and the best round counts.

usage: read_bandwidth.py --bytes N [--threads T] [--rounds R]
Prints one JSON object: {"gbPerSecond": ..., "threads": ..., "bytes": ...}.
"""
import argparse
import json
import os
import threading
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bytes", type=int, required=True)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    per_thread = args.bytes // args.threads // 4
    shares = [np.ones(per_thread, np.float32) for _ in range(args.threads)]
    best = float("inf")
    for _ in range(args.rounds):
        barrier = threading.Barrier(args.threads + 1)
        threads = [threading.Thread(target=lambda a=a: (barrier.wait(), a.sum())) for a in shares]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        best = min(best, time.perf_counter() - started)
    total = per_thread * 4 * args.threads
    print(json.dumps({"gbPerSecond": total / best / 1e9, "threads": args.threads, "bytes": total}))


if __name__ == "__main__":
    main()
