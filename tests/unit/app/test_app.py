"""The PoC app (files/app): auth, public health check, clear config errors, real gunicorn."""
import base64
import importlib.util
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

APP_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "files", "app"))
USER, PASSWORD = "alice", "correct horse"
ENV = {"PLOTLY_USER": USER, "PLOTLY_PASS": PASSWORD}
_counter = itertools.count()


def load_file(monkeypatch, filename, env, cleared):
    """Execute files/app/<filename> afresh with `env` set and `cleared` unset.

    A unique module name and no sys.modules entry: no module caching between
    tests, whatever environment each one uses.
    """
    for name in cleared:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(f"poc_{next(_counter)}", os.path.join(APP_DIR, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_app_module(monkeypatch, env):
    return load_file(monkeypatch, "app.py", env, ("PLOTLY_USER", "PLOTLY_PASS", "PLOTLY_USERS", "FLASK_SECRET_KEY"))


@pytest.fixture
def app_module(monkeypatch):
    return load_app_module(monkeypatch, ENV)


@pytest.fixture
def client(app_module):
    return app_module.server.test_client()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


RIGHT = basic(USER, PASSWORD)


def callback_body(dataset="damped", prop="value", smoothing=1):
    return {
        "output": "chart.figure",
        "outputs": {"id": "chart", "property": "figure"},
        "inputs": [
            {"id": "dataset", "property": prop, "value": dataset},
            {"id": "smoothing", "property": "value", "value": smoothing},
        ],
        "changedPropIds": ["dataset.value"],
    }


def test_module_exposes_server_for_gunicorn(app_module):
    assert app_module.server is app_module.app.server


def test_health_is_public(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in resp.headers


def test_page_needs_credentials(client):
    resp = client.get("/")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("headers", [
    basic(USER, "wrong"),
    basic("mallory", PASSWORD),
    basic(USER, ""),
    {"Authorization": "Bearer abc"},
    {"Authorization": "Basic not-base64!"},
    {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
], ids=["wrong-pass", "wrong-user", "empty-pass", "bearer", "bad-base64", "no-colon"])
def test_wrong_credentials_rejected(client, headers):
    assert client.get("/", headers=headers).status_code == 401


def test_right_credentials_accepted(client):
    resp = client.get("/", headers=RIGHT)
    assert resp.status_code == 200
    assert b"pocstack PoC" in resp.data


@pytest.mark.parametrize("path", ["/_dash-layout", "/_dash-dependencies", "/some/page"])
def test_dash_routes_need_credentials(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers=RIGHT).status_code == 200


def test_layout_with_credentials(client):
    assert b"Signals" in client.get("/_dash-layout", headers=RIGHT).data


def test_callback_needs_credentials(client):
    assert client.post("/_dash-update-component", json=callback_body()).status_code == 401
    resp = client.post("/_dash-update-component", json=callback_body(), headers=RIGHT)
    assert resp.status_code == 200
    figure = resp.get_json()["response"]["chart"]["figure"]
    assert figure["data"][0]["type"] == "scatter"
    assert figure["layout"]["title"]["text"] == "Damped oscillation"
    assert len(figure["data"][0]["y"]) == len(figure["data"][0]["x"]) > 10


def test_callback_with_spoofed_pathname_needs_credentials(client):
    # dash-auth alone would run this callback: a "pathname" input naming a public route.
    body = callback_body(dataset="/health", prop="pathname")
    assert client.post("/_dash-update-component", json=body).status_code == 401


@pytest.mark.parametrize("dataset", ["sine", "damped", "logistic", "random-walk"])
def test_every_dataset_charts(client, dataset):
    resp = client.post("/_dash-update-component", json=callback_body(dataset), headers=RIGHT)
    assert resp.status_code == 200


def test_smoothing_adds_a_moving_average(client):
    resp = client.post("/_dash-update-component", json=callback_body("random-walk", smoothing=5), headers=RIGHT)
    data, average = resp.get_json()["response"]["chart"]["figure"]["data"]
    assert average["name"] == "5-point average"
    assert average["x"] == data["x"]
    # Centred window of 5 points: element 10 averages elements 8..12.
    assert average["y"][10] == pytest.approx(sum(data["y"][8:13]) / 5)
    assert average["y"] != data["y"]


@pytest.mark.parametrize("smoothing", [1, None, 99, "x"])
def test_no_or_bad_smoothing_is_the_raw_series(client, smoothing):
    resp = client.post("/_dash-update-component", json=callback_body("sine", smoothing=smoothing), headers=RIGHT)
    assert [t["name"] for t in resp.get_json()["response"]["chart"]["figure"]["data"]] == ["data"]


def test_unknown_dataset_is_no_update(client):
    resp = client.post("/_dash-update-component", json=callback_body("nope"), headers=RIGHT)
    assert resp.status_code == 204


@pytest.mark.parametrize("missing", ["PLOTLY_USER", "PLOTLY_PASS"])
def test_missing_variable_is_a_clear_error(app_module, missing):
    env = {k: v for k, v in ENV.items() if k != missing}
    message = (f"{missing} is not set: ECS injects it from the SSM parameter "
               f"/pocstack/<service>/{missing}; for a local run export it")
    with pytest.raises(app_module.ConfigError) as err:
        app_module.create_app(env)
    assert str(err.value) == message
    with pytest.raises(app_module.ConfigError, match=f"^{missing} is not set"):
        app_module.create_app({**env, missing: ""})


def test_missing_variable_stops_the_import_with_one_line(monkeypatch, capsys):
    with pytest.raises(SystemExit) as stop:
        load_app_module(monkeypatch, {"PLOTLY_USER": USER})
    assert stop.value.code == 1
    assert capsys.readouterr().err == (
        "app: PLOTLY_PASS is not set: ECS injects it from the SSM parameter "
        "/pocstack/<service>/PLOTLY_PASS; for a local run export it\n"
    )


MORE = {"bob": "b0b's pass", "carol": "c:a:r:o:l"}


def test_more_users_from_one_json_variable(monkeypatch):
    import json
    client = load_app_module(monkeypatch, {**ENV, "PLOTLY_USERS": json.dumps(MORE)}).server.test_client()
    for user, password in [(USER, PASSWORD), *MORE.items()]:
        assert client.get("/", headers=basic(user, password)).status_code == 200, user
    # Each user only with their own password.
    assert client.get("/", headers=basic("bob", MORE["carol"])).status_code == 401
    assert client.get("/", headers=basic("carol", PASSWORD)).status_code == 401
    assert client.get("/", headers=basic("dave", "")).status_code == 401


def test_same_user_same_password_in_both_is_fine(app_module):
    import json
    app = app_module.create_app({**ENV, "PLOTLY_USERS": json.dumps({USER: PASSWORD})})
    assert app.server.test_client().get("/", headers=RIGHT).status_code == 200


SECRET = "Zq9-s3cret"  # a password that must never show in an error


@pytest.mark.parametrize("value, message", [
    ('{"bob": "Zq9-s3cret"', "PLOTLY_USERS is not valid JSON: expected a JSON object"),
    ('["bob", "Zq9-s3cret"]', 'PLOTLY_USERS must be a JSON object {"name": "password", ...}, got a JSON array'),
    ('"bob:Zq9-s3cret"', "got a JSON string"),
    ('{"bob": ""}', "PLOTLY_USERS entry 1: names must be non-empty without ':'"),
    ('{"bob": "Zq9-s3cret", "": "Zq9-s3cret"}', "PLOTLY_USERS entry 2: names must be non-empty"),
    ('{"b:ob": "Zq9-s3cret"}', "PLOTLY_USERS entry 1: names must be non-empty without ':'"),
    ('{"bob": 12345}', "PLOTLY_USERS entry 1"),
    ('{"alice": "Zq9-s3cret"}', "PLOTLY_USERS entry 1 gives PLOTLY_USER another password"),
], ids=["not-json", "array", "string", "empty-pass", "empty-name", "colon", "number", "clash"])
def test_malformed_users_variable_is_a_clear_error(app_module, value, message):
    with pytest.raises(app_module.ConfigError) as err:
        app_module.create_app({**ENV, "PLOTLY_USERS": value})
    assert message in str(err.value)
    assert SECRET not in str(err.value) and "12345" not in str(err.value)


def test_blank_users_variable_is_no_extra_user(app_module):
    app = app_module.create_app({**ENV, "PLOTLY_USERS": "  "})
    assert app.server.test_client().get("/", headers=RIGHT).status_code == 200


def test_secret_key_from_env_or_random(app_module):
    assert app_module.create_app({**ENV, "FLASK_SECRET_KEY": "k" * 32}).server.secret_key == "k" * 32
    first = app_module.create_app(dict(ENV)).server.secret_key
    second = app_module.create_app(dict(ENV)).server.secret_key
    assert isinstance(first, bytes) and len(first) >= 32
    assert first != second


# --- real HTTP through gunicorn ---------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def gunicorn(env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PLOTLY_USER", "PLOTLY_PASS", "PLOTLY_USERS", "FLASK_SECRET_KEY", "BIND", "HOST", "PORT")
             and not k.startswith("GUNICORN_")}
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
        cwd=APP_DIR, env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    return proc.communicate()[0].decode(errors="replace")


def test_gunicorn_serves_and_stops_on_sigterm():
    port = free_port()
    # HOST keeps the test off 0.0.0.0; PORT goes through the config's HOST:PORT path.
    proc = gunicorn({**ENV, "HOST": "127.0.0.1", "PORT": str(port), "GUNICORN_WORKERS": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, stop(proc)
            try:
                status, body = get(base + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "gunicorn did not answer within 20 s"
                time.sleep(0.1)
        assert (status, body) == (200, b'{"status":"ok"}\n')
        assert get(base + "/")[0] == 401
        assert get(base + "/", basic(USER, "wrong"))[0] == 401
        assert get(base + "/_dash-layout")[0] == 401
        status, body = get(base + "/", RIGHT)
        assert status == 200 and b"pocstack PoC" in body

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        output = stop(proc)
    assert f"Listening at: http://127.0.0.1:{port}" in output
    assert '"GET /health HTTP/1.1" 200' in output  # access log on stdout


def worker_connections(master_pid, port):
    """{worker pid: established connections to `port` it holds}, from /proc."""
    inodes = set()
    with open("/proc/net/tcp") as fh:
        next(fh)
        for line in fh:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if int(fh.read().rsplit(")", 1)[1].split()[1]) != master_pid:
                    continue
            found[int(pid)] = sum(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc")
def test_connections_opened_at_once_reach_every_worker():
    """A load balancer opens its connections to a task at once; with one shared
    listening socket the awake worker took them all (a third of the throughput,
    bench/app/README.md). reuse_port gives each worker its own socket."""
    port = free_port()
    proc = gunicorn({**ENV, "BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"})
    try:
        deadline = time.monotonic() + 20
        while len(worker_connections(proc.pid, port)) < 2 or get(f"http://127.0.0.1:{port}/health")[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline, stop(proc)
            time.sleep(0.2)
        for burst in range(3):
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
            try:
                for client in clients:
                    client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                for client in clients:
                    assert client.recv(4096).startswith(b"HTTP/1.1 200")
                spread = worker_connections(proc.pid, port)
                assert sum(spread.values()) == 16 and all(spread.values()), spread
            finally:
                for client in clients:
                    client.close()
    finally:
        output = stop(proc)
    assert f"Listening at: http://127.0.0.1:{port} (a socket per worker" in output


def test_gunicorn_refuses_to_start_without_credentials():
    proc = gunicorn({"PLOTLY_USER": USER, "BIND": f"127.0.0.1:{free_port()}"})
    try:
        assert proc.wait(timeout=20) == 1
    finally:
        output = stop(proc)
    # Preloaded in the master: one line, no traceback, no worker ever booted.
    assert "app: PLOTLY_PASS is not set: ECS injects it from the SSM parameter" in output
    assert "Traceback" not in output and "Booting worker" not in output


def test_gunicorn_config_defaults_and_overrides(monkeypatch):
    def load(env):
        cleared = ("BIND", "HOST", "PORT", "GUNICORN_WORKERS", "GUNICORN_THREADS",
                   "GUNICORN_TIMEOUT", "GUNICORN_GRACEFUL_TIMEOUT")
        return load_file(monkeypatch, "gunicorn.conf.py", env, cleared)

    conf = load({})
    assert (conf.bind, conf.workers, conf.threads, conf.timeout) == ("0.0.0.0:8050", 2, 4, 30)
    assert 0 < conf.graceful_timeout < 30 and conf.accesslog == "-"
    assert conf.preload_app is True and conf.reuse_port is True
    conf = load({"PORT": "9000", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "8", "GUNICORN_TIMEOUT": "60"})
    assert (conf.bind, conf.workers, conf.threads, conf.timeout) == ("0.0.0.0:9000", 3, 8, 60)
    assert load({"BIND": "127.0.0.1:1234", "PORT": "9000"}).bind == "127.0.0.1:1234"
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS must be a whole number"):
        load({"GUNICORN_WORKERS": "two"})


def read_pins(filename):
    pins = {}
    with open(os.path.join(APP_DIR, filename)) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                name, _, pinned = line.partition("==")
                assert pinned, f"{filename}: not pinned with ==: {line}"
                pins[name.lower().replace("_", "-")] = pinned
    return pins


def test_image_lock_pins_the_direct_requirements():
    direct, locked = read_pins("requirements.txt"), read_pins("requirements.lock")
    assert {name: locked.get(name) for name in direct} == direct


def test_requirements_pin_what_is_installed():
    from importlib.metadata import version
    pins = {}
    with open(os.path.join(APP_DIR, "requirements.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                name, _, pinned = line.partition("==")
                assert pinned, f"not pinned with ==: {line}"
                pins[name.lower()] = pinned
    assert {"dash", "dash-auth", "flask", "gunicorn", "plotly", "werkzeug"} <= set(pins)
    for name, pinned in pins.items():
        assert version(name) == pinned, name
