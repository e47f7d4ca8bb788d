"""The local HTTP server: a lean HTTP/1.1 keep-alive loop on ``socketserver``.

riffle sends batch after batch on a few kept-alive connections, so the server's
own cost per request is most of what a small batch costs. ``http.server``'s
``BaseHTTPRequestHandler`` spends ~0.15-0.2 ms a request parsing headers into an
``email.message.Message`` and dispatching; this loop reads the request line and the
few headers it needs, and reads the next request. Requests may be pipelined (riffle
writes several on one connection at once): the answers to the whole requests one
read brought go out together in one ``sendall``, just before the loop would block
for more input, or once ``_FLUSH_ANSWERS`` are queued, so a read and a write serve
several requests and riffle gets the first answers of a long read while the rest
are computed.

HTTP semantics, as before: ``POST`` (any path) with a ``content-length`` body is a
wire request; the answer is ``200`` with the response, ``400`` for a request out
of contract (not JSON, a wrong version, an unknown function), ``500`` when the
function crashed outside a record, always ``content-type: application/json`` and a
``content-length``. HTTP/1.1 keeps the connection unless the client sends
``connection: close`` (HTTP/1.0: only with ``connection: keep-alive``);
``expect: 100-continue`` is answered. Another method is ``501``, a chunked body
``411``, a malformed request ``400``; those close the connection.
"""

import json
import socketserver

from .wire import WireError, handle_request

#: Longest request line or header line, and most header lines (as ``http.client``).
_MAX_LINE = 65536
_MAX_HEADERS = 100
#: Answers queued at most before they go out: a read that brought many pipelined requests
#: does not hold its first answers until its last is computed (riffle decodes them meanwhile).
_FLUSH_ANSWERS = 4

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    411: b"Length Required",
    500: b"Internal Server Error",
    501: b"Not Implemented",
}


#: One compact encoder for every answer (``json.dumps`` with ``separators`` builds a new one each call);
#: an answer is a fresh tree of JSON values, so no check for cycles.
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def _dumps(value):
    return _ENCODER.encode(value).encode()


def answer(raw, registry):
    """``(status, body)`` for a request body (bytes): the wire response, or ``{"error": ...}``."""
    try:
        return 200, _dumps(handle_request(json.loads(raw), registry))
    except (WireError, ValueError) as e:  # not JSON, or out of contract
        return 400, _dumps({"error": str(e)})
    except Exception as e:  # the function crashed outside a record
        return 500, _dumps({"error": "%s: %s" % (type(e).__name__, e)})


class _Refused(Exception):
    """A request this server does not take: answered with ``status`` and the connection closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _Input:
    """The connection's input, read in large pieces; ``flush`` runs before each read that may block."""

    def __init__(self, sock, flush):
        self.sock = sock
        self.flush = flush
        self.buf = b""
        self.pos = 0

    def _recv(self):
        """The next piece of input, after flushing the answers so far (b"" at the end of input)."""
        self.flush()
        return self.sock.recv(65536)  # under malloc's mmap threshold: no fresh mapping per read

    def _more(self):
        """Reads more input into the buffer; False at the end of input."""
        chunk = self._recv()
        if not chunk:
            return False
        self.buf = self.buf[self.pos :] + chunk if self.pos < len(self.buf) else chunk
        self.pos = 0
        return True

    def readline(self, limit):
        """A line with its end, at most ``limit`` bytes (as ``BufferedReader.readline``); b"" at the end."""
        while True:
            end = self.buf.find(b"\n", self.pos, self.pos + limit)
            if end >= 0 or len(self.buf) - self.pos >= limit:
                stop = end + 1 if end >= 0 else self.pos + limit
                line = self.buf[self.pos : stop]
                self.pos = stop
                return line
            if not self._more():
                line = self.buf[self.pos :]
                self.pos = len(self.buf)
                return line

    def read(self, n):
        """``n`` bytes, fewer at the end of input (a large body's pieces joined once, not per piece)."""
        have = len(self.buf) - self.pos
        if have < n:
            parts = [self.buf[self.pos :]]
            while have < n:
                chunk = self._recv()
                if not chunk:
                    break
                parts.append(chunk)
                have += len(chunk)
            self.buf = b"".join(parts)
            self.pos = 0
        data = self.buf[self.pos : self.pos + n]
        self.pos += len(data)
        return data


class Connection(socketserver.StreamRequestHandler):
    """One client connection: requests answered in turn until the client closes or asks to."""

    registry = None
    # TCP_NODELAY: without it a small answer waits for the client's delayed ACK (40 ms on Linux) on every call.
    disable_nagle_algorithm = True

    def handle(self):
        self._out = []  # answers not sent yet: they go out together before the next blocking read
        self._in = _Input(self.connection, self._flush)
        try:
            try:
                while self._one():
                    pass
            except _Refused as e:
                self._send(e.status, _dumps({"error": str(e)}), keep=False)
            self._flush()
        except OSError:  # the client went away mid-request
            pass

    def _flush(self):
        if self._out:
            out, self._out = self._out, []
            self.connection.sendall(out[0] if len(out) == 1 else b"".join(out))

    def _one(self):
        """Answers one request; False when the connection should close."""
        line = self._in.readline(_MAX_LINE + 1)
        if not line:
            return False  # the client closed between requests
        parts = line.split()
        if len(line) > _MAX_LINE or len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise _Refused(400, "not an HTTP/1.x request line")
        method, _path, version = parts
        length, connection, expect = self._headers()
        keep = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
        if method != b"POST":
            raise _Refused(501, "riffle_sdk answers POST only, not %s" % method.decode("latin-1"))
        if expect == b"100-continue":
            self._out.append(b"HTTP/1.1 100 Continue\r\n\r\n")  # sent before the body is waited for
        raw = self._in.read(length) if length else b""
        if len(raw) < length:
            return False  # the client closed mid-body
        status, body = answer(raw, self.registry)
        self._send(status, body, keep)
        return keep

    def _headers(self):
        """``(content-length, connection, expect)`` of the request's headers (lower-cased values)."""
        length, connection, expect = 0, b"", b""
        for _ in range(_MAX_HEADERS + 1):
            line = self._in.readline(_MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return length, connection, expect
            if len(line) > _MAX_LINE:
                raise _Refused(400, "a header line is too long")
            name, sep, value = line.partition(b":")
            if not sep:
                raise _Refused(400, "a header line has no colon")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                if not value.isdigit():
                    raise _Refused(400, "content-length is not a number")
                length = int(value)
            elif name == b"transfer-encoding":
                raise _Refused(411, "a request needs a content-length (no transfer-encoding)")
            elif name == b"connection":
                connection = value.lower()
            elif name == b"expect":
                expect = value.lower()
        raise _Refused(400, "too many header lines")

    def _send(self, status, body, keep):
        """The status line, headers and body, queued for the next flush (one write for what is queued)."""
        head = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n" % (
            status,
            _REASONS[status],
            len(body),
            b"" if keep else b"connection: close\r\n",
        )
        self._out.append(head + body)
        if len(self._out) >= _FLUSH_ANSWERS:
            self._flush()


class Server(socketserver.ThreadingTCPServer):
    """A thread per connection (riffle keeps a few open), daemonic so an interrupt ends the process."""

    allow_reuse_address = True
    daemon_threads = True


def make_server(port, registry):
    """A :class:`Server` of ``registry`` bound to 127.0.0.1:``port`` (0: a free port)."""
    handler = type("Connection", (Connection,), {"registry": registry})
    return Server(("127.0.0.1", port), handler)
