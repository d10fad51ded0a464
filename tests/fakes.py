"""A scripted HTTP server on 127.0.0.1 for provider tests: each request pops the next (status, body) answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedServer:
    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes]] = []
        self.requests: list[tuple[str, Any]] = []
        self.url = ""


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    script = ScriptedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            script.requests.append((self.path, self.headers))  # case-insensitive, as HTTP headers are
            status, body = script.answers.pop(0) if script.answers else (500, b"{}")
            if status == 0:  # hang past the client's timeout
                threading.Event().wait(1.0)
                status, body = 200, b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield script
    finally:
        server.shutdown()


def run_at_once(checks, now) -> None:  # type: ignore[no-untyped-def]
    """Start every check's run on its own thread at the same moment (a barrier), and wait for all."""
    barrier = threading.Barrier(len(checks))

    def run(check):  # type: ignore[no-untyped-def]
        barrier.wait()
        check.run(now)

    threads = [threading.Thread(target=run, args=(check,)) for check in checks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
