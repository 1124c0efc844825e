"""A tiny HTTP server used to exercise the supervisor with real processes.

Usage: python toy_server.py PORT [--die-after SECONDS] [--spawn-child PIDFILE] [--never-healthy]
                            [--require-authorization VALUE]
"""

import argparse
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    healthy = True
    authorization: str | None = None  # the Authorization header required, if any

    def do_GET(self) -> None:
        if self.authorization is not None and (
            self.headers.get("Authorization") != self.authorization
        ):
            self.send_response(401)
        else:
            self.send_response(200 if self.healthy else 503)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--die-after", type=float)
    parser.add_argument("--spawn-child")
    parser.add_argument("--never-healthy", action="store_true")
    parser.add_argument("--require-authorization")
    args = parser.parse_args()
    if args.spawn_child:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(args.spawn_child, "w") as handle:
            handle.write(str(child.pid))
    _Handler.healthy = not args.never_healthy
    _Handler.authorization = args.require_authorization
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"toy server listening on {args.port}", flush=True)
    if args.die_after is not None:
        time.sleep(args.die_after)
        print("toy server crashing on purpose", flush=True)
        sys.exit(7)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
