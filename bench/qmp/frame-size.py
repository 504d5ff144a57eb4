#!/usr/bin/env python3
"""How QEMU's QMP throughput depends on request size (why @vmm/qmp sends compact frames).

Pipelines N x query-status in the raw baseline's way (one sendall, then read every reply) with
different encodings of the same request, alternating encodings every round, and prints the bytes
per request and the median commands per second of each. QEMU reads its monitor socket one byte per
recvmsg, so the rate falls with every byte.

  python3 frame-size.py --socket /tmp/bench-qmp.sock   # a QEMU started as qmp_raw.py describes
"""
import argparse
import json
import socket
import statistics
import time

ENCODINGS = {
    "json.dumps + CRLF (qmp_raw.py)": lambda i: json.dumps({"execute": "query-status", "id": i}) + "\r\n",
    "compact + LF": lambda i: '{"execute":"query-status","id":%d}\n' % i,
    "compact, no terminator": lambda i: '{"execute":"query-status","id":%d}' % i,
    "compact, no terminator, ids reused (@vmm/qmp)": lambda i: '{"execute":"query-status","id":%d}' % (i % 8 + 1),
    "compact + 40 spaces": lambda i: '{"execute":"query-status","id":%d}' % i + " " * 40,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", default="/tmp/bench-qmp.sock")
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(args.socket)
    rfile = sock.makefile("rb", buffering=1 << 16)
    rfile.readline()
    sock.sendall(b'{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}\n')
    rfile.readline()
    rates = {k: [] for k in ENCODINGS}
    size = {}
    for _ in range(args.runs):
        for name, enc in ENCODINGS.items():
            payload = "".join(enc(i) for i in range(args.n)).encode()
            size[name] = len(payload) / args.n
            t0 = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < args.n:
                if "event" not in json.loads(rfile.readline()):
                    got += 1
            rates[name].append(args.n / (time.perf_counter() - t0))
    sock.close()
    for name in ENCODINGS:
        print("%-48s %5.1f bytes  %6d cmd/s" % (name, size[name], statistics.median(rates[name])))


if __name__ == "__main__":
    main()
