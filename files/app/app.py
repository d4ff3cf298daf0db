"""The PoC: a Plotly Dash dashboard behind HTTP basic auth, with a public /health.

Configuration comes from the environment (ECS injects PLOTLY_USER and
PLOTLY_PASS from SSM SecureStrings). Served by gunicorn (`app:server`, see
gunicorn.conf.py), never by Dash's development server.
"""
import os
import secrets

import dash_auth
import math

import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

REQUIRED = {
    "PLOTLY_USER": "ECS injects it from the SSM parameter <prefix>/<service>/PLOTLY_USER",
    "PLOTLY_PASS": "ECS injects it from the SSM parameter <prefix>/<service>/PLOTLY_PASS",
}


WAVES = {
    "sine": lambda x, f: math.sin(f * x),
    "square": lambda x, f: 1.0 if math.sin(f * x) >= 0 else -1.0,
    "damped": lambda x, f: math.exp(-x / 3) * math.sin(f * x),
    "sawtooth": lambda x, f: (f * x / math.pi) % 2 - 1,
}


class ConfigError(RuntimeError):
    """A required environment variable is missing."""


def _require(environ, name):
    value = environ.get(name, "")
    if not value:
        raise ConfigError(f"{name} is not set: {REQUIRED[name]}; for a local run, export {name}.")
    return value


def create_app(environ=None):
    environ = os.environ if environ is None else environ
    user = _require(environ, "PLOTLY_USER")
    password = _require(environ, "PLOTLY_PASS")

    app = Dash(__name__, title="pocstack PoC")
    # A random key when none is given: sessions then last for one process,
    # which is all basic auth needs; never a key written in the code.
    app.server.secret_key = environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32)

    @app.server.route("/health")
    def health():
        # Public and cheap: the load balancer checks it every few seconds.
        return {"status": "ok"}

    # dash-auth 2.x guards Flask routes too, so /health must be public
    # explicitly or the load balancer would get 401 and never see a healthy target.
    dash_auth.BasicAuth(app, {user: password}, public_routes=["/health"])

    app.layout = html.Main(
        [
            html.H1("Signals"),
            dcc.Dropdown(sorted(WAVES), ["sine", "damped"], multi=True, id="waves"),
            dcc.Slider(1, 10, 1, value=3, id="frequency"),
            dcc.Graph(id="chart"),
        ]
    )

    @app.callback(Output("chart", "figure"), Input("waves", "value"), Input("frequency", "value"))
    def chart(selected, frequency):
        xs = [i / 100 for i in range(0, 629)]
        figure = go.Figure()
        for name in selected or []:
            figure.add_trace(go.Scatter(x=xs, y=[WAVES[name](x, frequency or 1) for x in xs], name=name))
        figure.update_layout(xaxis_title="t", yaxis_title="amplitude")
        return figure

    return app


if os.environ.get("POCSTACK_APP_NO_AUTOLOAD") != "1":
    app = create_app()
    server = app.server
