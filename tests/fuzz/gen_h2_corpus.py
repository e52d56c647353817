#!/usr/bin/python3
"""gen_h2_corpus.py -- writes fuzz_h2's seed inputs (tests/fuzz/corpus-h2/) from test_h2's captures of real peers.

Each capture becomes inputs in fuzz_h2's format: one from the start,
one joined midway, one with a gap, one with every DATA byte also fed to
a gRPC reader and previewed as protobuf.
"""
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
caps = os.path.join(here, "..", "unit", "h2")
out = os.path.join(here, "corpus-h2")


def records(path):
    d = open(path, "rb").read()
    off = 0
    while off < len(d):
        n = struct.unpack(">I", d[off + 1:off + 5])[0]
        yield (1 if d[off:off + 1] == b"S" else 0), d[off + 5:off + 5 + n]
        off += 5 + n


def chunk(op, b):
    out = b""
    for i in range(0, len(b), 65535):
        part = b[i:i + 65535]
        out += struct.pack("<BH", op, len(part)) + part
    return out


for name in sorted(os.listdir(caps)):
    if not name.endswith(".cap"):
        continue
    recs = list(records(os.path.join(caps, name)))
    base = name[:-4]
    seeds = {
        "start": bytes([0]) + b"".join(chunk(d, b) for d, b in recs),
        "midway": bytes([1]) + b"".join(chunk(d, b) for d, b in recs[3:]),
        "gap": bytes([0]) + b"".join(
            chunk(d, b) if i != 4 else struct.pack("<BH", d | 2, 7) +
            chunk(d, b[7:]) for i, (d, b) in enumerate(recs)),
        "grpc": bytes([8]) + b"".join(chunk(d | 4 | 8 | 0x30, b) for d, b in recs),
    }
    for k, v in seeds.items():
        if len(v) > 64 * 1024:
            v = v[:64 * 1024]
        with open(os.path.join(out, "%s-%s" % (base, k)), "wb") as f:
            f.write(v)
