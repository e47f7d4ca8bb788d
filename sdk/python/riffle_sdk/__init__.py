"""riffle's Python SDK: remote functions that riffle calls in batches.

Standard library only, so a module that uses it runs in the AWS Lambda Python
runtime as it is. Register functions with the decorators, then serve them with
``lambda_handler`` (on AWS Lambda) or ``serve`` (a local HTTP server on 127.0.0.1).

    from riffle_sdk import process

    @process("count")
    def count(key, state, value):
        n = (state or 0) + 1
        return n, [{"key": key, "count": n}]

Wire format: docs/REMOTE-FUNCTIONS.md (version 2).
"""

from .registry import Registry, flat_map, map_function, process, scalar, table, default_registry
from .wire import WIRE_VERSION, handle_request
from .entries import lambda_handler, make_lambda_handler, serve

__all__ = [
    "Registry",
    "WIRE_VERSION",
    "default_registry",
    "flat_map",
    "handle_request",
    "lambda_handler",
    "make_lambda_handler",
    "map_function",
    "process",
    "scalar",
    "serve",
    "table",
]
