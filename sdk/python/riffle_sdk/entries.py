"""Entries: an AWS Lambda handler and a local HTTP server (127.0.0.1 only)."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .registry import default_registry
from .wire import WireError, handle_request


def make_lambda_handler(registry=None):
    """A Lambda handler over ``registry``: the event is the request, the return value the response.

    A request out of contract raises, so Lambda reports a function error and riffle
    retries the batch (and then fails its records) rather than taking a bad answer.
    """
    reg = registry or default_registry

    def handler(event, _context=None):
        if isinstance(event, (str, bytes)):
            event = json.loads(event)
        return handle_request(event, reg)

    return handler


lambda_handler = make_lambda_handler()


class _Handler(BaseHTTPRequestHandler):
    registry = default_registry
    # Keep-alive: riffle sends batch after batch on one connection (every answer has a content-length).
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: without it a small answer waits for the client's delayed ACK (40 ms on Linux) on every call.
    disable_nagle_algorithm = True

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        try:
            request = json.loads(self.rfile.read(length))
            body, status = _dumps(handle_request(request, self.registry)), b"200 OK"
        except (WireError, ValueError) as e:
            body, status = _dumps({"error": str(e)}), b"400 Bad Request"
        except Exception as e:  # the function crashed outside a record
            body, status = _dumps({"error": "%s: %s" % (type(e).__name__, e)}), b"500 Internal Server Error"
        # The status line, headers and body in one write: one segment for a small answer.
        head = b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % (status, len(body))
        self.wfile.write(head + body)

    def log_message(self, *_args):
        pass


def _dumps(value):
    return json.dumps(value, separators=(",", ":")).encode()


def serve(port=0, registry=None, ready=None):
    """Serves ``registry`` on 127.0.0.1:``port`` (0: a free port) until interrupted.

    Prints ``riffle_sdk: listening on http://127.0.0.1:PORT/`` on stderr once it
    accepts calls (and calls ``ready(server)`` when given), so a parent process can
    wait for it; stdout stays the functions' own.
    """
    handler = type("Handler", (_Handler,), {"registry": registry or default_registry})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    print("riffle_sdk: listening on http://127.0.0.1:%d/" % server.server_address[1], file=sys.stderr, flush=True)
    if ready:
        ready(server)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv=None):
    """``python3 -m riffle_sdk MODULE [PORT]``: imports MODULE (its decorators register) and serves it."""
    import importlib

    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print("usage: python3 -m riffle_sdk MODULE [PORT]", file=sys.stderr)
        return 2
    importlib.import_module(args[0])
    serve(int(args[1]) if len(args) > 1 else 0)
    return 0
