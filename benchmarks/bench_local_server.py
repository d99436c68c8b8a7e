"""How long does ``wireflow_nb.local_server()`` take to hand back a ready client?

    .venv/bin/python benchmarks/bench_local_server.py [--repeat 7]

Measures, in this process, one after the other:

- *peer*: ``subprocess.run([python, "-c", "pass"])``, a bare interpreter start and exit
  (the floor of any subprocess helper on this machine);
- *local_server*: ``local_server()`` until it returns (a temporary home, a subprocess
  that imports the server, binds port 0, prints its banner and answers), and the first
  request on the returned client;
- *stop*: ``client.close()`` (SIGTERM, the server's clean exit, the home removed).

Prints the median and min of each in seconds and the ratio of the medians to the peer.
Startup blocks the caller (a notebook cell) that long; nothing blocks after it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import wireflow_nb as wf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each (default 7)")
    args = parser.parse_args()

    peer: list[float] = []
    start: list[float] = []
    first: list[float] = []
    stop: list[float] = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        peer.append(time.perf_counter() - began)

        began = time.perf_counter()
        client = wf.local_server(model_latency=0)
        start.append(time.perf_counter() - began)
        began = time.perf_counter()
        client.usage()
        first.append(time.perf_counter() - began)
        began = time.perf_counter()
        client.close()
        stop.append(time.perf_counter() - began)

    base = statistics.median(peer)
    print(f"{'':<28}{'median s':>10}{'min s':>10}{'x peer':>10}")
    for name, times in (
        ("python -c pass (peer)", peer),
        ("local_server() ready", start),
        ("first request", first),
        ("close() (server stopped)", stop),
    ):
        median = statistics.median(times)
        print(f"{name:<28}{median:>10.3f}{min(times):>10.3f}{median / base:>10.1f}")


if __name__ == "__main__":
    main()
