#!/usr/bin/env python3
"""Bench: `make demo` on the emulator's data plane, against the control plane only.

    .venv/bin/python bench/demo.py                     # warm runs only (Docker set up already)
    .venv/bin/python bench/demo.py --cold --purge      # as root, on a machine nothing else uses Docker on

In a fresh clone of this checkout (so `.venv`, `.pocstack` and the build
context caches start empty), one run measures:

- cold: `make demo` in the clone: the `.venv` install, `emulator/docker-setup.sh`
  (with --purge: `apt-get install` of docker.io, debootstrap and docker-registry
  after purging them and /var/lib/docker; without: the engine's images of the
  project removed, so the base image is debootstrapped and imported again),
  the app image build and push, the deploy and its wait for steady state;
- warm: `make stop` then `make demo` again (everything cached, a new emulator);
- steady: from the service's first deployment (createdAt) to ECS's event "has
  reached a steady state", read back from the emulator after the warm run,
  with the reference health check (interval 6 s, timeout 5 s, healthy 2);
- baseline: `make stop` then `make demo` with POCSTACK_EMULATOR_DATA_PLANE=off,
  the control plane only (a placeholder image, no containers, no wait): what
  the demo cost before the data plane. Reported as the ratio warm / baseline.

Goals of the issue (reported, not asserted): cold <= 360 s, warm <= 90 s,
steady <= 30 s. Prints a markdown table; --json FILE keeps the numbers.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import boto3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PORT = 4566
GOALS = {"cold": 360, "warm": 90, "steady": 30}


def sh(cmd, cwd, env=None, check=True):
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, shell=isinstance(cmd, str),
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if check and proc.returncode != 0:
        sys.exit(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc


def steady_seconds(port, service="plotly"):
    ecs = boto3.client("ecs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    svc = ecs.describe_services(cluster="pocstack", services=[service])["services"][0]
    created = min(d["createdAt"] for d in svc["deployments"])
    steady = [e["createdAt"] for e in svc["events"] if e["message"].endswith("has reached a steady state.")]
    return (min(steady) - created).total_seconds() if steady else None


def cold_reset(purge):
    """Nothing of the project's Docker side left: engine images (or the packages)."""
    sh("python emulator/pocstack-emulator stop --port %d" % PORT, ROOT, check=False)
    sh("bash emulator/docker-setup.sh stop", ROOT, check=False)
    if purge:
        sh("pkill -x dockerd; pkill -x docker-registry; sleep 2", ROOT, check=False)
        sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq docker.io docker-registry debootstrap containerd runc",
           ROOT)
        shutil.rmtree("/var/lib/docker", ignore_errors=True)
        return
    ids = subprocess.run("docker images -q --filter reference='pocstack/*' --filter reference='*/pocstack/*'",
                         shell=True, capture_output=True, text=True).stdout.split()
    if ids:
        sh(["docker", "rmi", "-f", *sorted(set(ids))], ROOT, check=False)
    sh("docker builder prune -af", ROOT, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="measure a cold make demo first (see above)")
    parser.add_argument("--purge", action="store_true", help="with --cold: purge the Debian packages and /var/lib/docker")
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()

    clone = tempfile.mkdtemp(prefix="pocstack-demo-bench-")
    sh(["git", "clone", "-q", ROOT, clone], ROOT)
    # The clone's emulator must be the only one on the demo port.
    sh("python emulator/pocstack-emulator stop --port %d" % PORT, ROOT, check=False)
    results = {"commit": sh(["git", "rev-parse", "--short", "HEAD"], ROOT)[1].stdout.strip(), "clone": clone}
    env = {"PYTHON": sys.executable}
    try:
        if args.cold:
            cold_reset(args.purge)
            results["cold"], _ = sh("make demo", clone, env)
        else:
            sh("make demo", clone, env)  # the clone's .venv; not timed
        sh("make stop", clone, env)
        results["warm"], _ = sh("make demo", clone, env)
        results["steady"] = steady_seconds(PORT)
        sh("make stop", clone, env)
        results["baseline"], _ = sh("make demo", clone, {**env, "POCSTACK_EMULATOR_DATA_PLANE": "off"})
        sh("make stop", clone, env)
    finally:
        if not args.keep:
            sh("make stop", clone, env, check=False)
            shutil.rmtree(clone, ignore_errors=True)
    results["ratio_warm_to_baseline"] = results["warm"] / results["baseline"]

    print(f"commit {results['commit']}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")
    print("| measure | seconds | goal |\n|---|---|---|")
    for key in ("cold", "warm", "steady", "baseline"):
        if results.get(key) is not None:
            goal = GOALS.get(key)
            print(f"| {key} | {results[key]:.1f} | {'<= %d' % goal if goal else '-'} |")
    print(f"\nwarm / baseline (data plane over control plane only): {results['ratio_warm_to_baseline']:.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
