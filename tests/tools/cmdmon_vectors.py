#!/usr/bin/env python3
"""Transcribes a capture of tests/tools/capture_cmdmon.py into test data, by hand:

    tests/tools/cmdmon_vectors.py capture.json

writes tests/proto/cmdmon_captured.hpp (every exchange: its datagrams in hex and chronyc's
output) and the seed corpus tests/fuzz/corpus/cmdmon/ (each reply behind fuzz_cmdmon's decode
selector, each request behind its request selector, and a scripted session per exchange; the
formats are described at the top of tests/fuzz/fuzz_cmdmon.cpp).
"""

import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# chronyc's arguments -> the name of the exchange in the header.
NAMES = {
    ("udp", "-c tracking"): "udp_tracking",
    ("udp", "-c sources -a"): "udp_sources",
    ("udp", "-c sourcestats -a"): "udp_sourcestats",
    ("udp", "-c activity"): "udp_activity",
    ("udp", "-c -N sources -a"): "udp_sources_named",
    ("udp", "-c serverstats"): "udp_serverstats_unauthorised",
    ("udp", "-c manual list"): "udp_manual_list",
    ("udp", "-c rtcdata"): "udp_rtcdata_no_rtc",
    ("udp", "-c smoothing"): "udp_smoothing",
    ("unix", "-c serverstats"): "unix_serverstats",
    ("unix", "-c ntpdata"): "unix_ntpdata",
    ("unix", "-c clients"): "unix_clients",
    ("unix", "-c clients -k"): "unix_clients_nke",
    ("unix", "-c authdata -a"): "unix_authdata",
    ("unix", "-c selectdata -a"): "unix_selectdata",
    ("unix", "-c ntpdata 127.0.0.9"): "unix_ntpdata_no_such_source",
}


def name_of(e, seen):
    key = (e["transport"], e["command"])
    name = NAMES.get(key) or "own_" + re.sub(r"[^a-z0-9]+", "_", e["command"].lower()).strip("_")
    while name in seen:
        name += "_again"
    seen.add(name)
    return name


def cxx_string(text, indent="    "):
    if not text:
        return '""'
    lines = text.splitlines(keepends=True)
    out = []
    for line in lines:
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append(f'{indent}"{esc}"')
    return "\n".join(out)


def cxx_hex(h, indent="         "):
    chunks = [h[i:i + 64] for i in range(0, len(h), 64)]
    return ("\n" + indent).join(f'"{c}"' for c in chunks)


def header(cap, named):
    out = [f"""#pragma once

// chrony's command protocol between real programs, for tests/proto/cmdmon*_test.cpp. Written by
// tests/tools/cmdmon_vectors.py from a capture by tests/tools/capture_cmdmon.py on
// {cap["date"]} (UTC), Debian 12:
//   {cap["chronyd"]}
//   {cap["chronyc"]}
// (Debian chrony 4.3-2+deb12u3, unpacked by scripts/fetch-chrony), tcpdump 4.99.3, strace 6.1.
//
// In a network namespace made for the capture (lo up), two chronyd ran with -x (never touching
// the clock), -u root and their own pidfile, sockets and state in a temp dir:
//   upstream: port 11123 / allow 127.0.0.0/8 / allow ::1 / local stratum 3 / keyfile (key 1
//     SHA1) / ntsport 11460, a throw-away EC certificate for 127.0.0.4 / cmdport 0
//   target:   port 11124 / allow 127.0.0.0/8 / local stratum 8 / keyfile (same key) /
//     cmdport 11323 / bindcmdaddress 127.0.0.1 / bindcmdaddress DIR/chronyd.sock /
//     cmdallow 127.0.0.1 / ntstrustedcerts (that certificate) /
//     server 127.0.0.1 port 11123 iburst minpoll 0 maxpoll 0
//     server 127.0.0.2 port 11123 iburst minpoll 0 maxpoll 0 key 1
//     server ::1 port 11123 iburst minpoll 0 maxpoll 0
//     server 127.0.0.4 port 11123 iburst minpoll 0 maxpoll 0 nts ntsport 11460
//     server 127.0.0.3 port 11999 minpoll 0 maxpoll 0          (nothing listens there)
//     server unresolvable.invalid iburst                       (an unresolved source, ID#1)
//     peer 127.0.0.5 port 11123 minpoll 0 maxpoll 0            (the upstream, passive)
//     smoothtime 400 0.001
//     refclock SOCK DIR/refclock.sock refid SOCK poll 0        (fed 40 samples, 1 s apart)
// and NTP client requests went to the target from 127.0.1.1..12 for 40 s before the capture.
//
// "udp" exchanges: `chronyc -h 127.0.0.1 -p 11323 ARGS`, read from `tcpdump -U -i lo udp port
// 11323` in the namespace. "unix" exchanges: `chronyc -h DIR/chronyd.sock ARGS`, read from
// `strace -f -xx -e trace=sendto,recvfrom,sendmsg,recvmsg`. "own" exchanges: one request built
// by capture_cmdmon.py in Python from candm.h's layouts (not by our encoder), sent from a
// socket in the namespace, and chronyd's answer (none when it dropped the request).
// `output` is chronyc's stdout (CSV: chronyc -c), the values the tests compare with.

#include <span>
#include <string_view>

namespace ntpkit::test::cmdmon_captured {{

/// One datagram: from_server false for the request, true for chronyd's reply.
struct datagram {{
  bool from_server;
  std::string_view hex;
}};

/// One chronyc run (or one request of our own) and the datagrams it exchanged, in order.
struct exchange {{
  std::string_view transport;  ///< "udp" or "unix"
  std::string_view command;    ///< chronyc's arguments, or what our own request is
  std::string_view output;     ///< chronyc's stdout
  std::span<const datagram> datagrams;
}};
"""]
    for name, e in named:
        out.append(f"\n/// {e['transport']}: {e['command']}\ninline constexpr datagram {name}_datagrams[] = {{\n")
        for kind, h in e["datagrams"]:
            out.append(f"    {{{'true' if kind == 'reply' else 'false'}, {cxx_hex(h)}}},\n")
        out.append("};\n")
        out.append(f"inline constexpr exchange {name}{{\n    \"{e['transport']}\", \"{e['command']}\",\n"
                   f"{cxx_string(e['stdout'])},\n    {name}_datagrams}};\n")
    out.append("\n/// Every exchange above.\ninline constexpr const exchange* all[] = {\n")
    for name, _ in named:
        out.append(f"    &{name},\n")
    out.append("};\n\n}  // namespace ntpkit::test::cmdmon_captured\n")
    return "".join(out)


