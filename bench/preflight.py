#!/usr/bin/env python3
"""Bench: what the site playbook's checks before the first write cost, as a
share of the run they guard.

    .venv/bin/python bench/preflight.py [--sizes 1,5] [--port PORT] [--json FILE]

For every N, on an emulator of its own (control plane; started here, emptied
before each N): N services as bench/deploy.py makes them are deployed, then
deployed again (nothing to change: the run a user makes most). In both runs
the per-task profile (bench/callback_plugins/pocstack_calls.py) splits the
time into the preflight - the first play's `preflight |` and `shared state |`
tasks (inventory, role variables, the account's network, the listener's rules,
the shared resources a failure report compares with) and the play "Check each
service against the account" (each service's secrets in check mode) - and the
rest. Printed: wall and CPU seconds and AWS reads of the preflight, and its
share of the run (the baseline is the run itself, measured in the same run).
Not part of `make test`: timings depend on the machine and its load.
"""
import argparse
import json
import os
import sys
import tempfile

import deploy  # bench/deploy.py: emulator, inventories, one profiled run

PREFLIGHT_PLAY = "Check each service against the account"
PREFLIGHT_TASKS = ("preflight |", "shared state |")


def is_preflight(task):
    first_play = task["play"] == "Select the services and prepare the account"
    return task["play"] == PREFLIGHT_PLAY or (first_play and task["task"].startswith(PREFLIGHT_TASKS))


def share(result):
    """{wall_s, cpu_s, reads, tasks} of the preflight in one profiled run, and the run's totals."""
    ours = [t for t in result["tasks"] if is_preflight(t)]
    total_wall = sum(t["wall_s"] for t in result["tasks"])
    return {
        "preflight_wall_s": round(sum(t["wall_s"] for t in ours), 2),
        "preflight_cpu_s": round(sum(t["cpu_s"] for t in ours), 2),
        "preflight_reads": sum(t["reads"] for t in ours),
        "preflight_writes": sum(t["writes"] for t in ours),
        "preflight_tasks": len(ours),
        "run_wall_s": result["wall_s"], "run_cpu_s": result["cpu_s"], "run_reads": result["reads"],
        "tasks_wall_s": round(total_wall, 2), "rc": result["rc"], "changed": result["changed"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5", help="comma-separated numbers of services (default 1,5)")
    parser.add_argument("--port", type=int, help="emulator port (default: a free one)")
    parser.add_argument("--json", help="also write the figures and the per-task profiles to this file")
    args = parser.parse_args(argv)
    try:
        sizes = [int(n) for n in args.sizes.split(",")]
    except ValueError:
        sizes = []
    if not sizes or any(n < 1 for n in sizes):
        parser.error(f"--sizes: {args.sizes!r} is not a comma-separated list of positive numbers, e.g. 1,5")
    rows, saved = [], []
    with tempfile.TemporaryDirectory(prefix="pocstack-bench-preflight-") as workdir:
        emulator = deploy.BenchEmulator(os.path.join(workdir, "emulator"), args.port)
        try:
            for n in sizes:
                emulator.reset()
                inventory = deploy.harness.make_inventory(deploy.harness_path(workdir, f"n{n}"), deploy.services(n))
                for phase in ("deploy", "rerun"):
                    result = deploy.run_phase(emulator, inventory, "site.yml", [])
                    found = share(result)
                    rows.append((n, phase, found))
                    saved.append({"n": n, "phase": phase, **found, "tasks": result["tasks"]})
                    print(f"  N={n:<3} {phase:7} rc={found['rc']} preflight {found['preflight_wall_s']:.1f} s "
                          f"of {found['run_wall_s']:.1f} s", flush=True)
        finally:
            emulator.stop()
    print()
    print("| N | run | run wall s | preflight wall s | share of wall | run CPU s | preflight CPU s | share of CPU "
          "| preflight reads / run reads | preflight writes | preflight tasks | rc |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, phase, f in rows:
        print(f"| {n} | {phase} | {f['run_wall_s']:.1f} | {f['preflight_wall_s']:.1f} "
              f"| {deploy.fmt(deploy.ratio(f['preflight_wall_s'], f['run_wall_s']), 2)} | {f['run_cpu_s']:.1f} "
              f"| {f['preflight_cpu_s']:.1f} | {deploy.fmt(deploy.ratio(f['preflight_cpu_s'], f['run_cpu_s']), 2)} "
              f"| {f['preflight_reads']} / {f['run_reads']} | {f['preflight_writes']} | {f['preflight_tasks']} | {f['rc']} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(saved, fh, indent=1)
    return 1 if any(f["rc"] for _n, _p, f in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
