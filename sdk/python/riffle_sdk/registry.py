"""Function registry and decorators.

Each decorator registers a Python function under a name and a kind:

- ``process(name)``: keyed, ``fn(key, state, value) -> (new_state, outputs)``; riffle
  keeps the state (``None`` at first), so the function holds nothing between calls.
- ``map_function(name)``: stateless, ``fn(value) -> output``.
- ``flat_map(name)``: stateless, ``fn(value) -> iterable of outputs``.
- ``scalar(name)``: a SQL scalar UDF, ``fn(*args) -> value``; a record is the list of
  arguments.
- ``table(name)``: a SQL table UDF, ``fn(*args) -> iterable of rows``.

``map_function`` and ``scalar`` also take ``batch=True``: the function is then called
once per batch, vectorized (as PyFlink's ``udf(..., func_type="pandas")``), with the
batch's values as a list (``map``) or one list per argument (``scalar``), and returns a
list of as many results. If it raises, every record of the batch fails.
"""

from collections import namedtuple

KINDS = ("process", "map", "flatMap", "scalar", "table")
BATCH_KINDS = ("map", "scalar")

#: A registered function: its kind, the callable, and whether it takes whole batches.
Entry = namedtuple("Entry", ["kind", "fn", "batch"])


class Registry:
    """Functions by name, each with its kind."""

    def __init__(self):
        self._functions = {}

    def register(self, name, kind, fn, batch=False):
        if kind not in KINDS:
            raise ValueError("unknown function kind %r (one of %s)" % (kind, ", ".join(KINDS)))
        if batch and kind not in BATCH_KINDS:
            raise ValueError("a %s function cannot take batches (only %s)" % (kind, ", ".join(BATCH_KINDS)))
        if not isinstance(name, str) or not name:
            raise ValueError("a function needs a non-empty name")
        if name in self._functions:
            raise ValueError("function %r is registered twice" % name)
        self._functions[name] = Entry(kind, fn, bool(batch))
        return fn

    def lookup(self, name):
        """The :class:`Entry` (kind, fn, batch) of ``name``; KeyError when there is none."""
        return self._functions[name]

    def names(self):
        return sorted(self._functions)

    def decorator(self, kind, name=None, batch=False):
        def wrap(fn):
            return self.register(name or fn.__name__, kind, fn, batch)

        return wrap


default_registry = Registry()


def _decorator(kind):
    def make(name=None, registry=None, batch=False):
        reg = registry or default_registry
        if callable(name):  # used bare: @map_function
            return reg.register(name.__name__, kind, name)
        return reg.decorator(kind, name, batch)

    return make


process = _decorator("process")
map_function = _decorator("map")
flat_map = _decorator("flatMap")
scalar = _decorator("scalar")
table = _decorator("table")
