/**
 * The answers on a connection of the HTTP client (core/remote/http-client.ts): the
 * first whole HTTP/1.x answer in the bytes read so far, framed by its
 * `content-length`, chunked, or (no framing) the connection's end.
 */

/**
 * A whole answer (`size`: its bytes, head included); `"bad"`; or, while incomplete,
 * the bytes it needs in all (0: unknown yet).
 */
export type Parsed = { status: number; body: string; close: boolean; size: number } | "bad" | number;

/** What an answer's head says: its status and how its body is framed. */
interface Head {
  readonly status: number;
  /** The body's `content-length` (−1: none given). */
  readonly length: number;
  readonly chunked: boolean;
  readonly close: boolean;
}

/**
 * The head's status line and framing headers. The head is lower-cased once and its
 * lines are walked in place: only the three framing headers' values are cut out (an
 * answer's head is read once per request, ~12 requests a read at batch 100).
 */
function readHead(head: string): Head | "bad" {
  const m = /^HTTP\/1\.([01]) (\d{3})/.exec(head);
  if (!m) return "bad";
  const lower = head.toLowerCase();
  let length = -1;
  let chunked = false;
  let close = m[1] === "0";
  let at = lower.indexOf("\r\n");
  while (at >= 0) {
    const start = at + 2;
    at = lower.indexOf("\r\n", start);
    const end = at < 0 ? lower.length : at;
    const colon = lower.indexOf(":", start);
    if (colon < 0 || colon > end) continue;
    const name = lower.slice(start, colon).trim();
    if (name === "content-length") length = Number(lower.slice(colon + 1, end).trim());
    else if (name === "transfer-encoding")
      chunked =
        lower
          .slice(colon + 1, end)
          .split(",")
          .pop()
          ?.trim() === "chunked";
    else if (name === "connection") {
      const value = lower.slice(colon + 1, end).trim();
      close = value === "close" ? true : value === "keep-alive" ? false : close;
    }
  }
  return { status: Number(m[2]), length, chunked, close };
}

/** The first whole answer in `data` (1xx answers skipped), or how many bytes it needs. */
export function readAnswer(data: Buffer, ended: boolean): Parsed {
  let start = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", start, "latin1");
    if (end < 0) return 0;
    const head = readHead(data.toString("latin1", start, end));
    if (head === "bad") return "bad";
    const { status, length, close } = head;
    const bodyAt = end + 4;
    if (status >= 100 && status < 200) {
      start = bodyAt;
      continue;
    }
    if (status === 204 || status === 304) return { status, body: "", close: false, size: bodyAt };
    if (head.chunked) return dechunk(data, bodyAt, status, close);
    if (length >= 0) {
      if (data.length < bodyAt + length) return bodyAt + length;
      return { status, body: data.toString("utf8", bodyAt, bodyAt + length), close, size: bodyAt + length };
    }
    // No framing: the body runs to the connection's end.
    return ended ? { status, body: data.toString("utf8", bodyAt), close: true, size: data.length } : 0;
  }
}

/** A chunked body from `at`, once its last chunk (and trailers) came. */
function dechunk(data: Buffer, at: number, status: number, close: boolean): Parsed {
  const parts: Buffer[] = [];
  let pos = at;
  for (;;) {
    const eol = data.indexOf("\r\n", pos, "latin1");
    if (eol < 0) return 0;
    const size = Number.parseInt(data.toString("latin1", pos, eol).split(";")[0] as string, 16);
    if (Number.isNaN(size)) return "bad";
    if (size === 0) {
      const trailers = data.indexOf("\r\n\r\n", eol, "latin1");
      const blank = data.indexOf("\r\n", eol + 2, "latin1") === eol + 2;
      if (!blank && trailers < 0) return 0;
      const end = blank ? eol + 4 : trailers + 4;
      return { status, body: Buffer.concat(parts).toString("utf8"), close, size: end };
    }
    if (data.length < eol + 2 + size + 2) return 0;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}
