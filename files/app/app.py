"""The PoC: a Plotly Dash dashboard behind HTTP basic auth, with a public /health.

Configuration comes from the environment; ECS injects PLOTLY_USER and
PLOTLY_PASS from SSM SecureStrings. gunicorn serves it (`app:server`, see
gunicorn.conf.py), never Dash's development server.

    PLOTLY_USER, PLOTLY_PASS  the one user allowed in (required)
    FLASK_SECRET_KEY          Flask session key (random per process when unset)
"""
import hmac
import math
import os
import random

import dash_auth
import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html
from dash.exceptions import PreventUpdate
from dash_auth.public_routes import PUBLIC_ROUTES
from flask import request
from werkzeug.routing import Map, Rule

HERE = os.path.dirname(os.path.abspath(__file__))

HEALTH_PATH = "/health"

# Where each required variable comes from, for the error when it is missing.
REQUIRED = {
    name: f"ECS injects it from the SSM parameter /pocstack/<service>/{name}"
    for name in ("PLOTLY_USER", "PLOTLY_PASS")
}


class ConfigError(RuntimeError):
    """A required environment variable is missing."""


def _require(environ, name):
    value = environ.get(name, "")
    if not value:
        raise ConfigError(f"{name} is not set: {REQUIRED[name]}; for a local run export it")
    return value


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
    user = _require(environ, "PLOTLY_USER")
    password = _require(environ, "PLOTLY_PASS")

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

    def check(username, given):
        # Constant-time comparisons, both always evaluated.
        ok_user = hmac.compare_digest(username.encode(), user.encode())
        ok_pass = hmac.compare_digest(given.encode(), password.encode())
        return ok_user and ok_pass

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
            dcc.Graph(id="chart"),
        ]
    )

    @app.callback(Output("chart", "figure"), Input("dataset", "value"))
    def chart(dataset):
        if dataset not in DATASETS:
            raise PreventUpdate
        xs, ys = _series(dataset)
        figure = go.Figure(go.Scatter(x=xs, y=ys, mode="lines", name=DATASETS[dataset]))
        figure.update_layout(title=DATASETS[dataset], xaxis_title="t", yaxis_title="value")
        return figure

    return app


# For gunicorn: `gunicorn -c gunicorn.conf.py app:server`. A missing variable
# stops the import (and so the worker's boot) with ConfigError naming it.
app = create_app()
server = app.server
