"""The PoC: a Plotly Dash dashboard behind HTTP basic auth, with a public /health.

Configuration comes from the environment; ECS injects PLOTLY_USER and
PLOTLY_PASS from SSM SecureStrings. gunicorn serves it (`app:server`, see
gunicorn.conf.py), never Dash's development server.

    PLOTLY_USER, PLOTLY_PASS  the first user allowed in (required)
    PLOTLY_USERS              more users, one JSON object {"name": "password", ...} (optional)
    FLASK_SECRET_KEY          Flask session key (random per process when unset)
"""
import hashlib
import hmac
import json
import math
import os
import random
import sys

import dash_auth
import plotly.graph_objects as go
from dash import Dash
from dash import Input
from dash import Output
from dash import dcc
from dash import html
from dash.exceptions import PreventUpdate
from dash_auth.public_routes import PUBLIC_ROUTES
from flask import request
from werkzeug.routing import Map
from werkzeug.routing import Rule

HERE = os.path.dirname(os.path.abspath(__file__))

HEALTH_PATH = "/health"

# Where each variable comes from, for the error when it is missing or wrong.
SOURCE = {
    name: f"ECS injects it from the SSM parameter /pocstack/<service>/{name}"
    for name in ("PLOTLY_USER", "PLOTLY_PASS", "PLOTLY_USERS")
}


class ConfigError(RuntimeError):
    """A required environment variable is missing, or one is malformed."""


def _require(environ, name):
    value = environ.get(name, "")
    if not value:
        raise ConfigError(f"{name} is not set: {SOURCE[name]}; for a local run export it")
    return value


def _users(environ):
    """{user: password}: PLOTLY_USER/PLOTLY_PASS plus the optional PLOTLY_USERS object.

    Errors name the variable and the expected shape, never a value (they are secrets).
    """
    users = {_require(environ, "PLOTLY_USER"): _require(environ, "PLOTLY_PASS")}
    raw = environ.get("PLOTLY_USERS", "")
    if not raw.strip():
        return users
    shape = 'a JSON object {"name": "password", ...}'
    try:
        more = json.loads(raw)
    except ValueError:
        raise ConfigError(f"PLOTLY_USERS is not valid JSON: expected {shape} ({SOURCE['PLOTLY_USERS']})") from None
    if not isinstance(more, dict):
        kind = {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(more), "number")
        raise ConfigError(f"PLOTLY_USERS must be {shape}, got a JSON {kind}")
    for number, (name, password) in enumerate(more.items(), start=1):
        # Basic auth sends "name:password": a name with ":" could never log in.
        if not name or ":" in name or not isinstance(password, str) or not password:
            raise ConfigError(
                f"PLOTLY_USERS entry {number}: names must be non-empty without ':', passwords non-empty strings"
            )
        if name in users and users[name] != password:
            raise ConfigError(f"PLOTLY_USERS entry {number} gives PLOTLY_USER another password; give each user one")
    users.update(more)
    return users


def _digest(text):
    return hashlib.sha256(text.encode()).digest()


def _series(name):
    """One generated data set: (x values, y values). No downloads, no files."""
    xs = [i / 10 for i in range(101)]  # 0 .. 10
    if name == "sine":
        return xs, [math.sin(x) for x in xs]
    if name == "damped":
        return xs, [math.exp(-x / 4) * math.cos(2 * x) for x in xs]
    if name == "logistic":
        return xs, [1 / (1 + math.exp(-(x - 5) * 1.5)) for x in xs]
    if name == "random-walk":
        rng = random.Random(42)  # the same walk on every worker and every request
        ys, y = [], 0.0
        for _ in xs:
            y += rng.gauss(0, 0.3)
            ys.append(y)
        return xs, ys
    raise KeyError(name)


def _smooth(ys, window):
    """Centred moving average over `window` points (1: unchanged)."""
    half = window // 2
    out = []
    for i in range(len(ys)):
        part = ys[max(0, i - half):i + half + 1]
        out.append(sum(part) / len(part))
    return out


DATASETS = {
    "sine": "Sine wave",
    "damped": "Damped oscillation",
    "logistic": "Logistic growth",
    "random-walk": "Random walk (seeded)",
}


