#!/usr/bin/env python3
"""Bench: fresh deploy, no-op re-run, preview and teardown of N PoC services on
the local emulator, for pocstack.aws's playbooks (with Ansible's linear
strategy, and with mitogen's) and for a baseline written with
amazon.aws/community.aws modules only (bench/baseline/).

    .venv/bin/python bench/deploy.py [--sizes 1,5,20] [--impl collection,mitogen,baseline]
                                     [--skip-baseline] [--port PORT] [--json bench/results.json]

For every N and implementation, on an emulator of its own (started here,
emptied before each N): N services (distinct names, path-based rules,
automatic rule priorities, `existing` images seeded by the local bootstrap)
are deployed, deployed again (nothing to change), previewed with --check
--diff (the collection only) and torn down with the shared infrastructure.
Each phase reports wall time, the CPU time (user+sys) of the ansible-playbook
process tree (for mitogen, the machine's busy time minus the emulator's when
that is more: its interpreters escape getrusage; so, an idle machine), the
emulator's CPU time, the module tasks that ran, and the AWS
API calls the emulator counted, split into reads and writes. After the deploy
every service's resources are counted with tests/integration/scan.py, which
gives reads per resource the services own.

Prints a markdown table (phases, ratios collection/baseline, the issue's
goals) and, with --json, writes everything, every call by name included, to a file.
Not part of `make test`: timings depend on the machine and its load.
"""
import argparse
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402
import scan  # noqa: E402

COLLECTION = {
    "deploy": ("site.yml", []),
    "rerun": ("site.yml", []),
    "check": ("site.yml", ["--check", "--diff"]),
    "teardown": ("playbooks/teardown.yml", ["-e", "teardown_shared=true"]),
}
PLAYBOOKS = {
    "collection": COLLECTION,
    # the same playbooks with mitogen's strategy (README, "Faster runs")
    "mitogen": COLLECTION,
    "baseline": {
        "deploy": ("bench/baseline/deploy.yml", []),
        "rerun": ("bench/baseline/deploy.yml", []),
        "teardown": ("bench/baseline/teardown.yml", []),
    },
}
PHASES = ("deploy", "rerun", "check", "teardown")
BASELINE = "baseline"
# What scan.py reports that is not a resource a service owns: the tagging
# API's view repeats the others, and a deregistered task definition revision
# is history, not a live resource.
NOT_OWNED = {"tagged", "task definition (INACTIVE)"}
# Tasks that ran on the controller alone (localhost: the shared
# infrastructure and the local bootstrap) run once whatever N is; the calls
# of every task that ran on a service host are the services' own.
CONTROLLER = "localhost"