def corpus(named, directory):
    os.makedirs(directory, exist_ok=True)
    for name, e in named:
        replies = [bytes.fromhex(h) for k, h in e["datagrams"] if k == "reply"]
        requests = [bytes.fromhex(h) for k, h in e["datagrams"] if k != "reply"]
        tag = name.replace("_", "-")
        for i, r in enumerate(replies):
            write(directory, f"chrony-{tag}-reply{i}", b"\x00" + r)
        for i, r in enumerate(requests):
            write(directory, f"chronyc-{tag}-request{i}", b"\x01" + r)
        # The session, request by request: each request's reply delivered to a query of that
        # command and sequence (fuzz_cmdmon.cpp selector 2, event 0: a datagram as it came).
        pairs = []
        pending = None
        for k, h in e["datagrams"]:
            if k != "reply":
                pending = bytes.fromhex(h)
            elif pending is not None:
                pairs.append((pending, bytes.fromhex(h)))
                pending = None
        for i, (req, rep) in enumerate(pairs):
            if len(req) < 20:
                continue
            command, = struct.unpack_from(">H", req, 4)
            sequence, = struct.unpack_from(">I", req, 8)
            index = struct.unpack_from(">I", req, 20)[0] if len(req) >= 24 else 0
            flags = 2 if req[0] == 6 else 2 | 4
            plan = b"\x02" + struct.pack(">HIBI", command, sequence, flags, index)
            write(directory, f"session-{tag}-{i}", plan + event(0, rep))
    # Walks over chronyc's captured pages (selector 3, event 1: answers the request in flight).
    by_name = dict(named)
    for kind, name in ((0, "unix_clients"), (1, "udp_sources"), (1, "udp_sources_named")):
        replies = [bytes.fromhex(h) for k, h in by_name[name]["datagrams"] if k == "reply"]
        data = bytes([3, kind, 2]) + b"".join(event(1, r) for r in replies)
        write(directory, f"walk-{name.replace('_', '-')}", data)
    # Synthetic scripts: no answer at all, receive errors, a version 5 chronyd.
    tracking = struct.pack(">HIBI", 33, 0x01020304, 2, 0)
    write(directory, "syn-session-timeouts", b"\x02" + tracking + bytes([2, 2, 2, 2]))
    write(directory, "syn-session-refused", b"\x02" + tracking + bytes([3, 3, 3]))
    write(directory, "syn-session-send-failed", b"\x02" + tracking + bytes([4]))
    v5_bad = struct.pack(">BBBBHHHHHHIII", 5, 2, 0, 0, 33, 1, 18, 0, 0, 0, 0x01020304, 0, 0)
    v5_tracking = bytearray(bytes.fromhex(by_name["udp_tracking"]["datagrams"][1][1]))
    v5_tracking[0] = 5
    struct.pack_into(">I", v5_tracking, 16, 0x01020304)
    write(directory, "syn-session-version5",
          b"\x02" + tracking + event(0, v5_bad) + event(0, bytes(v5_tracking)))
    short = bytes.fromhex(by_name["udp_tracking"]["datagrams"][1][1])[:60]
    write(directory, "syn-session-short-replies", b"\x02" + tracking + event(1, short) * 3)


def event(kind, data):
    return bytes([kind]) + struct.pack(">H", len(data)) + data


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def main():
    cap = json.load(open(sys.argv[1]))
    seen = set()
    named = [(name_of(e, seen), e) for e in cap["exchanges"]]
    with open(os.path.join(ROOT, "tests", "proto", "cmdmon_captured.hpp"), "w") as f:
        f.write(header(cap, named))
    corpus(named, os.path.join(ROOT, "tests", "fuzz", "corpus", "cmdmon"))


if __name__ == "__main__":
    main()
