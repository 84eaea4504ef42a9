#!/usr/bin/env python3
"""Seed inputs for fuzz_frame and fuzz_flows (tests/fuzz/corpus/{frame,flows}/).

    frame_corpus.py synthetic CORPUS_DIR          frames built to the RFCs' layouts
    frame_corpus.py pcap CORPUS_DIR PREFIX FILE.. the distinct frames of capture files
    frame_corpus.py flows CORPUS_DIR              census scripts for fuzz_flows

A fuzz_frame input is one byte choosing the link type (the index into fuzz_frame.cpp's
link_types, or the link type itself when it is not one of them), then the frame. Files are
named PREFIX-<what>-<sha1 of the content, 10 digits>.
"""

import hashlib
import os
import struct
import sys

# fuzz_frame.cpp's link_types, in order.
LINK_INDEX = {0: 0, 1: 1, 12: 2, 14: 3, 101: 4, 108: 5, 113: 6, 228: 7, 229: 8, 276: 9}


def write(directory, prefix, what, data):
    name = f"{prefix}-{what}-{hashlib.sha1(data).hexdigest()[:10]}"
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def frame_input(link_type, frame):
    return bytes([LINK_INDEX.get(link_type, link_type & 0xff)]) + frame


# --- synthetic frames (checksums 0: the decoder does not read them) ---

C4, S4 = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 1])
C6 = bytes.fromhex("20010db8000000000000000000000010")
S6 = bytes.fromhex("20010db8000000000000000000000001")


def ntp(first=0x23, size=48):
    return bytes([first, 0, 6, 0xec]) + bytes(36) + struct.pack("!Q", 0x1122334455667788) + \
        bytes(max(0, size - 48))


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, len(payload) + 8, 0) + payload


def ipv4(proto, payload, src=C4, dst=S4, options=b"", frag=0):
    ihl = 5 + len(options) // 4
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(payload), 1, frag,
                       64, proto, 0, src, dst) + options + payload


def ipv6(nh, payload, src=C6, dst=S6, exts=b""):
    return struct.pack("!IHBB16s16s", 0x60000000, len(exts) + len(payload), nh, 64, src, dst) + \
        exts + payload


def eth(ethertype, payload, tags=()):
    head = bytes.fromhex("020000000001020000000002")
    for tpid in tags:
        head += struct.pack("!HH", tpid, 100)
    return head + struct.pack("!H", ethertype) + payload


def gre(proto, payload, flags=0):
    extra = b"".join(bytes(4) for bit in (0x8000, 0x2000, 0x1000) if flags & bit)
    return struct.pack("!HH", flags, proto) + extra + payload


def synthetic(directory):
    r4 = ipv4(17, udp(50000, 123, ntp()))
    r6 = ipv6(17, udp(50000, 123, ntp()))
    hop = bytes([17, 0]) + bytes(6)
    samples = {
        "eth-v4": (1, eth(0x0800, r4)), "eth-v6": (1, eth(0x86dd, r6)),
        "eth-qinq": (1, eth(0x0800, r4, (0x88a8, 0x8100))),
        "eth-9100": (1, eth(0x86dd, r6, (0x9100,))),
        "eth-mpls": (1, eth(0x8847, bytes([0, 1, 1, 64]) + r4)),
        "sll-v4": (113, bytes(14) + b"\x08\x00" + r4),
        "sll2-v6": (276, b"\x86\xdd" + bytes(18) + r6),
        "null-v4": (0, struct.pack("<I", 2) + r4), "null-v6": (0, struct.pack("<I", 30) + r6),
        "loop-v6": (108, struct.pack("!I", 24) + r6),
        "raw-v4-options": (101, ipv4(17, udp(1, 123, ntp()), options=bytes([1] * 8))),
        "raw-v4-frag-first": (12, ipv4(17, udp(1, 123, ntp())[:24], frag=0x2000)),
        "raw-v4-frag-later": (12, ipv4(17, ntp()[:24], frag=3)),
        "v6-hop": (229, ipv6(0, udp(1, 123, ntp()), exts=hop)),
        "v6-frag": (229, ipv6(44, udp(1, 123, ntp()), exts=bytes([17, 0, 0, 1]) + bytes(4))),
        "v6-ah": (229, ipv6(51, udp(1, 123, ntp()), exts=bytes([17, 1]) + bytes(10))),
        "6in4": (228, ipv4(41, r6)), "ipip": (228, ipv4(4, r4)),
        "gre-v4": (101, ipv4(47, gre(0x0800, r4, 0xb000))),
        "gre-teb": (101, ipv4(47, gre(0x6558, eth(0x0800, r4), 0x2000))),
        "gre-erspan2": (101, ipv4(47, gre(0x88be, bytes([0x10, 1]) + bytes(6) + eth(0x0800, r4),
                                          0x1000))),
        "vxlan": (1, eth(0x0800, ipv4(17, udp(40000, 4789, bytes([8, 0, 0, 0, 0, 0, 42, 0]) +
                                                eth(0x86dd, r6))))),
        "mode6": (101, ipv4(17, udp(40000, 123, bytes([0x16, 2, 0, 1]) + bytes(8)))),
        "mode7": (101, ipv4(17, udp(40000, 123, bytes([0x17, 0, 3, 42]) + bytes(4)))),
        "mac20": (101, ipv4(17, udp(40000, 123, ntp(size=72)))),
        "arp": (1, eth(0x0806, bytes(28))),
        "tcp": (101, ipv4(6, bytes(20))),
    }
    for what, (link_type, frame) in samples.items():
        write(directory, "syn", what, frame_input(link_type, frame))


