#!/usr/bin/env python3
"""Throughput and p50/p99 latency of the PoC app on `/` with valid basic auth, at
16 concurrent connections: gunicorn (as the image runs it, gunicorn.conf.py
defaults) against Dash's development server (`app.run()`, what the reference
design ran), one after the other on this machine, reported as a ratio; each
directly and through the emulator's load balancer listener (alb_front.py, the
same code that serves `make demo`'s https://localhost:8443/, here on plain
HTTP), to report what the stand-in adds.

    .venv/bin/python bench/app/bench.py [--seconds 15] [--connections 16] [--tool auto|wrk|python]

Uses wrk (Debian package `wrk`) when it is installed, else a small load
generator in this file (threads, one keep-alive connection each). Every server
listens on 127.0.0.1 only; each run is bounded by --seconds and stops itself.
Not part of `make test`: timings depend on the machine and on what else runs.
"""
import argparse
import base64
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
APP_DIR = os.path.join(ROOT, "files", "app")
USER, PASSWORD = "bench", "bench-password"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
DEV_SERVER = "import app; app.app.run(host='127.0.0.1', port={port}, debug=False)"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind, port):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PLOTLY_"))}
    env.update(PLOTLY_USER=USER, PLOTLY_PASS=PASSWORD, BIND=f"127.0.0.1:{port}")
    if kind == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "app:server"]
    else:
        argv = [sys.executable, "-c", DEV_SERVER.format(port=port)]
    proc = subprocess.Popen(argv, cwd=APP_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Authorization": AUTH})
            with urllib.request.urlopen(req, timeout=2) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"{kind} did not answer on port {port} within 30 s")


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def load_wrk(port, seconds, connections):
    out = subprocess.run(
        ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-H", f"Authorization: {AUTH}", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def percentile(name):
        value, unit = re.search(rf"^\s+{name}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, percentile(50), percentile(99), int(errors.group(1)) if errors else 0


def load_python(port, seconds, connections):
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        conn, mine, bad = http.client.HTTPConnection("127.0.0.1", port, timeout=10), [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", "/", headers={"Authorization": AUTH})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client) for _ in range(connections)]
    begin = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - begin
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 100 else max(latencies)
    return len(latencies) / elapsed, statistics.median(latencies), p99, errors[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="load per server (default 15)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
    load = load_wrk if tool == "wrk" else load_python
    print(f"GET / with basic auth, {args.connections} connections, {args.seconds} s per server, load from {tool}, "
          f"{os.cpu_count()} CPUs")
    results = {}
    for kind in ("gunicorn", "dev-server"):
        port = free_port()
        proc = start(kind, port)
        front_port = free_port()
        front = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "alb_front.py"),
                                  str(front_port), str(port)], stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(front_port)
            for via, target in (("direct", port), ("via ALB", front_port)):
                load(target, 2, args.connections)  # warm-up: imports, first requests, keep-alive
                results[kind, via] = load(target, args.seconds, args.connections)
                rps, p50, p99, errors = results[kind, via]
                print(f"{kind:>10} {via:>8}: {rps:8.1f} requests/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
                      f"non-200/errors {errors}")
        finally:
            stop(front)
            stop(proc)
    for kind in ("gunicorn", "dev-server"):
        (d_rps, d_p50, _, _), (a_rps, a_p50, _, _) = results[kind, "direct"], results[kind, "via ALB"]
        print(f"{kind}: the ALB stand-in adds {a_p50 - d_p50:+.1f} ms at p50 and keeps {100 * a_rps / d_rps:.0f} % of "
              f"the direct requests/s ({'meets' if a_p50 - d_p50 <= 2 and a_rps >= 0.8 * d_rps else 'misses'} "
              "the goal: <= 2 ms, >= 80 %)")
    for via in ("direct", "via ALB"):
        (g_rps, _, g_p99, _), (d_rps, _, d_p99, _) = results["gunicorn", via], results["dev-server", via]
        print(f"gunicorn / dev server ({via}): throughput x{g_rps / d_rps:.2f}, p99 x{g_p99 / d_p99:.2f} "
              f"({'meets' if g_rps >= 2 * d_rps and g_p99 < d_p99 else 'misses'} the goal: >= 2x throughput, lower p99)")


def wait_for(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


if __name__ == "__main__":
    main()
