#!/usr/bin/env python3
"""Minimal DNS A query over UDP (standard library only), for the ProxyVet lab.

  dnsq.py SERVER NAME [NAME...] [--timeout 1.0]

Prints one line per name: "NAME NOERROR 127.0.78.1 ..." / "NAME NXDOMAIN" / "NAME RCODE n"
(without the leading NAME when a single name is asked). Exits 0 when every name got a
DNS answer, 2 otherwise. The server must be on 127.0.0.0/8.
"""

import argparse
import ipaddress
import os
import socket
import struct
import sys

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def build_query(name, qid):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD=1, one question
    qname = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.rstrip(".").split(".")) + b"\0"
    return header + qname + struct.pack("!HH", 1, 1)  # A, IN


def skip_name(msg, off):
    while True:
        length = msg[off]
        if length == 0:
            return off + 1
        if length & 0xC0 == 0xC0:
            return off + 2
        off += 1 + length


def parse(msg, qid):
    rid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid:
        return None
    rcode = flags & 0xF
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    addrs = []
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(msg[off:off + 4]))
        off += rdlen
    return RCODES.get(rcode, "RCODE %d" % rcode), addrs


def query(server, name, timeout):
    qid = int.from_bytes(os.urandom(2), "big")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(build_query(name, qid), (server, 53))
            while True:
                data, _ = s.recvfrom(4096)
                result = parse(data, qid)
                if result is not None:
                    break
        except (socket.timeout, OSError) as exc:
            return None, "NOANSWER (%s)" % exc
    rcode, addrs = result
    return rcode, " ".join([rcode] + addrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("names", nargs="+")
    ap.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()
    if not ipaddress.ip_address(args.server).is_loopback:
        sys.exit("dnsq.py: refusing a non-loopback server")
    status = 0
    for name in args.names:
        rcode, text = query(args.server, name, args.timeout)
        if rcode is None:
            status = 2
        print(text if len(args.names) == 1 else "%s %s" % (name, text))
    return status


if __name__ == "__main__":
    sys.exit(main())