def strategy_env(impl):
    """What selects mitogen's strategy for the impl "mitogen" (nothing for the others)."""
    if impl != "mitogen":
        return {}
    import ansible_mitogen  # the venv's pinned mitogen (requirements.txt)
    return {"ANSIBLE_STRATEGY": "mitogen_linear",
            "ANSIBLE_STRATEGY_PLUGINS": os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")}


def module_tasks(tasks, service=None):
    """How many tasks ran a module (on at least one host; service: on a service host, or only the controller)."""
    return sum(1 for t in tasks if t["hosts_ran"] and t.get("module", True)
               and (service is None or is_service_task(t) == service))


def is_service_task(task):
    return any(host != CONTROLLER for host in task.get("hosts", []))


def services(n):
    """N services like plotly: distinct names and paths, automatic priorities."""
    return [(f"svc{i:02d}", {
        "poc_priority": None,
        "poc_path_patterns": [f"/svc{i:02d}*"],
        "poc_image": {"source": "existing", "repository": f"pocstack/svc{i:02d}", "tag": "latest"},
    }) for i in range(1, n + 1)]


class BenchEmulator(harness.Emulator):
    """harness.Emulator on a given port (or a free one), and its CPU time."""

    def __init__(self, state_dir, port=None):
        if port is None:
            super().__init__(state_dir)
            return
        self.port = port
        self.state = str(state_dir)
        self.url = f"http://127.0.0.1:{port}"
        # The control plane only: this bench compares API work with the baseline's.
        args = [sys.executable, harness.LAUNCHER, "start", "--port", str(port), "--state-dir", self.state,
                "--data-plane", "off"]
        if subprocess.run(args).returncode != 0:
            raise SystemExit(f"could not start the emulator on port {port}")

    def cpu_seconds(self):
        try:
            with open(os.path.join(self.state, f"emulator-{self.port}.pid")) as fh:
                pid = int(fh.read().strip())
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return float("nan")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu():
    """Busy CPU seconds of the whole machine (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_phase(emulator, inventory, playbook, extra, impl):
    """One ansible-playbook run: wall, CPU of its process tree, emulator CPU, calls, changed."""
    profile = os.path.join(os.path.dirname(inventory), "calls-profile.json")
    env = harness.environment(emulator.port, extra_env={
        **strategy_env(impl),
        # per-task calls, wall and CPU time (bench/callback_plugins/pocstack_calls.py)
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(ROOT, "bench", "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "pocstack_calls",
        "POCSTACK_CALLS_PROFILE": profile,
    })
    emulator.calls(reset=True)
    cpu0, emu0, machine0, t0 = children_cpu(), emulator.cpu_seconds(), machine_cpu(), time.monotonic()
    # getrusage(RUSAGE_CHILDREN) counts every descendant that was waited for:
    # ansible-playbook waits for its forks, which wait for their modules.
    proc = subprocess.run(harness.command(inventory, playbook, extra), cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=7200)
    wall, cpu, emu_cpu = time.monotonic() - t0, children_cpu() - cpu0, emulator.cpu_seconds() - emu0
    # mitogen's interpreters are not all waited for by ansible-playbook, so
    # getrusage misses part of their CPU: the machine's busy time minus the
    # emulator's counts everything (on an idle machine, as the README asks).
    if strategy_env(impl):
        cpu = max(cpu, machine_cpu() - machine0 - emu_cpu)
    counted = emulator.calls()
    result = {"rc": proc.returncode, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
              "emulator_cpu_s": round(emu_cpu, 2), "reads": counted["reads"], "writes": counted["writes"],
              "calls": counted["calls"]}
    try:
        with open(profile) as fh:
            result["tasks"] = json.load(fh)
        os.unlink(profile)
    except (OSError, ValueError):
        result["tasks"] = []
    service_tasks = [t for t in result["tasks"] if is_service_task(t)]
    result["service_reads"] = sum(t["reads"] for t in service_tasks)
    result["service_writes"] = sum(t["writes"] for t in service_tasks)
    result["module_tasks"] = module_tasks(result["tasks"])
    result["service_module_tasks"] = module_tasks(result["tasks"], service=True)
    try:
        result["changed"] = sum(s["changed"] for s in harness.stats(proc.stdout).values())
        result["changed_tasks"] = sorted({name for name, _ in harness.changed_tasks(proc.stdout)})
        if proc.returncode:
            result["error"] = harness.failure_message(proc.stdout)[:2000]
    except ValueError:
        result["changed"] = None
        result["error"] = (proc.stdout + proc.stderr)[-2000:]
    return result


def listener_rules(emulator):
    """Number of non-default rules on every listener of every load balancer."""
    elb = scan.clients(emulator.url)("elbv2")
    return sum(1 for lb in elb.describe_load_balancers()["LoadBalancers"]
               for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
               for rule in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not rule["IsDefault"])


def owned_resources(emulator, names):
    """{service: {kind: count}} and the shared infrastructure's {kind: count}."""
    per_service = {}
    for name in names:
        found = scan.inventory(emulator.url, name)
        per_service[name] = {kind: len(items) for kind, items in found.items() if kind not in NOT_OWNED}
    # scan.py finds a rule by its owner tag; the baseline's rules (made by
    # elb_application_lb, which cannot tag rules) have none: count them here.
    untagged = listener_rules(emulator) - sum(kinds.get("listener rule", 0) for kinds in per_service.values())
    if untagged > 0:
        per_service["(untagged listener rules)"] = {"listener rule": untagged}
    shared = {kind: len(items) for kind, items in scan.shared_inventory(emulator.url).items()
              if not kind.startswith("tagged")}
    return per_service, shared


def bench_one(emulator, impl, n, workdir):
    emulator.reset()
    svcs = services(n)
    names = [name for name, _ in svcs]
    inventory = harness.make_inventory(harness_path(workdir, f"{impl}-{n}"), svcs)
    entry = {"impl": impl, "n": n, "phases": {}}
    for phase in PHASES:
        if phase not in PLAYBOOKS[impl]:
            continue
        playbook, extra = PLAYBOOKS[impl][phase]
        print(f"  {impl:10} N={n:<3} {phase:8} ...", end="", flush=True)
        result = run_phase(emulator, inventory, playbook, extra, impl)
        entry["phases"][phase] = result
        print(f" {result['wall_s']:7.1f} s wall {result['cpu_s']:7.1f} s CPU {result['reads']:5} reads "
              f"{result['writes']:5} writes changed={result['changed']} rc={result['rc']}", flush=True)
        if result["rc"]:
            print(f"    FAILED: {result.get('error', '')}", flush=True)
        if phase == "deploy":
            per_service, shared = owned_resources(emulator, names)
            entry["resources_per_service"] = per_service
            entry["shared_resources"] = shared
            entry["owned_resources"] = sum(sum(kinds.values()) for kinds in per_service.values())
            entry["shared_resource_count"] = sum(shared.values())
    left = {name: found for name in names if (found := {k: v for k, v in scan.inventory(emulator.url, name).items()
                                                        if k != "tagged"})}
    shared_left = {k: v for k, v in scan.shared_inventory(emulator.url).items()}
    entry["left_after_teardown"] = {"services": left, "shared": shared_left}
    return entry


def harness_path(workdir, name):
    """A directory for make_inventory (which takes a pathlib.Path)."""
    path = pathlib.Path(workdir) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def ratio(a, b):
    return round(a / b, 2) if b else None


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(entries):
    rows = ["| impl | N | phase | wall s | CPU s | CPU s/service | emulator CPU s | module tasks (services') "
            "| reads | writes | service reads | service reads/owned resource | changed | rc |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in entries:
        for phase in [ph for ph in PHASES if ph in e["phases"]]:
            p = e["phases"][phase]
            tasks = f"{p['module_tasks']} ({p['service_module_tasks']})" if "module_tasks" in p else "–"
            rows.append(f"| {e['impl']} | {e['n']} | {phase} | {fmt(p['wall_s'])} | {fmt(p['cpu_s'])} "
                        f"| {fmt(p['cpu_s'] / e['n'], 2)} | {fmt(p['emulator_cpu_s'])} | {tasks} | {p['reads']} | {p['writes']} "
                        f"| {p['service_reads']} | {fmt(ratio(p['service_reads'], e['owned_resources']), 2)} "
                        f"| {fmt(p['changed'])} | {p['rc']} |")
    return "\n".join(rows)


def ratio_table(entries):
    by = {(e["impl"], e["n"]): e for e in entries}
    rows = ["| impl | N | phase | wall | CPU | reads | writes |", "|---|---:|---|---:|---:|---:|---:|"]
    for (impl, n), e in sorted(by.items(), key=lambda kv: kv[0][1]):
        if impl == BASELINE or (BASELINE, n) not in by:
            continue
        b = by[(BASELINE, n)]
        for phase in PHASES:
            if phase not in e["phases"] or phase not in b["phases"]:
                continue
            c, r = e["phases"][phase], b["phases"][phase]
            rows.append(f"| {impl} | {n} | {phase} | {fmt(ratio(c['wall_s'], r['wall_s']), 2)} | {fmt(ratio(c['cpu_s'], r['cpu_s']), 2)} "
                        f"| {fmt(ratio(c['reads'], r['reads']), 2)} | {fmt(ratio(c['writes'], r['writes']), 2)} |")
    return "\n".join(rows)


def marginal(entries):
    """What each further service adds (the shared part costs the same for every N)."""
    by = {(e["impl"], e["n"]): e for e in entries}
    rows = ["| impl | phase | wall s | CPU s | reads | writes | reads/owned resource |", "|---|---|---:|---:|---:|---:|---:|"]
    for impl in PLAYBOOKS:
        ns = sorted(n for i, n in by if i == impl)
        if len(ns) < 2:
            continue
        lo, hi = by[(impl, ns[0])], by[(impl, ns[-1])]
        k = ns[-1] - ns[0]
        per_service_resources = (hi["owned_resources"] - lo["owned_resources"]) / k
        for phase in PHASES:
            if phase not in lo["phases"] or phase not in hi["phases"]:
                continue
            a, b = lo["phases"][phase], hi["phases"][phase]
            d_reads = (b["reads"] - a["reads"]) / k
            rows.append(f"| {impl} | {phase} | {fmt((b['wall_s'] - a['wall_s']) / k, 2)} | {fmt((b['cpu_s'] - a['cpu_s']) / k, 2)} "
                        f"| {fmt(d_reads)} | {fmt((b['writes'] - a['writes']) / k)} "
                        f"| {fmt(d_reads / per_service_resources if per_service_resources else None, 2)} |")
    return "\n".join(rows)


def goals(entries):
    """Issue 19's goals, measured (reported, never asserted)."""
    by = {(e["impl"], e["n"]): e for e in entries}
    lines = []

    def goal(text, met):
        lines.append(f"- {text} {'met' if met else 'MISSED'}")

    for (impl, n), e in sorted(by.items(), key=lambda kv: (kv[0][1], list(PLAYBOOKS).index(kv[0][0]))):
        if impl == BASELINE:
            continue
        phases, b = e["phases"], by.get((BASELINE, n))
        rerun = phases["rerun"]
        per_resource = ratio(rerun["service_reads"], e["owned_resources"])
        goal(f"{impl} N={n} no-op re-run: {rerun['writes']} writes (goal 0); the services' tasks made "
             f"{rerun['service_reads']} reads for {e['owned_resources']} owned resources = {fmt(per_resource, 2)} per "
             f"resource (goal ≤ 2; all plays: {fmt(ratio(rerun['reads'], e['owned_resources']), 2)})",
             rerun["writes"] == 0 and per_resource is not None and per_resource <= 2)
        wall_goal = 10 if n == 1 else 60 if n == 20 else None
        if wall_goal:
            goal(f"{impl} N={n} no-op re-run wall: {rerun['wall_s']:.1f} s (goal ≤ {wall_goal} s)", rerun["wall_s"] <= wall_goal)
        if "check" in phases:
            check = phases["check"]
            goal(f"{impl} N={n} --check --diff on the unchanged deploy: {check['wall_s']:.1f} s wall, {check['cpu_s']:.1f} "
                 f"CPU-s, {check['writes']} writes (goal ≤ the no-op re-run: {rerun['wall_s']:.1f} s, {rerun['cpu_s']:.1f} CPU-s)",
                 check["writes"] == 0 and check["cpu_s"] <= rerun["cpu_s"])
        if not b:
            continue
        bp = b["phases"]
        c_re, b_re = rerun["cpu_s"], bp["rerun"]["cpu_s"]
        if n == 1:
            goal(f"{impl} N=1 no-op re-run CPU: {c_re:.1f} s vs baseline {b_re:.1f} s ({ratio(c_re, b_re)}×, goal ≤ 0.3×)",
                 c_re <= 0.3 * b_re)
        c_cpu, b_cpu = phases["deploy"]["cpu_s"] / n, bp["deploy"]["cpu_s"] / n
        goal(f"{impl} N={n} fresh deploy CPU per service: {c_cpu:.2f} s vs baseline {b_cpu:.2f} s "
             f"({ratio(c_cpu, b_cpu)}×, goal ≤ 0.8×)", c_cpu <= 0.8 * b_cpu)
        c_td, b_td = phases["teardown"]["wall_s"], bp["teardown"]["wall_s"]
        goal(f"{impl} N={n} teardown wall: {c_td:.1f} s vs baseline {b_td:.1f} s ({ratio(c_td, b_td)}×, goal ≤ 1×)",
             c_td <= b_td)
    return "\n".join(lines)


def hotspots(entries, top=12):
    """The tasks that cost the most in the largest N's runs: CPU, calls by name."""
    out = []
    largest = {}
    for e in entries:
        if e["n"] >= largest.get(e["impl"], {"n": 0})["n"]:
            largest[e["impl"]] = e
    for impl, e in largest.items():
        for phase in ("deploy", "rerun"):
            tasks = sorted(e["phases"][phase]["tasks"], key=lambda t: -t["cpu_s"])[:top]
            if not tasks:
                continue
            out.append(f"{impl}, N={e['n']}, {phase}: the {len(tasks)} tasks with the most CPU\n")
            out.append("| task | action | hosts | CPU s | wall s | reads | writes | calls |")
            out.append("|---|---|---:|---:|---:|---:|---:|---|")
            for t in tasks:
                calls = ", ".join(f"{name} {n}" for name, n in sorted(t["calls"].items(), key=lambda kv: -kv[1])[:6])
                name = t["task"].replace("|", "\\|")  # role task names contain " | "
                out.append(f"| {name} | {t['action'].rsplit('.', 1)[-1]} | {t['hosts_ran']} | {t['cpu_s']:.1f} "
                           f"| {t['wall_s']:.1f} | {t['reads']} | {t['writes']} | {calls} |")
            out.append("")
    return "\n".join(out)


def report(entries):
    return "\n\n".join([
        "### Phases\n\n" + table(entries),
        "### Ratios to the baseline\n\n" + ratio_table(entries),
        "### What each further service adds\n\n" + marginal(entries),
        "### Goals\n\n" + goals(entries),
        "### Hotspots\n\n" + hotspots(entries),
    ])


def write_json(path, entries):
    if not path:
        return
    result = {
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "entries": entries,
        "markdown": report(entries),
    }
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2, sort_keys=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,20", help="comma-separated numbers of services (default 1,5,20)")
    parser.add_argument("--impl", default="collection,baseline", help="comma-separated: collection (linear strategy), mitogen (the collection with "
                        "mitogen_linear), baseline (default collection,baseline)")
    parser.add_argument("--skip-baseline", action="store_true", help="run the collection only (same as --impl collection)")
    parser.add_argument("--port", type=int, help="emulator port (default: a free one)")
    parser.add_argument("--json", help="also write everything (every call by name, per-task profiles) to this file")
    parser.add_argument("--report", nargs="+", metavar="JSON",
                        help="run nothing: print the tables of the runs saved in these --json files, combined")
    args = parser.parse_args(argv)
    if args.report:
        entries = []
        for path in args.report:
            with open(path) as fh:
                entries.extend(json.load(fh)["entries"])
        entries.sort(key=lambda e: (e["n"], list(PLAYBOOKS).index(e["impl"])))
        print(report(entries))
        return 0
    try:
        sizes = [int(n) for n in args.sizes.split(",")]
    except ValueError:
        sizes = []
    if not sizes or any(n < 1 for n in sizes):
        parser.error(f"--sizes: {args.sizes!r} is not a comma-separated list of positive numbers of services, e.g. 1,5,20")
    impls = [i.strip() for i in args.impl.split(",") if not (args.skip_baseline and i.strip() == "baseline")]
    for impl in impls:
        if impl not in PLAYBOOKS:
            parser.error(f"--impl: {impl!r} is not one of {', '.join(PLAYBOOKS)}")

    entries = []
    with tempfile.TemporaryDirectory(prefix="pocstack-bench-") as workdir:
        emulator = BenchEmulator(os.path.join(workdir, "emulator"), args.port)
        try:
            for n in sizes:
                for impl in impls:
                    entries.append(bench_one(emulator, impl, n, workdir))
                    # what is measured so far survives an interrupted run
                    write_json(args.json, entries)
        except KeyboardInterrupt:
            print("\ninterrupted: the report below covers the runs that finished", file=sys.stderr)
        finally:
            emulator.stop()

    print()
    print(report(entries))
    if args.json:
        write_json(args.json, entries)
        print(f"\nwritten to {args.json}")
    failed = [f"{e['impl']} N={e['n']} {p}" for e in entries for p, r in e["phases"].items() if r["rc"]]
    if failed:
        print("failed runs: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
