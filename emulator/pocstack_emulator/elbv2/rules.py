"""Listener rules as an Application Load Balancer evaluates them (pure logic).

The ALB data plane (listeners serving HTTP on loopback) asks `select(rules,
request)` which rule's actions answer a request. After the ELB user guide
("Listener rules for your Application Load Balancer", "Rule condition types"):

- rules are evaluated in priority order, lowest number first; the default
  rule (the listener's default actions) last;
- a rule matches when every one of its conditions matches (AND); a condition
  matches when any one of its values matches (OR);
- host-header: the host name of the Host header (port removed), case
  insensitive, wildcards `*` (any characters) and `?` (one);
- path-pattern: the URL's path (no query string), case sensitive, `*` and `?`;
- http-header: the named header (name case insensitive); the value case
  insensitive with `*` and `?`; a header sent several times matches if any
  of its values does;
- http-request-method: the method, case sensitive, exact;
- query-string: key/value pairs, case insensitive, `*` and `?` in both; a
  pair without a key matches any parameter's value; compared URL-decoded;
- source-ip: the client's address within any of the CIDR blocks.

Conditions come in moto's stored shape, which is what the caller sent: the
legacy `Values` list next to `Field`, or the `...Config` blocks.
"""
import ipaddress
import re
from urllib.parse import parse_qsl


class Request:
    """What rule conditions look at."""

    def __init__(self, method, path, query="", headers=None, source_ip="127.0.0.1"):
        self.method = method
        self.path = path
        self.query = query
        # [(name lower-cased, value)] in order; a header may repeat
        self.headers = [(k.lower(), v) for k, v in (headers or [])]
        self.source_ip = source_ip

    @property
    def host(self):
        value = next((v for k, v in self.headers if k == "host"), "")
        if value.startswith("["):  # [IPv6]:port
            return value.split("]", 1)[0] + "]"
        return value.rsplit(":", 1)[0] if value.count(":") == 1 else value

    def header_values(self, name):
        return [v for k, v in self.headers if k == name.lower()]


def wildcard(pattern, value, ignore_case):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _values(condition, config_key, inner_key="Values"):
    config = condition.get(config_key)
    if isinstance(config, dict) and config.get(inner_key) is not None:
        return config[inner_key]
    return condition.get("Values") or []


def condition_matches(condition, request):
    field = condition.get("Field")
    if field == "host-header":
        return any(wildcard(v, request.host, True) for v in _values(condition, "HostHeaderConfig"))
    if field == "path-pattern":
        return any(wildcard(v, request.path, False) for v in _values(condition, "PathPatternConfig"))
    if field == "http-request-method":
        return request.method in _values(condition, "HttpRequestMethodConfig")
    if field == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        sent = request.header_values(config.get("HttpHeaderName", ""))
        return any(wildcard(v, s, True) for v in config.get("Values") or [] for s in sent)
    if field == "query-string":
        pairs = parse_qsl(request.query, keep_blank_values=True)
        wanted = (condition.get("QueryStringConfig") or {}).get("Values") or []
        return any(
            (w.get("Key") is None or wildcard(w["Key"], key, True)) and wildcard(w.get("Value", ""), value, True)
            for w in wanted for key, value in pairs
        )
    if field == "source-ip":
        address = ipaddress.ip_address(request.source_ip)
        return any(address in ipaddress.ip_network(v, strict=False)
                   for v in _values(condition, "SourceIpConfig"))
    return False  # a field ALB does not know never matches


def rule_matches(conditions, request):
    return all(condition_matches(c, request) for c in conditions)


def select(rules, default_actions, request):
    """The actions that answer `request`: those of the first matching rule in
    priority order, else the default actions. `rules`: [(priority, conditions,
    actions)] (priority an int; the default rule left out)."""
    for _priority, conditions, actions in sorted(rules, key=lambda r: int(r[0])):
        if rule_matches(conditions, request):
            return actions
    return default_actions


_PLACEHOLDER = re.compile(r"#\{(host|path|port|query|protocol)\}")


def redirect_location(config, request, protocol, port):
    """The Location of a redirect action: its fields with the placeholders
    #{protocol}, #{host}, #{port}, #{path} and #{query} replaced by the
    request's (the path without its leading '/', as ALB does in Path's
    default '/#{path}'); an unchanged port is left out of the URL."""
    values = {"protocol": protocol.lower(), "host": request.host, "port": str(port),
              "path": request.path.lstrip("/"), "query": request.query}

    def fill(text):
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

    scheme = fill(config.get("Protocol", "#{protocol}")).lower()
    host = fill(config.get("Host", "#{host}"))
    to_port = fill(config.get("Port", "#{port}"))
    path = fill(config.get("Path", "/#{path}"))
    query = fill(config.get("Query", "#{query}"))
    default_port = {"http": "80", "https": "443"}.get(scheme)
    netloc = host if to_port == default_port else f"{host}:{to_port}"
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
