#!/usr/bin/python3
# prof_load.py -- the profiler tests' client: a known mix of requests over keep-alive connections, the same for a seed.
"""usage: prof_load.py PORT COUNT [--seed S] [--conns C] [--slow N] [--paths]
                     [--pipeline DEPTH]

COUNT requests to 127.0.0.1:PORT over C keep-alive connections (default
4), picked from a fixed mix: GET /user/N, GET /item/N/reviews?page=K&q=..,
POST /orders (a form body or a binary one), GET /static/app.css, GET
/missing/N, GET /error, and N (default 0) GET /slow spread over the run.
Every tenth carries "Host: api.example.com", the rest the address.
--paths: instead, COUNT requests to COUNT distinct letters-only paths
/p/WORD (none looks like an id); with --pipeline DEPTH, sent DEPTH at a
time on each connection before reading their answers (HTTP/1.1
pipelining, RFC 9112 section 9.3.2), as fast as nginx answers; the
answers to /p/ are all of one size, so they are counted by their bytes.
Prints how many of each kind it sent, as JSON.
"""
import argparse
import http.client
import socket
import threading
import json
import random
import sys


def word(n):
    s = ""
    for _ in range(6):
        s += chr(ord("a") + n % 26)
        n //= 26
    return s


def pick(rnd):
    r = rnd.random()
    if r < 0.35:
        return "GET", "/user/%d" % rnd.randrange(100000), "user", None, None
    if r < 0.55:
        return ("GET", "/item/%d/reviews?page=%d&q=a+b%%21" % (rnd.randrange(1000), rnd.randrange(5)),
                "reviews", None, None)
    if r < 0.65:
        if rnd.random() < 0.5:
            body = ("item=%d&qty=%d" % (rnd.randrange(1000), rnd.randrange(9))).encode()
            return "POST", "/orders", "orders", body, "application/x-www-form-urlencoded"
        body = bytes(rnd.randrange(256) for _ in range(300))
        return "POST", "/orders", "orders", body, "application/octet-stream"
    if r < 0.80:
        return "GET", "/static/app.css", "static", None, None
    if r < 0.92:
        return "GET", "/missing/%d" % rnd.randrange(1000), "missing", None, None
    return "GET", "/error", "error", None, None


def pipelined(port, count, conns, depth):
    """COUNT distinct /p/WORD requests over CONNS connections."""
    probe = socket.create_connection(("127.0.0.1", port))
    probe.sendall(b"GET /p/aaaaaa HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b"\r\n\r\n" not in first:
        first += probe.recv(4096)
    head = first.split(b"\r\n\r\n", 1)[0]
    clen = int([l.split(b":", 1)[1] for l in head.split(b"\r\n")
                if l.lower().startswith(b"content-length:")][0])
    while len(first) < len(head) + 4 + clen:
        first += probe.recv(4096)
    probe.close()
    size = len(first)  # the answers to /p/ differ in no byte count
    errors = []

    def run(k):
        s = socket.create_connection(("127.0.0.1", port))
        n = k
        try:
            while n < count:
                batch = []
                while len(batch) < depth and n < count:
                    batch.append(b"GET /p/%s HTTP/1.1\r\nHost: x\r\n\r\n" % word(n).encode())
                    n += conns
                s.sendall(b"".join(batch))
                want = size * len(batch)
                while want > 0:
                    got = len(s.recv(min(want, 1 << 20)))
                    if not got:
                        raise OSError("connection closed")
                    want -= got
        except OSError as e:
            errors.append(str(e))
        s.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("pipelined client: " + errors[0])
    return {"p": count + 1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--slow", type=int, default=0)
    ap.add_argument("--paths", action="store_true")
    ap.add_argument("--pipeline", type=int, default=0)
    a = ap.parse_args()
    if a.pipeline:
        json.dump(pipelined(a.port, a.count, a.conns, a.pipeline), sys.stdout)
        print()
        return
    rnd = random.Random(a.seed)
    conns = [http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
             for _ in range(a.conns)]
    sent = {}
    slow_every = a.count // a.slow if a.slow else 0
    for i in range(a.count):
        c = conns[i % len(conns)]
        headers = {}
        body = None
        if a.paths:
            method, path, kind = "GET", "/p/" + word(i), "p"
        elif slow_every and i % slow_every == slow_every // 2:
            method, path, kind = "GET", "/slow", "slow"
        else:
            method, path, kind, body, ctype = pick(rnd)
            if ctype:
                headers["Content-Type"] = ctype
        if i % 10 == 3:
            headers["Host"] = "api.example.com"
        c.request(method, path, body=body, headers=headers)
        c.getresponse().read()
        sent[kind] = sent.get(kind, 0) + 1
    for c in conns:
        c.close()
    json.dump(sent, sys.stdout)
    print()


if __name__ == "__main__":
    main()
