import unittest

from riffle_sdk import Registry, WIRE_VERSION, handle_request
from riffle_sdk.registry import process, map_function, flat_map, scalar, table
from riffle_sdk.wire import WireError


def registry():
    reg = Registry()

    @process("count", registry=reg)
    def count(key, state, value):
        if value == "boom":
            raise RuntimeError("boom")
        n = (state or 0) + 1
        return n, [{"key": key, "n": n}]

    @map_function("double", registry=reg)
    def double(v):
        return v * 2

    @flat_map("split", registry=reg)
    def split(v):
        return v.split()

    @scalar("add", registry=reg)
    def add(a, b):
        return a + b

    @table("range", registry=reg)
    def rng(n):
        return [[i] for i in range(n)]

    return reg


def req(function, kind, groups):
    return {"v": WIRE_VERSION, "id": "job/op/p0/x/0", "function": function, "kind": kind, "groups": groups}


class WireTest(unittest.TestCase):
    def test_process_threads_state_through_a_group(self):
        recs = [{"value": "a", "time": None}, {"value": "b", "time": 5}]
        res = handle_request(req("count", "process", [{"key": "u1", "state": 3, "records": recs}]), registry())
        self.assertEqual(res["id"], "job/op/p0/x/0")
        self.assertEqual(res["groups"][0]["state"], 5)
        self.assertEqual([r["out"] for r in res["groups"][0]["results"]], [[{"key": "u1", "n": 4}], [{"key": "u1", "n": 5}]])

    def test_a_failing_record_fails_alone_and_keeps_the_state(self):
        recs = [{"value": "a"}, {"value": "boom"}, {"value": "c"}]
        g = handle_request(req("count", "process", [{"key": "k", "state": None, "records": recs}]), registry())["groups"][0]
        self.assertEqual(g["state"], 2)
        self.assertIn("boom", g["results"][1]["error"])
        self.assertEqual(g["results"][2]["out"], [{"key": "k", "n": 2}])

    def test_stateless_kinds(self):
        reg = registry()
        one = lambda f, k, v: handle_request(req(f, k, [{"records": [{"value": v}]}]), reg)["groups"][0]["results"][0]
        self.assertEqual(one("double", "map", 21), {"out": [42]})
        self.assertEqual(one("split", "flatMap", "a b"), {"out": ["a", "b"]})
        self.assertEqual(one("add", "scalar", [1, 2]), {"out": [3]})
        self.assertEqual(one("range", "table", [2]), {"out": [[0], [1]]})
        self.assertIn("TypeError", one("double", "map", None)["error"])

    def test_out_of_contract_requests_are_refused(self):
        reg = registry()
        with self.assertRaises(WireError):
            handle_request(dict(req("double", "map", []), v=2), reg)
        with self.assertRaisesRegex(WireError, "no function 'nope'"):
            handle_request(req("nope", "map", []), reg)
        with self.assertRaisesRegex(WireError, "is a map function"):
            handle_request(req("double", "process", []), reg)

    def test_a_name_registers_once(self):
        reg = registry()
        with self.assertRaises(ValueError):
            reg.register("double", "map", lambda v: v)


if __name__ == "__main__":
    unittest.main()
