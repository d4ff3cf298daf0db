"""Helpers of the audit and secret leak tests: run the checkout's playbooks
against an emulator, read it with boto3, count its calls."""
import json
import os
import socket
import subprocess
import sys
import urllib.request

import boto3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAUNCHER = os.path.join(ROOT, "emulator", "pocstack-emulator")
BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def aws(emulator, name):
    return boto3.client(name, endpoint_url=emulator["url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def calls(emulator, reset=False):
    req = urllib.request.Request(emulator["url"] + "/_pocstack/calls" + ("/reset" if reset else ""),
                                 method="POST" if reset else "GET", data=b"" if reset else None)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


def ansible_playbook(emulator, *args, env=None, timeout=900):
    """ansible-playbook from the checkout with the local inventory, as a user runs it."""
    run_env = {**os.environ, "POCSTACK_EMULATOR_PORT": str(emulator["port"]),
               "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), **(env or {})}
    return subprocess.run([os.path.join(BIN, "ansible-playbook"), *args], cwd=ROOT, env=run_env,
                          capture_output=True, text=True, timeout=timeout)
