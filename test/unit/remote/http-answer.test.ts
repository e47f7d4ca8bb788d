/**
 * An answer's head as the HTTP client reads it: the status line and the framing
 * headers, whatever their case and spacing, and what is still missing.
 */
import { describe, expect, it } from "vitest";
import { readAnswer } from "../../../core/remote/http-answer.ts";

const read = (text: string, ended = false) => readAnswer(Buffer.from(text, "latin1"), ended);

describe("readAnswer", () => {
  it("frames by content-length whatever the header's case and spacing, and keeps HTTP/1.1 alive", () => {
    const answer = "HTTP/1.1 200 OK\r\nX-Other: 1\r\nCONTENT-length:   5 \r\n\r\nhello";
    expect(read(`${answer}+next`)).toEqual({ status: 200, body: "hello", close: false, size: answer.length });
    const head = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
    expect(read(`${head}hel`)).toBe(head.length + 5); // the bytes it needs in all
    expect(read("HTTP/1.1 200 OK\r\ncontent-len")).toBe(0); // no whole head yet
  });

  it("reads connection: close and keep-alive, HTTP/1.0 closing unless kept alive", () => {
    const body = "content-length: 2\r\n\r\nok";
    expect(read(`HTTP/1.1 200 OK\r\nConnection: Close\r\n${body}`)).toMatchObject({ close: true });
    expect(read(`HTTP/1.0 200 OK\r\n${body}`)).toMatchObject({ close: true });
    expect(read(`HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\n${body}`)).toMatchObject({ close: false });
    expect(read(`HTTP/1.1 200 OK\r\nconnection: upgrade\r\n${body}`)).toMatchObject({ close: false });
  });

  it("dechunks when chunked is the last transfer coding, else reads to the end", () => {
    const chunked = "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    expect(read(chunked)).toEqual({ status: 201, body: "abc", close: false, size: chunked.length });
    const unframed = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\nraw";
    expect(read(unframed)).toBe(0);
    expect(read(unframed, true)).toMatchObject({ body: "raw", close: true });
  });

  it("refuses what is not HTTP/1.x, ignores a line without a colon, skips 1xx", () => {
    expect(read("HTTP/2 200 OK\r\n\r\n")).toBe("bad");
    expect(read("hello\r\n\r\n")).toBe("bad");
    const odd = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\nno colon here\r\ncontent-length: 1\r\n\r\nx";
    expect(read(odd)).toEqual({ status: 500, body: "x", close: false, size: odd.length });
  });
});
