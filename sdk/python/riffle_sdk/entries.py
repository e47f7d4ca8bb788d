"""Entries: an AWS Lambda handler and a local HTTP server (127.0.0.1 only)."""

import json
import sys

from .registry import default_registry
from .server import make_server
from .wire import handle_request


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


def serve(port=0, registry=None, ready=None):
    """Serves ``registry`` on 127.0.0.1:``port`` (0: a free port) until interrupted.

    HTTP/1.1 with keep-alive (riffle_sdk/server.py): ``POST`` a request, get its response.

    Prints ``riffle_sdk: listening on http://127.0.0.1:PORT/`` on stderr once it
    accepts calls (and calls ``ready(server)`` when given), so a parent process can
    wait for it; stdout stays the functions' own.
    """
    server = make_server(port, registry or default_registry)
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
