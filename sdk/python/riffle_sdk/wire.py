"""Answers one wire-format request (version 2, docs/REMOTE-FUNCTIONS.md).

A group's records come as columns (``values``, and ``times`` when any is timed); the
answer has one ``out`` entry per record (``map``/``scalar``: its output; the other
kinds: the list of its outputs) and the failed records in ``errors`` as
``[index, message]``. A record that raises fails alone (riffle retries it, then
dead-letters it) and leaves its key's state as it was before the record; the other
records of the group still run. A request riffle cannot have sent raises ``WireError``.
"""

from itertools import starmap

WIRE_VERSION = 2


class WireError(ValueError):
    """The request is out of contract (a wrong version, an unknown function)."""


def _describe(e):
    return "%s: %s" % (type(e).__name__, e)


def _run_process(fn, group):
    key = group.get("key")
    state = group.get("state")
    cuts = set(group.get("cuts") or ())
    out, errors, states = [], [], []
    for i, value in enumerate(group.get("values", ())):
        if i in cuts:
            states.append(state)
        try:
            new_state, outputs = fn(key, state, value)
            out.append(list(outputs))
            state = new_state
        except Exception as e:  # a failing record fails alone
            out.append(None)
            errors.append([i, _describe(e)])
    result = {"state": state, "out": out}
    if states:
        result["states"] = states
    if errors:
        result["errors"] = errors
    return result


def _per_record(kind, fn):
    """A callable making an iterator of ``fn``'s answers over records' values, by kind."""
    if kind == "map":
        return lambda values: map(fn, values)
    if kind == "flatMap":
        return lambda values: (list(fn(v)) for v in values)
    if kind == "scalar":
        return lambda values: starmap(fn, values)
    return lambda values: (list(fn(*v)) for v in values)  # table


def _run_rows(kind, fn, values):
    answers = _per_record(kind, fn)
    out, errors = [], []
    extend = out.extend
    start = 0
    while True:
        # One C-level loop over the records (list.extend of a map); a record that raises
        # leaves the answers before it in ``out``, is answered as failed, and the loop
        # resumes after it.
        try:
            extend(answers(values[start:] if start else values))
            return out, errors
        except Exception as e:
            i = len(out)
            out.append(None)
            errors.append([i, _describe(e)])
            start = i + 1


def _run_batch(kind, fn, values):
    """A vectorized function: one call for the group; a failure fails each of its records."""
    if not values:
        return [], []
    try:
        # scalar: one list per argument (the records' argument lists, transposed).
        out = list(fn(values) if kind == "map" else fn(*[list(c) for c in zip(*values)]))
        if len(out) != len(values):
            raise ValueError("returned %d results for %d records" % (len(out), len(values)))
        return out, []
    except Exception as e:
        msg = _describe(e)
        return [None] * len(values), [[i, msg] for i in range(len(values))]


def _run_group(entry, group):
    if entry.kind == "process":
        return _run_process(entry.fn, group)
    values = group.get("values", ())
    out, errors = (_run_batch if entry.batch else _run_rows)(entry.kind, entry.fn, values)
    return {"out": out, "errors": errors} if errors else {"out": out}


def handle_request(request, registry):
    """The response (a dict) to ``request`` (a dict)."""
    if not isinstance(request, dict):
        raise WireError("a request is a JSON object")
    if request.get("v") != WIRE_VERSION:
        raise WireError("riffle_sdk speaks wire version %d, the request %r" % (WIRE_VERSION, request.get("v")))
    name = request.get("function")
    try:
        entry = registry.lookup(name)
    except KeyError:
        raise WireError("no function %r (registered: %s)" % (name, ", ".join(registry.names()) or "none"))
    if request.get("kind") != entry.kind:
        raise WireError("function %r is a %s function, the request says %r" % (name, entry.kind, request.get("kind")))
    groups = [_run_group(entry, g) for g in request.get("groups", [])]
    return {"v": WIRE_VERSION, "id": request.get("id"), "groups": groups}
