"""A stand-in web app for the data plane tests, on $PORT (8050):

    /health          $HEALTH_STATUS (200 unless set)
    /headers         the request's headers as JSON (what the load balancer added)
    /echo            the request body back (any method), with its length
    /sleep?s=N       answers after N seconds
    /close           closes the connection without an answer
    anything else    200 "<name> <path>", the name from $APP_NAME
"""
import http.server
import json
import os
import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

STATUS = int(os.environ.get("HEALTH_STATUS") or 200)
NAME = os.environ.get("APP_NAME") or "status"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)

    def answer(self, code, body, content_type="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        if url.path == "/health":
            return self.answer(STATUS, f"{STATUS}\n".encode())
        if url.path == "/headers":
            return self.answer(200, json.dumps({k.lower(): v for k, v in self.headers.items()}).encode(),
                               "application/json")
        if url.path == "/sleep":
            time.sleep(float(parse_qs(url.query).get("s", ["1"])[0]))
            return self.answer(200, b"slept\n")
        if url.path == "/close":
            self.close_connection = True
            return None
        if url.path == "/echo":
            return self.do_POST()
        return self.answer(200, f"{NAME} {url.path}\n".encode())

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return self.answer(200, body, self.headers.get("Content-Type") or "application/octet-stream")

    do_PUT = do_DELETE = do_PATCH = do_POST


if __name__ == "__main__":
    port = int(os.environ.get("PORT") or 8050)
    print(f"{NAME} on 0.0.0.0:{port}, /health answers {STATUS}", flush=True)
    http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
