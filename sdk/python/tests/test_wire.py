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

    @map_function("upper_all", registry=reg, batch=True)
    def upper_all(words):
        if "boom" in words:
            raise RuntimeError("boom")
        return [w.upper() for w in words]

    @scalar("add_all", registry=reg, batch=True)
    def add_all(xs, ys):
        return [x + y for x, y in zip(xs, ys)]

    @map_function("short", registry=reg, batch=True)
    def short(values):
        return values[:-1]

    return reg


def req(function, kind, groups):
    return {"v": WIRE_VERSION, "id": "job/op/p0/x/0", "function": function, "kind": kind, "groups": groups}


class WireTest(unittest.TestCase):
    def test_process_threads_state_through_a_group(self):
        group = {"key": "u1", "state": 3, "values": ["a", "b"], "times": [None, 5]}
        res = handle_request(req("count", "process", [group]), registry())
        self.assertEqual(res["id"], "job/op/p0/x/0")
        self.assertEqual(res["groups"][0]["state"], 5)
        self.assertEqual(res["groups"][0]["out"], [[{"key": "u1", "n": 4}], [{"key": "u1", "n": 5}]])
        self.assertNotIn("errors", res["groups"][0])

    def test_process_answers_the_state_at_each_cut(self):
        group = {"key": "k", "state": None, "values": ["a", "b", "c", "d"], "cuts": [1, 3]}
        g = handle_request(req("count", "process", [group]), registry())["groups"][0]
        self.assertEqual(g["states"], [1, 3])
        self.assertEqual(g["state"], 4)

    def test_a_failing_record_fails_alone_and_keeps_the_state(self):
        group = {"key": "k", "state": None, "values": ["a", "boom", "c"], "cuts": [2]}
        g = handle_request(req("count", "process", [group]), registry())["groups"][0]
        self.assertEqual(g["state"], 2)
        self.assertEqual(g["states"], [1])  # after "a" and the failed "boom"
        self.assertEqual([i for i, _ in g["errors"]], [1])
        self.assertIn("boom", g["errors"][0][1])
        self.assertEqual(g["out"][2], [{"key": "k", "n": 2}])

    def test_failing_rows_fail_alone_and_every_record_is_called_once(self):
        reg = Registry()
        calls = []

        def inv(v):
            calls.append(v)
            return 10 // v

        map_function("inv", registry=reg)(inv)
        values = [0, 0, 5, 1, 0, 2, 0]
        g = handle_request(req("inv", "map", [{"values": values}]), reg)["groups"][0]
        self.assertEqual(calls, values)
        self.assertEqual([i for i, _ in g["errors"]], [0, 1, 4, 6])
        self.assertIn("ZeroDivisionError", g["errors"][0][1])
        self.assertEqual(g["out"], [None, None, 2, 10, None, 5, None])

    def test_each_kind_fails_a_record_alone_mid_group(self):
        reg = registry()

        def group(f, k, values):
            return handle_request(req(f, k, [{"values": values}]), reg)["groups"][0]

        g = group("add", "scalar", [[1, 2], [1, "x"], [3, 4], 5])
        self.assertEqual((g["out"], [i for i, _ in g["errors"]]), ([3, None, 7, None], [1, 3]))
        g = group("split", "flatMap", ["a b", None, "c"])
        self.assertEqual((g["out"], [i for i, _ in g["errors"]]), ([["a", "b"], None, ["c"]], [1]))
        g = group("range", "table", [[1], ["x"], [2]])
        self.assertEqual((g["out"], [i for i, _ in g["errors"]]), ([[[0]], None, [[0], [1]]], [1]))

    def test_stateless_kinds(self):
        reg = registry()

        def one(f, k, v):
            return handle_request(req(f, k, [{"values": [v]}]), reg)["groups"][0]

        self.assertEqual(one("double", "map", 21), {"out": [42]})
        self.assertEqual(one("split", "flatMap", "a b"), {"out": [["a", "b"]]})
        self.assertEqual(one("add", "scalar", [1, 2]), {"out": [3]})
        self.assertEqual(one("range", "table", [2]), {"out": [[[0], [1]]]})
        failed = one("double", "map", None)
        self.assertEqual(failed["out"], [None])
        self.assertIn("TypeError", failed["errors"][0][1])

    def test_batch_functions_get_the_whole_group(self):
        reg = registry()

        def group(f, k, values):
            return handle_request(req(f, k, [{"values": values}]), reg)["groups"][0]

        self.assertEqual(group("upper_all", "map", ["a", "b"]), {"out": ["A", "B"]})
        self.assertEqual(group("add_all", "scalar", [[1, 2], [3, 4]]), {"out": [3, 7]})
        self.assertEqual(group("upper_all", "map", []), {"out": []})
        failed = group("upper_all", "map", ["a", "boom"])
        self.assertEqual(failed["out"], [None, None])
        self.assertEqual([i for i, _ in failed["errors"]], [0, 1])
        self.assertIn("returned 1 results for 2 records", group("short", "map", [1, 2])["errors"][0][1])

    def test_only_map_and_scalar_take_batches(self):
        with self.assertRaisesRegex(ValueError, "cannot take batches"):
            flat_map("f", registry=Registry(), batch=True)(lambda v: [v])

    def test_out_of_contract_requests_are_refused(self):
        reg = registry()
        with self.assertRaisesRegex(WireError, "speaks wire version 2, the request 1"):
            handle_request(dict(req("double", "map", []), v=1), reg)
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