# --- capture files (classic pcap, either byte order, µs or ns) ---

def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link_type = struct.unpack(order + "I", data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(order + "IIII", data[at:at + 16])
        yield link_type, data[at + 16:at + 16 + caplen]
        at += 16 + caplen


def from_pcaps(directory, prefix, paths, limit=12):
    for path in paths:
        seen = set()
        stem = os.path.basename(path).split(".")[0]
        for link_type, frame in pcap_frames(path):
            # One frame per distinct (length, first 64 bytes past the addresses) shape.
            key = (len(frame), frame[:14], frame[-16:])
            if key in seen:
                continue
            seen.add(key)
            write(directory, prefix, stem, frame_input(link_type, frame))
            if len(seen) >= limit:
                break


# --- census scripts for fuzz_flows: a config byte, then 6-byte records ---

def record(mode, from_server=False, kiss=False, variant=0, who=0, port=0, stamp=0, gap8ms=1,
           gap2s=0, t3=2):
    op = mode | (8 if from_server else 0) | (0 if kiss else 0x10) | variant << 6
    return bytes([op, who | port << 3, stamp, gap8ms, gap2s, t3])


def flows(directory):
    exchange = record(3, stamp=1) + record(4, True, stamp=1)
    scripts = {
        "exchange": bytes([0x25]) + exchange * 3,
        "retry-lost": bytes([0x25]) + record(3, stamp=1) + record(3, stamp=2, gap8ms=120) +
        record(4, True, stamp=1, gap8ms=25) + record(3, who=1, gap2s=30),
        "late-duplicate": bytes([0x13]) + record(3, stamp=3) + record(4, True, stamp=3, gap2s=2) +
        record(4, True, stamp=3) + record(4, True, stamp=9),
        "kiss": bytes([0x25]) + record(3, stamp=4) + record(4, True, True, stamp=4),
        "bound": bytes([0x01]) + b"".join(record(3, who=i, stamp=i) for i in range(8)) +
        record(4, True, who=7, stamp=7),
        "spoofed-control": bytes([0x25]) + record(3, variant=1) + record(3, variant=2) +
        record(6, who=3) + record(7, who=4) + record(5, True) + record(3, variant=3),
        "intervals": bytes([0x25]) + b"".join(record(3, who=i % 8, stamp=i % 16, gap2s=20)
                                               for i in range(12)),
        "v6-negative-t3": bytes([0x25]) + record(3, who=5, stamp=6) +
        record(4, True, who=5, stamp=6, t3=0x85),
    }
    for what, data in scripts.items():
        write(directory, "syn", what, data)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    command, directory = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    if command == "synthetic":
        synthetic(directory)
    elif command == "pcap":
        from_pcaps(directory, sys.argv[3], sys.argv[4:])
    elif command == "flows":
        flows(directory)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
