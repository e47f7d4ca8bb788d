"""The local server's HTTP semantics, over a raw socket (keep-alive, errors, closing)."""

import json
import socket
import unittest

from riffle_sdk import Registry, WIRE_VERSION
from riffle_sdk.registry import map_function
from riffle_sdk.server import make_server


def registry():
    reg = Registry()
    map_function("inc", registry=reg)(lambda v: v + 1)

    def boom(values):
        raise RuntimeError("boom")

    reg.register("boom", "map", boom, batch=True)
    return reg


def request(values, function="inc", id_="i"):
    return json.dumps({"v": WIRE_VERSION, "id": id_, "function": function, "kind": "map", "groups": [{"values": values}]}).encode()


def post(body, extra=b""):
    return b"POST / HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n%scontent-length: %d\r\n\r\n%s" % (
        extra,
        len(body),
        body,
    )


class Client:
    """Reads HTTP/1.1 answers (content-length framed) off one socket."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def answer(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = dict((k.strip().lower(), v.strip()) for k, _, v in (l.partition(b":") for l in lines[1:]))
        if status == 100:
            return status, headers, b""
        n = int(headers[b"content-length"])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def closed(self):
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


class ServerTest(unittest.TestCase):
    def setUp(self):
        import threading

        self.server = make_server(0, registry())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.client = Client(self.server.server_address[1])

    def tearDown(self):
        self.client.close()
        self.server.shutdown()
        self.server.server_close()

    def test_keeps_the_connection_and_answers_pipelined_requests_in_order(self):
        self.client.sock.sendall(post(request([1, 2], id_="a")) + post(request([10], id_="b")))
        for id_, out in (("a", [2, 3]), ("b", [11])):
            status, headers, body = self.client.answer()
            self.assertEqual((status, headers[b"content-type"]), (200, b"application/json"))
            self.assertNotIn(b"connection", headers)
            self.assertEqual(json.loads(body), {"v": WIRE_VERSION, "id": id_, "groups": [{"out": out}]})
        self.client.sock.sendall(post(request([5])))
        self.assertEqual(json.loads(self.client.answer()[2])["groups"][0]["out"], [6])

    def test_the_answers_to_requests_that_came_in_one_read_go_out_in_writes_of_at_most_4(self):
        from riffle_sdk import server

        writes = []
        flush = server.Connection._flush

        def counted(handler):
            if handler._out:
                writes.append(len(handler._out))
            flush(handler)

        server.Connection._flush = counted
        try:
            self.client.sock.sendall(b"".join(post(request([i], id_=str(i))) for i in range(4)))
            self.assertEqual([json.loads(self.client.answer()[2])["id"] for _ in range(4)], ["0", "1", "2", "3"])
            # A longer read: its answers go out 4 at a time, the first before the rest are computed.
            self.client.sock.sendall(b"".join(post(request([i], id_=str(i))) for i in range(10)))
            self.assertEqual([json.loads(self.client.answer()[2])["id"] for _ in range(10)], [str(i) for i in range(10)])
        finally:
            server.Connection._flush = flush
        self.assertEqual(writes, [4, 4, 4, 2])

    def test_a_large_body_split_across_writes(self):
        values = list(range(20000))
        msg = post(request(values))
        for i in range(0, len(msg), 7000):
            self.client.sock.sendall(msg[i : i + 7000])
        self.assertEqual(json.loads(self.client.answer()[2])["groups"][0]["out"], [v + 1 for v in values])

    def test_out_of_contract_is_400_and_a_crash_500_and_the_connection_stays(self):
        self.client.sock.sendall(post(request([1], function="nope")))
        status, _, body = self.client.answer()
        self.assertEqual(status, 400)
        self.assertIn("no function 'nope'", json.loads(body)["error"])
        self.client.sock.sendall(post(b"{not json"))
        self.assertEqual(self.client.answer()[0], 400)
        self.client.sock.sendall(post(b'{"v": 2, "function": "inc", "kind": "map", "groups": 5}'))
        status, _, body = self.client.answer()
        self.assertEqual(status, 500)
        self.assertIn("error", json.loads(body))
        self.client.sock.sendall(post(request([1])))
        self.assertEqual(self.client.answer()[0], 200)

    def test_a_batch_function_that_raises_fails_its_records_in_a_200(self):
        self.client.sock.sendall(post(request([1, 2], function="boom")))
        status, _, body = self.client.answer()
        self.assertEqual(status, 200)
        self.assertEqual([e[0] for e in json.loads(body)["groups"][0]["errors"]], [0, 1])

    def test_connection_close_is_honoured(self):
        self.client.sock.sendall(post(request([1]), b"Connection: close\r\n"))
        status, headers, _ = self.client.answer()
        self.assertEqual((status, headers[b"connection"]), (200, b"close"))
        self.assertTrue(self.client.closed())

    def test_http_1_0_closes_unless_asked_to_keep(self):
        self.client.sock.sendall(post(request([1])).replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        self.assertEqual(self.client.answer()[0], 200)
        self.assertTrue(self.client.closed())

    def test_expect_100_continue_is_answered_before_the_body(self):
        body = request([1])
        head = post(body, b"Expect: 100-continue\r\n")[: -len(body)]
        self.client.sock.sendall(head)
        self.assertEqual(self.client.answer()[0], 100)
        self.client.sock.sendall(body)
        self.assertEqual(self.client.answer()[0], 200)

    def test_refusals_answer_and_close(self):
        cases = [
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n", 411),
            (b"POST / HTTP/1.1\r\ncontent-length: x\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
            (b"hello\r\n", 400),
        ]
        for raw, want in cases:
            client = Client(self.server.server_address[1])
            try:
                client.sock.sendall(raw)
                status, headers, body = client.answer()
                self.assertEqual((status, headers[b"connection"]), (want, b"close"), raw)
                self.assertIn("error", json.loads(body))
                self.assertTrue(client.closed())
            finally:
                client.close()


if __name__ == "__main__":
    unittest.main()
