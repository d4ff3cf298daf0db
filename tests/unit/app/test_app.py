"""The PoC app: auth, public health check, clear config errors, real gunicorn."""
import base64
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

APP_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "files", "app")
ENV = {"PLOTLY_USER": "alice", "PLOTLY_PASS": "correct horse"}


def load_app_module():
    os.environ["POCSTACK_APP_NO_AUTOLOAD"] = "1"
    spec = importlib.util.spec_from_file_location("poc_app", os.path.join(APP_DIR, "app.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def app_module():
    return load_app_module()


@pytest.fixture
def client(app_module):
    return app_module.create_app(dict(ENV)).server.test_client()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_health_is_public(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


CALLBACK = {
    "output": "chart.figure",
    "outputs": {"id": "chart", "property": "figure"},
    "inputs": [{"id": "waves", "property": "value", "value": ["sine"]},
               {"id": "frequency", "property": "value", "value": 2}],
    "changedPropIds": ["waves.value"],
}


def test_page_needs_credentials(client):
    assert client.get("/").status_code == 401


def test_chart_data_needs_credentials(client):
    # dash-auth leaves Dash's static mechanics (_dash-layout, scripts) public by
    # design; the data flows through callbacks, which must be protected.
    assert client.post("/_dash-update-component", json=CALLBACK).status_code == 401
    resp = client.post("/_dash-update-component", json=CALLBACK, headers=basic("alice", "correct horse"))
    assert resp.status_code == 200
    assert b"scatter" in resp.data


def test_wrong_credentials_rejected(client):
    assert client.get("/", headers=basic("alice", "wrong")).status_code == 401
    assert client.get("/", headers=basic("mallory", "correct horse")).status_code == 401


def test_right_credentials_accepted(client):
    resp = client.get("/", headers=basic("alice", "correct horse"))
    assert resp.status_code == 200
    assert b"Signals" in client.get("/_dash-layout", headers=basic("alice", "correct horse")).data


@pytest.mark.parametrize("missing", ["PLOTLY_USER", "PLOTLY_PASS"])
def test_missing_variable_is_a_clear_error(app_module, missing):
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(app_module.ConfigError, match=f"{missing} is not set: ECS injects it from the SSM parameter"):
        app_module.create_app(env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_gunicorn_serves_and_stops_on_sigterm():
    port = free_port()
    env = {**os.environ, **ENV, "BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"}
    env.pop("POCSTACK_APP_NO_AUTOLOAD", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
        cwd=APP_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get(base + "/health") == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert get(base + "/health") == 200
        assert get(base + "/") == 401
        assert get(base + "/", basic("alice", "wrong")) == 401
        assert get(base + "/", basic("alice", "correct horse")) == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
