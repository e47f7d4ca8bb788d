"""Answers one wire-format request (version 1, docs/REMOTE-FUNCTIONS.md).

A record that raises gets ``{"error": ...}`` (riffle retries it, then dead-letters
it) and leaves its key's state as it was before the record; the other records of
the group still run. A request riffle cannot have sent raises ``WireError``.
"""

WIRE_VERSION = 1


class WireError(ValueError):
    """The request is out of contract (a wrong version, an unknown function)."""


def _run_group(kind, fn, group):
    results = []
    records = group.get("records", [])
    if kind == "process":
        key = group.get("key")
        state = group.get("state")
        for rec in records:
            try:
                new_state, outputs = fn(key, state, rec.get("value"))
                results.append({"out": list(outputs)})
                state = new_state
            except Exception as e:  # a failing record fails alone
                results.append({"error": "%s: %s" % (type(e).__name__, e)})
        return {"state": state, "results": results}
    for rec in records:
        value = rec.get("value")
        try:
            if kind == "map":
                out = [fn(value)]
            elif kind == "flatMap":
                out = list(fn(value))
            elif kind == "scalar":
                out = [fn(*value)]
            else:  # table
                out = list(fn(*value))
            results.append({"out": out})
        except Exception as e:
            results.append({"error": "%s: %s" % (type(e).__name__, e)})
    return {"results": results}


def handle_request(request, registry):
    """The response (a dict) to ``request`` (a dict)."""
    if not isinstance(request, dict):
        raise WireError("a request is a JSON object")
    if request.get("v") != WIRE_VERSION:
        raise WireError("riffle_sdk speaks wire version %d, the request %r" % (WIRE_VERSION, request.get("v")))
    name = request.get("function")
    try:
        kind, fn = registry.lookup(name)
    except KeyError:
        raise WireError("no function %r (registered: %s)" % (name, ", ".join(registry.names()) or "none"))
    if request.get("kind") != kind:
        raise WireError("function %r is a %s function, the request says %r" % (name, kind, request.get("kind")))
    groups = [_run_group(kind, fn, g) for g in request.get("groups", [])]
    return {"v": WIRE_VERSION, "id": request.get("id"), "groups": groups}
