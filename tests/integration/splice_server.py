"""splice_server.py -- test-uring-splice's HTTP/1.1 keep-alive server: /splice/N answers with N bytes that go from a file to the socket through splice(2), never through the server's memory; other paths get a short body by send(2).

Usage: splice_server.py PORT FILE LOG.  FILE holds the bytes to splice
(at least the largest N asked for).  LOG gets "GET PATH STATUS BODY-BYTES"
per response once it is sent: the server's own record of what it served.
"""
import os
import socket
import socketserver
import sys

PORT, FILE, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
PIPE_CHUNK = 65536  # a pipe's default capacity (pipe(7))


def splice_body(sock, n):
    """n bytes of FILE onto the socket: file -> pipe -> socket, as splice(2)
    needs a pipe at one end."""
    r, w = os.pipe()
    try:
        with open(FILE, "rb") as f:
            off = 0
            while off < n:
                k = os.splice(f.fileno(), w, min(PIPE_CHUNK, n - off), offset_src=off)
                if k <= 0:
                    raise OSError("short splice from the file")
                left = k
                while left:
                    left -= os.splice(r, sock.fileno(), left)
                off += k
    finally:
        os.close(r)
        os.close(w)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = self.request.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if path.startswith("/splice/"):
                n = int(path[len("/splice/"):])
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                     b"Content-Length: %d\r\n\r\n" % n)
                splice_body(self.request, n)
            else:
                body = b"hello " + path.encode() + b"\n"
                n = len(body)
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                     b"Content-Length: %d\r\n\r\n" % n + body)
            with open(LOG, "a") as log:
                log.write(f"{method} {path} 200 {n}\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
