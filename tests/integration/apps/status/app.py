"""A stand-in web app: / answers 200, /health answers $HEALTH_STATUS (200)."""
import http.server
import os

STATUS = int(os.environ.get("HEALTH_STATUS") or 200)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        code = STATUS if self.path == "/health" else 200
        body = f"{code}\n".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(os.environ.get("PORT") or 8050)
    print(f"status app on 0.0.0.0:{port}, /health answers {STATUS}", flush=True)
    http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
