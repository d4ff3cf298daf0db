"""Every molecule scenario (check → converge → idempotence → verify →
cleanup, as each molecule.yml orders them), each against an emulator of its
own, so that pytest-xdist can run them beside the other test modules.

The same as `molecule test --all --exclude ecr_image_docker` with
POCSTACK_EMULATOR_PORT set, scenario by scenario. ecr_image_docker needs a
Docker engine: `make test-container` runs it.
"""
import os
import pathlib
import subprocess
import sys

import pytest

from harness import Emulator

MOLECULE = os.path.join(os.path.dirname(sys.executable), "molecule")
ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    path.parent.name for path in (ROOT / "extensions" / "molecule").glob("*/molecule.yml")
    if path.parent.name != "ecr_image_docker"
)


def test_every_role_has_a_scenario():
    assert {"ecr_image", "ssm_secrets", "alb_tls", "fargate_service"} <= set(SCENARIOS)


# The whole product runs on the emulator's data plane: its task a container,
# the deploy waiting for it to be healthy, the teardown removing it.
DATA_PLANE = {"site"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario, tmp_path):
    if scenario in DATA_PLANE:
        from data_plane import data_plane_emulator

        emulator = data_plane_emulator(tmp_path / "emulator")
    else:
        emulator = Emulator(tmp_path / "emulator")
    env = {**os.environ, "POCSTACK_EMULATOR_PORT": str(emulator.port), "NO_COLOR": "1", "ANSIBLE_NOCOLOR": "1"}
    try:
        # molecule remembers a scenario as prepared across runs; forget that so
        # that its prepare empties the (new) emulator
        subprocess.run([MOLECULE, "reset", "-s", scenario], cwd=ROOT, env=env, capture_output=True, timeout=120)
        proc = subprocess.run([MOLECULE, "test", "-s", scenario], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=1800)
    finally:
        emulator.stop()
    assert proc.returncode == 0, failure_report(proc.stdout + proc.stderr)


def failure_report(output):
    """The failed tasks (each with the lines before it that name the task) and
    molecule's summary: the tail alone often shows only the cleanup."""
    lines = output.splitlines()
    failed = [i for i, line in enumerate(lines) if "fatal:" in line or "failed:" in line or "FAILED!" in line]
    parts = ["\n".join(lines[max(0, i - 8):i + 40]) for i in failed[:3]]
    return "\n...\n".join(parts + ["\n".join(lines[-25:])])