class _BasicAuth(dash_auth.BasicAuth):
    """dash-auth's BasicAuth, answering 401 (not 500) to a malformed header."""

    def is_authorized(self):
        try:
            return super().is_authorized()
        except (IndexError, ValueError):  # no "Basic ", bad base64/UTF-8, no ":"
            return False


def create_app(environ=None):
    """Build the Dash app from `environ` (default: os.environ)."""
    environ = os.environ if environ is None else environ
    users = _users(environ)

    app = Dash(__name__, title="pocstack PoC", assets_folder=os.path.join(HERE, "assets"))
    server = app.server
    # Sessions only carry the logged-in user name, and basic auth re-checks the
    # credentials on every request, so a per-process random key is enough.
    server.secret_key = environ.get("FLASK_SECRET_KEY") or os.urandom(32)

    @server.route(HEALTH_PATH)
    def health():
        # Public and cheap: the load balancer checks it every few seconds.
        return {"status": "ok"}

    # dash-auth 2.x guards every Flask route, /health included. Its public
    # routes live in a werkzeug Map in server.config[PUBLIC_ROUTES]; we set that
    # Map to /health alone. (BasicAuth(public_routes=[...]) and
    # add_public_routes() would also make _dash-layout, _dash-dependencies and
    # the JS bundles public, which this app, having no public pages, does not need.)
    server.config[PUBLIC_ROUTES] = Map([Rule(HEALTH_PATH)]).bind("")

    # Compare digests of the same length: hmac.compare_digest is constant-time
    # only for equal lengths, and an unknown user costs as much as a known one.
    known = {name: _digest(password) for name, password in users.items()}
    unknown = _digest(os.urandom(16).hex())

    def check(username, given):
        return hmac.compare_digest(known.get(username, unknown), _digest(given))

    auth = _BasicAuth(app, auth_func=check)

    @server.before_request
    def callbacks_need_credentials():
        # dash-auth lets a callback through when its request body carries a
        # "pathname" input naming a public route (meant for public pages). The
        # body is the client's to write, so with /health public anyone could
        # run any callback that way. This app has no public pages: every
        # callback needs the credentials. (Runs after dash-auth's own check.)
        if request.path.endswith("/_dash-update-component") and not auth.is_authorized():
            return auth.login_request()
        return None

    app.layout = html.Main(
        [
            html.H1("Signals"),
            html.Label("Data set", htmlFor="dataset"),
            dcc.Dropdown(
                options=[{"label": label, "value": key} for key, label in DATASETS.items()],
                value="sine",
                clearable=False,
                id="dataset",
            ),
            html.Label("Smoothing (moving average, points)", htmlFor="smoothing"),
            dcc.Slider(min=1, max=15, step=2, value=1, id="smoothing"),
            dcc.Graph(id="chart"),
        ]
    )

    @app.callback(Output("chart", "figure"), Input("dataset", "value"), Input("smoothing", "value"))
    def chart(dataset, smoothing):
        if dataset not in DATASETS:
            raise PreventUpdate
        window = smoothing if isinstance(smoothing, int) and 1 <= smoothing <= 15 else 1
        xs, ys = _series(dataset)
        figure = go.Figure(go.Scatter(x=xs, y=ys, mode="lines", name="data", line={"color": "#b0b7c3"}))
        if window > 1:
            figure.add_trace(go.Scatter(x=xs, y=_smooth(ys, window), mode="lines", name=f"{window}-point average"))
        figure.update_layout(title=DATASETS[dataset], xaxis_title="t", yaxis_title="value", hovermode="x unified")
        return figure

    return app


def _create_or_exit():
    try:
        return create_app()
    except ConfigError as error:
        # One clear line instead of a traceback; gunicorn (preload_app) exits 1.
        print(f"app: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


# For gunicorn: `gunicorn -c gunicorn.conf.py app:server`. gunicorn.conf.py
# preloads the app in the master, so a missing or malformed variable stops the
# start before any worker is forked, with one line naming it.
app = _create_or_exit()
server = app.server
