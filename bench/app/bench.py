#!/usr/bin/env python3
"""Throughput and p50/p99 latency of the PoC app on `/` with valid basic auth, at
16 concurrent connections: gunicorn (as the image runs it, gunicorn.conf.py
defaults) against Dash's development server (`app.run()`, what the reference
design ran), one after the other on this machine, reported as a ratio; each
directly and through the emulator's load balancer listener (alb_front.py, the
same code that serves `make demo`'s https://localhost:8443/, here on plain
HTTP), to report what the stand-in adds.

    .venv/bin/python bench/app/bench.py [--seconds 10] [--rounds 3] [--connections 16] [--tool auto|wrk|python]

Each server is measured in rounds, direct and through the stand-in in turn,
and the medians are compared. gunicorn's direct figure depends on which of its
two workers accepted the load generator's connections (all 16 on one worker
serve about a third of what 16 spread over both do: gunicorn's gthread worker
accepts every connection that arrives while it is awake, and they arrive at
once); so each direct round records how the connections spread over the
workers, and the stand-in is compared with the direct rounds whose connections
reached every worker: gunicorn at its best, the conservative baseline.

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


def group_options(own_sessions):
    """Popen options: a process group of its own (killpg stops a server's
    workers with it); with --own-sessions a session of its own too, which on
    Linux with autogroup puts it in a scheduling group of its own."""
    return {"start_new_session": True} if own_sessions else {"process_group": 0}


def start(kind, port, own_sessions):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PLOTLY_"))}
    env.update(PLOTLY_USER=USER, PLOTLY_PASS=PASSWORD, BIND=f"127.0.0.1:{port}")
    if kind == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "app:server"]
    else:
        argv = [sys.executable, "-c", DEV_SERVER.format(port=port)]
    proc = subprocess.Popen(argv, cwd=APP_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            **group_options(own_sessions))
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


def socket_inodes(pid):
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def worker_spread(server, port, front, via):
    """How many connections to `port` each worker of `server` holds, from
    /proc: e.g. [9, 7]; the stand-in's (`front`'s) when `via`, else the others
    (the load generator's; the stand-in's pool stays open, idle, meanwhile)."""
    connections = {}  # inode -> (local port, remote port) of established TCP sockets
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    fields = line.split()
                    if fields[3] == "01":  # ESTABLISHED
                        connections[fields[9]] = (int(fields[1].rsplit(":", 1)[1], 16),
                                                  int(fields[2].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    try:
        pooled = {connections[i][0] for i in socket_inodes(front.pid) if i in connections}
    except OSError:
        pooled = set()
    counts = []
    for pid in os.listdir("/proc"):
        try:
            if not pid.isdigit() or int(pid) == server.pid or os.getpgid(int(pid)) != server.pid:
                continue  # not the server's, or its master (which holds only the listening socket)
            held = socket_inodes(pid)
        except OSError:
            continue
        counts.append(sum(1 for i in held if i in connections and connections[i][0] == port
                          and (connections[i][1] in pooled) == via))
    return sorted(counts, reverse=True)


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
    parser.add_argument("--seconds", type=int, default=10, help="load per round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server, each direct and via (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--own-sessions", action="store_true",
                        help="each server and the stand-in in a session (so a scheduling group) of its own")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
    load = load_wrk if tool == "wrk" else load_python
    print(f"GET / with basic auth, {args.connections} connections, {args.rounds} rounds of {args.seconds} s, "
          f"load from {tool}, {os.cpu_count()} CPUs, "
          f"{'each server and the stand-in in its own session' if args.own_sessions else 'one session'}")
    results = {}  # (kind, via) -> [(rps, p50, p99, errors, spread)]
    for kind in ("gunicorn", "dev-server"):
        port = free_port()
        proc = start(kind, port, args.own_sessions)
        front_port = free_port()
        front = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "alb_front.py"),
                                  str(front_port), str(port)], stdout=subprocess.DEVNULL,
                                 **group_options(args.own_sessions))
        try:
            wait_for(front_port)
            for target in (port, front_port):
                load(target, 2, args.connections)  # warm-up: imports, first requests, keep-alive
            for number in range(1, args.rounds + 1):
                for via, target in (("direct", port), ("via ALB", front_port)):
                    spread = []
                    sampler = threading.Timer(args.seconds / 2, lambda via=via: spread.extend(
                        worker_spread(proc, port, front, via != "direct")))
                    sampler.start()
                    rps, p50, p99, errors = load(target, args.seconds, args.connections)
                    sampler.join()
                    results.setdefault((kind, via), []).append((rps, p50, p99, errors, spread))
                    print(f"{kind:>10} {via:>8} round {number}: {rps:8.1f} requests/s   p50 {p50:6.1f} ms   "
                          f"p99 {p99:6.1f} ms   non-200/errors {errors}   connections per worker {spread}", flush=True)
        finally:
            stop(front)
            stop(proc)
    print()
    summary = {}
    for kind in ("gunicorn", "dev-server"):
        direct, via = results[kind, "direct"], results[kind, "via ALB"]
        # Direct rounds whose connections reached every worker (the dev server has one process: all count).
        balanced = [r for r in direct if len(r[4]) < 2 or all(r[4])] or direct
        d_rps, d_p50 = median(r[0] for r in balanced), median(r[1] for r in balanced)
        a_rps, a_p50 = median(r[0] for r in via), median(r[1] for r in via)
        summary[kind, "via ALB"] = (a_rps, median(r[2] for r in via))
        summary[kind, "direct"] = (d_rps, median(r[2] for r in balanced))
        met = a_p50 - d_p50 <= 2 and a_rps >= 0.8 * d_rps
        print(f"{kind}: direct {d_rps:.0f} requests/s, p50 {d_p50:.1f} ms (median of the {len(balanced)} of "
              f"{len(direct)} rounds whose connections reached every worker; all rounds: "
              f"{median(r[0] for r in direct):.0f}); via the stand-in {a_rps:.0f}, p50 {a_p50:.1f} ms")
        print(f"{kind}: the ALB stand-in adds {a_p50 - d_p50:+.1f} ms at p50 and keeps {100 * a_rps / d_rps:.0f} % of "
              f"the direct requests/s ({'meets' if met else 'misses'} the goal: <= 2 ms, >= 80 %)")
    for via in ("direct", "via ALB"):
        (g_rps, g_p99), (d_rps, d_p99) = summary["gunicorn", via], summary["dev-server", via]
        print(f"gunicorn / dev server ({via}): throughput x{g_rps / d_rps:.2f}, p99 x{g_p99 / d_p99:.2f} "
              f"({'meets' if g_rps >= 2 * d_rps and g_p99 < d_p99 else 'misses'} the goal: >= 2x throughput, "
              "lower p99)")


def median(values):
    return statistics.median(list(values))


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
