#!/usr/bin/env python3
"""The emulator's load balancer listener (emulator/pocstack_emulator/elbv2/
listeners.py) alone, in front of one target, for bench.py: one HTTP listener
on 127.0.0.1:LISTEN whose default action forwards to 127.0.0.1:TARGET, a
healthy target. Runs until killed.

    python bench/app/alb_front.py LISTEN TARGET
"""
import os
import sys
import threading
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "emulator"))

from pocstack_emulator.elbv2.listeners import ListenerServer  # noqa: E402

GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/bench/0123456789abcdef"


def main():
    listen, target = int(sys.argv[1]), int(sys.argv[2])
    snapshot = types.SimpleNamespace(
        protocol="HTTP", port=80, rules=[], local_ports={80: listen}, idle_timeout=60.0,
        default_actions=[{"Type": "forward", "TargetGroupArn": GROUP}],
        groups={GROUP: [(("127.0.0.1", target), "healthy")]})
    plane = types.SimpleNamespace(listeners=types.SimpleNamespace(snapshot=lambda arn: snapshot))
    ListenerServer(plane, "bench", listen)
    print(f"listening on 127.0.0.1:{listen}, forwarding to 127.0.0.1:{target}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
