#!/usr/bin/python3
"""Loopback test receiver for Sentry envelopes and OTLP/HTTP JSON traces.

Usage: receiver.py DIR NAME
Binds 127.0.0.1 on a free port, writes it to DIR/NAME.port and appends one
JSON line per POST (path, headers, body as text) to DIR/NAME.jsonl.  The
file DIR/NAME.mode switches behaviour per request: "ok" (default, 200),
"hang" (never answers: holds the connection until the process ends),
"sink" (200, but records only path and body size: cheap enough not to
compete with the server measured, bench/ab).
Stdlib only; stops on SIGTERM.
"""
import http.server
import json
import os
import signal
import sys
import threading
import time

DIR, NAME = sys.argv[1], sys.argv[2]
LOCK = threading.Lock()


def mode():
    try:
        with open(os.path.join(DIR, NAME + ".mode")) as f:
            return f.read().strip()
    except OSError:
        return "ok"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        m = mode()
        if m == "hang":
            while True:
                time.sleep(3600)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if m == "sink":
            rec = {"path": self.path, "bytes": len(raw)}
        else:
            rec = {"path": self.path, "headers": dict(self.headers.items()),
                   "body": raw.decode("utf-8", "replace")}
        with LOCK, open(os.path.join(DIR, NAME + ".jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        out = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
with open(os.path.join(DIR, NAME + ".port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, NAME + ".port.tmp"),
          os.path.join(DIR, NAME + ".port"))
srv.serve_forever()
