import json
import threading
import unittest
import urllib.error
import urllib.request

from riffle_sdk import Registry, WIRE_VERSION, make_lambda_handler, serve
from riffle_sdk.registry import map_function


def registry():
    reg = Registry()
    map_function("inc", registry=reg)(lambda v: v + 1)
    return reg


REQUEST = {"v": WIRE_VERSION, "id": "i", "function": "inc", "kind": "map", "groups": [{"values": [1]}]}


class EntriesTest(unittest.TestCase):
    def test_lambda_handler_answers_the_event(self):
        handler = make_lambda_handler(registry())
        self.assertEqual(handler(REQUEST, None)["groups"][0]["out"], [2])
        self.assertEqual(handler(json.dumps(REQUEST), None)["id"], "i")

    def test_http_server_binds_loopback_and_answers(self):
        started = threading.Event()
        box = {}

        def ready(server):
            box["server"] = server
            started.set()

        t = threading.Thread(target=serve, kwargs={"port": 0, "registry": registry(), "ready": ready}, daemon=True)
        t.start()
        self.assertTrue(started.wait(10))
        server = box["server"]
        try:
            host, port = server.server_address
            self.assertEqual(host, "127.0.0.1")
            url = "http://127.0.0.1:%d/" % port
            body = urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(REQUEST).encode())).read()
            self.assertEqual(json.loads(body)["groups"][0]["out"], [2])
            bad = dict(REQUEST, function="nope")
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(bad).encode()))
            self.assertEqual(e.exception.code, 400)
        finally:
            server.shutdown()


if __name__ == "__main__":
    unittest.main()
