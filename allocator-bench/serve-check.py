#!/usr/bin/env python3
"""Checks a running 'spanheap serve' on 127.0.0.1: echoed bodies (1 B to 1 MiB) and their CRC32
header, then the error answers (413 oversized, 400 malformed, 400 truncated). Exits 1 on any
mismatch, naming it; prints one line per check otherwise."""
import http.client
import random
import socket
import sys
import zlib

HOST = "127.0.0.1"
MAX_BODY = 1 << 20


def echo(port, body):
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    conn.request("POST", "/echo", body=body, headers={"Content-Type": "application/octet-stream"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("X-Checksum"), data


def raw(port, request, shut_output=False):
    with socket.create_connection((HOST, port), timeout=15) as sock:
        sock.sendall(request)
        if shut_output:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return reply.decode("latin-1")


def main():
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 8080
    failures = []
    rng = random.Random(7)
    for size in (1, 2, 100, 1000, 4096, 65535, 65536, 65537, 300000, MAX_BODY - 1, MAX_BODY):
        body = rng.randbytes(size)
        status, checksum, data = echo(port, body)
        want = "%08x" % zlib.crc32(body)
        if status != 200 or data != body or checksum != want:
            failures.append("echo of %d bytes: status %d, %d bytes back, checksum %s (want %s)"
                            % (size, status, len(data), checksum, want))
    checks = [
        ("oversized body (1 MiB + 1)", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), False, "413"),
        ("malformed Content-Length", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ten\r\n\r\n0123456789", False, "400"),
        ("malformed version", b"GET / HTTP/7\r\nHost: t\r\n\r\n", False, "400"),
        ("malformed chunk size", b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", False, "400"),
        ("truncated body, client shut its output", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly twenty bytes...", True, "400"),
    ]
    for name, request, shut, status in checks:
        reply = raw(port, request, shut)
        if not reply.startswith("HTTP/1.1 " + status):
            failures.append("%s: expected %s, got %r" % (name, status, reply[:120]))
    for failure in failures:
        print("serve-check: FAILED " + failure)
    if failures:
        return 1
    print("serve-check: 11 echoes (1 B to 1 MiB) matched body and CRC32; 413 and 4 kinds of 400 answered as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
