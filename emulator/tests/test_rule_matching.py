"""Listener rule evaluation (elbv2/rules.py) against the ALB user guide's rules,
in both condition shapes moto stores (legacy Values, ...Config blocks)."""
import pytest

from pocstack_emulator.elbv2 import rules
from pocstack_emulator.elbv2.rules import Request


def req(path="/", method="GET", host="app.pocstack.localhost", query="", headers=(), source_ip="127.0.0.1"):
    return Request(method, path, query, [("Host", host), *headers], source_ip)


@pytest.mark.parametrize("condition, request_, expected", [
    # path-pattern: case sensitive, * and ?, the path only
    ({"Field": "path-pattern", "Values": ["/api/*"]}, req("/api/v1"), True),
    ({"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}, req("/API/v1"), False),
    ({"Field": "path-pattern", "Values": ["*"]}, req("/anything/at/all"), True),
    ({"Field": "path-pattern", "Values": ["/v?/x"]}, req("/v2/x"), True),
    ({"Field": "path-pattern", "Values": ["/v?/x"]}, req("/v10/x"), False),
    ({"Field": "path-pattern", "Values": ["/a", "/b"]}, req("/b"), True),
    ({"Field": "path-pattern", "Values": ["/search"]}, req("/search", query="q=1"), True),
    # host-header: case insensitive, wildcards, port removed
    ({"Field": "host-header", "Values": ["*.pocstack.localhost"]}, req(host="App.PocStack.LocalHost:8443"), True),
    ({"Field": "host-header", "HostHeaderConfig": {"Values": ["plotly.pocstack.localhost"]}},
     req(host="other.pocstack.localhost"), False),
    ({"Field": "host-header", "Values": ["???.example.com"]}, req(host="abc.example.com"), True),
    # http-request-method: exact and case sensitive
    ({"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}}, req(method="HEAD"), True),
    ({"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}, req(method="get"), False),
    # http-header: name and value case insensitive, wildcards, repeated headers
    ({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "User-Agent", "Values": ["*Mobile*"]}},
     req(headers=[("user-agent", "x mobile y")]), True),
    ({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["beta"]}},
     req(headers=[("X-Env", "prod"), ("X-Env", "BETA")]), True),
    ({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["beta"]}}, req(), False),
    # query-string: pairs, key optional, case insensitive, URL-decoded
    ({"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "version", "Value": "v2*"}]}},
     req(query="a=1&Version=V2.1"), True),
    ({"Field": "query-string", "QueryStringConfig": {"Values": [{"Value": "blue green"}]}},
     req(query="colour=blue%20green"), True),
    ({"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "a", "Value": "2"}]}}, req(query="a=1"), False),
    # source-ip: CIDR blocks
    ({"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.0/8"]}}, req(), True),
    ({"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8", "192.0.2.7/32"]}}, req(), False),
    # a field ALB does not know
    ({"Field": "cookie", "Values": ["x"]}, req(), False),
])
def test_condition(condition, request_, expected):
    assert rules.condition_matches(condition, request_) is expected


def test_conditions_are_anded_and_rules_go_by_priority():
    api = (20, [{"Field": "path-pattern", "Values": ["/api/*"]},
                {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["POST"]}}], ["api"])
    catch_all = (100, [{"Field": "path-pattern", "Values": ["*"]}], ["everything"])
    first = (5, [{"Field": "host-header", "Values": ["admin.*"]}], ["admin"])
    listed = [catch_all, api, first]  # given in any order
    assert rules.select(listed, ["default"], req("/api/x", method="POST")) == ["api"]
    assert rules.select(listed, ["default"], req("/api/x")) == ["everything"]  # GET: the api rule needs POST
    assert rules.select(listed, ["default"], req("/", host="admin.example.com")) == ["admin"]
    assert rules.select([api], ["default"], req("/elsewhere")) == ["default"]


@pytest.mark.parametrize("config, request_, protocol, port, expected", [
    # the HTTP -> HTTPS redirect this collection makes: everything else kept
    ({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}, req("/dash", query="a=1", host="x.example.com"),
     "HTTP", 80, "https://x.example.com/dash?a=1"),
    # ALB's defaults, with a non-default port kept in the URL
    ({}, req("/p", host="x.example.com:8080"), "HTTP", 8080, "http://x.example.com:8080/p"),
    ({"Host": "new.example.com", "Path": "/moved/#{path}", "Query": "from=#{host}", "Protocol": "#{protocol}",
      "Port": "#{port}"}, req("/a/b", host="old.example.com"), "HTTPS", 443, "https://new.example.com/moved/a/b?from=old.example.com"),
])
def test_redirect_location(config, request_, protocol, port, expected):
    assert rules.redirect_location(config, request_, protocol, port) == expected
