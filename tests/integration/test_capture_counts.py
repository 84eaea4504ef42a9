"""The capture layer's census (capture/flows.hpp) against tshark on the same files.

Files the test writes itself (every link type, VLAN tags, IPv6 extension headers, each
tunnel, pcapng with several interfaces, fragments, truncated and garbage frames) and files
tcpdump captured on loopback of a namespace while real clients (ntpdig, python3-ntplib v3 and
v4, chronyd as a client, ntpq's mode 6) talked to a real chronyd: the counts of
`tests/capture_census` (the census engine over libpcap, as JSON) must equal what tshark
counts with the fields and filters written below. Delta time: a responder that holds its
answers by known times; the reported times match the holds, and a retry and a lost answer are
not mismatched (where Wireshark's "latest request in the conversation" is). gzip: the same
capture compressed gives the same counts. A file cut inside a frame: the cut is reported and
the frames before it counted.

tshark runs with IPv4/IPv6 reassembly off (-o ip.defragment:FALSE): it would otherwise dissect
a first fragment's UDP header as a whole datagram, which the census refuses to do.
"""

import collections
import gzip
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest

import peers

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-ntplib is installed
HERE = os.path.dirname(os.path.abspath(__file__))


def census(*args):
    """tests/capture_census ARGS as a dict."""
    tool = os.path.join(peers.build_dir(), "tests", "capture_census")
    out = peers.run([tool] + [str(a) for a in args], check=True, timeout=120)
    return json.loads(out.stdout)


def tshark(path, fields, display_filter, port=123):
    """tshark's -T fields rows (lists of strings) for the frames `display_filter` keeps; the
    last occurrence of a field repeated by tunnels (the innermost)."""
    cmd = ["tshark", "-n", "-2", "-r", path, "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE", "-Y", display_filter, "-T", "fields",
           "-E", "occurrence=l"]
    if port != 123:
        cmd += ["-d", f"udp.port=={port},ntp"]
    for f in fields:
        cmd += ["-e", f]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode not in (0, 2):  # 2: "cut short in the middle of a packet"
        raise RuntimeError(f"tshark failed: {result.stderr}")
    return [line.split("\t") for line in result.stdout.splitlines()]


# Filters on tshark's side, spelled once.
NOT_FRAGMENT = ("!(ip.flags.mf == 1) && !(ip.frag_offset > 0) && !(ipv6.fraghdr.more == 1)"
                " && !(ipv6.fraghdr.offset > 0)")


def on_port(port):
    """UDP datagrams on the port; a UDP header that does not fit in its IP payload
    (udp.length.bad) is no datagram for either tool."""
    return f"udp.port == {port} && !icmp && !icmpv6 && !udp.length.bad && {NOT_FRAGMENT}"


def compare_with_tshark(case, path, port=123, expect_clients=None):
    """The counts both tools must agree on; returns the census."""
    ours = census("--port", port, path)
    rows = tshark(path, ["frame.number"], on_port(port), port)
    case.assertEqual(ours["frames"]["ntp"], len(rows), "datagrams on the NTP port")
    modes = tshark(path, ["ntp.flags.mode", "ntp.flags.vn"],
                   f"{on_port(port)} && ntp && !_ws.malformed", port)
    by_mode = collections.Counter(int(m) for m, _ in modes)
    by_version = collections.Counter(int(v) for _, v in modes)
    for mode in range(1, 8):
        case.assertEqual(ours["datagrams"]["split"]["mode"][mode], by_mode[mode], f"mode {mode}")
    for version in range(8):
        case.assertEqual(ours["datagrams"]["split"]["version"][version], by_version[version],
                         f"version {version}")
    clients = tshark(path, ["_ws.col.Source"],
                     f"{on_port(port)} && udp.dstport == {port} && ntp.flags.mode <= 3"
                     f" && ntp.flags.mode >= 1 && !_ws.malformed && udp.srcport != 0", port)
    theirs = {row[0] for row in clients}
    case.assertEqual({t["address"] for t in ours["talkers"]}, theirs, "distinct clients")
    case.assertEqual(ours["clients"], len(theirs))
    if expect_clients is not None:
        case.assertEqual(ours["clients"], expect_clients)
    return ours


# --- a pcap/pcapng writer and frame builder (checksums 0: neither tool checks them) ---

C4 = bytes([192, 0, 2, 10])
S4 = bytes([198, 51, 100, 1])
C6 = bytes.fromhex("20010db8000000000000000000000010")
S6 = bytes.fromhex("20010db8000000000000000000000001")


def ntp(first, transmit=0x1122334455667788, size=48, origin=0):
    return (bytes([first, 2 if first & 7 == 4 else 0, 6, 0xec]) + bytes(20) +
            struct.pack("!QQQ", origin, 0, transmit) + bytes(size - 48))


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, len(payload) + 8, 0) + payload


def ipv4(proto, payload, src=C4, dst=S4, options=b"", frag=0):
    ihl = 5 + len(options) // 4
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(payload), 7,
                       frag, 64, proto, 0, src, dst) + options + payload


def ipv6(nh, payload, src=C6, dst=S6, exts=b""):
    return struct.pack("!IHBB16s16s", 0x60000000, len(exts) + len(payload), nh, 64, src,
                       dst) + exts + payload


def eth(ethertype, payload, tags=()):
    head = bytes.fromhex("020000000001020000000002")
    for tpid in tags:
        head += struct.pack("!HH", tpid, 100)
    frame = head + struct.pack("!H", ethertype) + payload
    return frame + bytes(max(0, 60 - len(frame)))


def gre(proto, payload, flags=0):
    extra = b"".join(bytes(4) for bit in (0x8000, 0x2000, 0x1000) if flags & bit)
    return struct.pack("!HH", flags, proto) + extra + payload


def vxlan(inner):
    return bytes([8, 0, 0, 0, 0, 0, 42, 0]) + inner


def pcap_bytes(link_type, frames, t0=1_764_000_000.0):
    out = struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, link_type)
    for i, frame in enumerate(frames):
        ns = int(t0 * 1e9) + i * 1_000_000
        out += struct.pack("<IIII", ns // 10**9, ns % 10**9, len(frame), len(frame)) + frame
    return out


def pcapng_block(kind, body):
    body += bytes(-len(body) % 4)
    return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def pcapng_bytes(interfaces, frames, t0=1_764_000_000.0):
    """interfaces: [(link_type, tsresol)]; frames: [(interface, bytes)]."""
    out = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for link_type, tsresol in interfaces:
        out += pcapng_block(1, struct.pack("<HHI", link_type, 0, 65535) +
                            struct.pack("<HHB3x", 9, 1, tsresol) + bytes(4))
    for i, (interface, frame) in enumerate(frames):
        units = (int(t0 * 1e9) + i * 1_000_000) // (1000 if interfaces[interface][1] == 6 else 1)
        out += pcapng_block(6, struct.pack("<IIIII", interface, units >> 32, units & 0xffffffff,
                                           len(frame), len(frame)) + frame)
    return out


def sampler():
    """(link type, frames) per link type: requests of several clients, versions and modes,
    answers, control and private modes, tunnels, fragments, garbage."""
    req4 = lambda src, v=4: ipv4(17, udp(40000, 123, ntp(v << 3 | 3)), src=src)  # noqa: E731
    req6 = lambda src, v=4: ipv6(17, udp(40000, 123, ntp(v << 3 | 3)), src=src)  # noqa: E731
    answer4 = ipv4(17, udp(123, 40000, ntp(0x24, 0x99, origin=0x1122334455667788)), S4, C4)
    ext = bytes([17, 0]) + bytes(6)  # hop-by-hop, 8 bytes
    dst_opts = bytes([51, 1]) + bytes(14)  # destination options, 16 bytes, then AH
    ah = bytes([17, 1]) + bytes(10)  # AH, 12 bytes
    src = lambda n: bytes([192, 0, 2, n])  # noqa: E731
    src6 = lambda n: bytes.fromhex("20010db8000000000000000000000a") + bytes([n])  # noqa: E731
    ip_frames = [
        req4(src(1)), req4(src(2), 3), req4(src(3), 2), answer4,
        req6(src6(1)), ipv6(0, udp(40000, 123, ntp(0x23)), src=src6(2), exts=ext),
        ipv6(60, udp(40000, 123, ntp(0x1b)), src=src6(3), exts=dst_opts + ah),
        ipv4(17, udp(40000, 123, ntp(0x23)), src=src(4), options=bytes([1] * 8)),
        ipv4(17, udp(40001, 123, bytes([0x16, 2, 0, 1]) + bytes(8)), src=src(5)),  # mode 6
        ipv4(17, udp(40002, 123, bytes([0x17, 0, 3, 42]) + bytes(4)), src=src(6)),  # mode 7
        ipv4(17, udp(123, 123, ntp(0x19)), src=src(7)),  # symmetric active, v3
        ipv4(41, req6(src6(4))),  # 6in4
        ipv4(4, req4(src(8))),  # IPv4 in IPv4
        ipv4(47, gre(0x0800, req4(src(9)), 0xb000)),  # GRE with checksum, key, sequence
        ipv4(47, gre(0x86dd, req6(src6(5)))),
        ipv4(17, udp(40000, 53, bytes(20))),  # DNS: other UDP
        ipv4(6, bytes(20)),  # TCP
        ipv4(17, udp(40000, 123, req4(src(10))[28:28 + 16]), src=src(11), frag=0x2000),  # first
        ipv4(17, bytes(24), src=src(11), frag=3),  # later fragment
        ipv6(44, udp(40000, 123, ntp(0x23)), src=src6(6), exts=bytes([17, 0, 0, 1]) + bytes(4)),
        ipv4(1, req4(src(12))),  # ICMP quoting a request
    ]
    eth_frames = [eth(0x0800, f) if f[0] >> 4 == 4 else eth(0x86dd, f) for f in ip_frames]
    eth_frames += [
        eth(0x0800, req4(src(20)), (0x8100,)), eth(0x86dd, req6(src6(20)), (0x88a8, 0x8100)),
        eth(0x0800, req4(src(21)), (0x9100,)),
        eth(0x0800, ipv4(47, gre(0x6558, eth(0x0800, req4(src(22)))))),  # GRE TEB
        eth(0x0800, ipv4(17, udp(50000, 4789, vxlan(eth(0x0800, req4(src(23))))))),  # VXLAN
        eth(0x0806, bytes(28)),  # ARP
        eth(0x0800, req4(src(24)))[:30],  # cut inside the IPv4 header
        eth(0x0800, ipv4(17, udp(40000, 123, bytes([0x23]) + bytes(20)), src=src(25))),  # short
        eth(0x0800, bytes(range(64))),  # garbage: IP version 0
        eth(0x86dd, b"\x60" + bytes(10)),  # an IPv6 header cut short
        eth(0x0800, bytes([0x45]) + random.Random(14).randbytes(90)),  # garbage behind 0x45
        eth(0x0800, ipv4(17, udp(40000, 123, ntp(0x23))[:6], src=src(26))),  # UDP cut
    ]
    fam = lambda f: 2 if f[0] >> 4 == 4 else 30  # noqa: E731
    return {
        "ethernet": (1, eth_frames),
        "raw": (101, ip_frames),
        "ipv4": (228, [f for f in ip_frames if f[0] >> 4 == 4]),
        "ipv6": (229, [f for f in ip_frames if f[0] >> 4 == 6]),
        "sll": (113, [bytes(14) + (b"\x08\x00" if f[0] >> 4 == 4 else b"\x86\xdd") + f
                      for f in ip_frames]),
        "sll2": (276, [(b"\x08\x00" if f[0] >> 4 == 4 else b"\x86\xdd") + bytes(18) + f
                       for f in ip_frames]),
        "null": (0, [struct.pack("<I", fam(f)) + f for f in ip_frames]),
        "loop": (108, [struct.pack(">I", 2 if fam(f) == 2 else 24) + f for f in ip_frames]),
    }


def start_tcpdump(ns, path, expression):
    """tcpdump on the namespace's lo writing `path` with ns timestamps; returns once it says
    it is listening. -U writes each packet at once; --immediate-mode has libpcap hand each one
    over at once too: without it, packets still in the kernel's ring block when SIGINT comes
    are counted "received by filter" and never written."""
    proc = ns.popen(["tcpdump", "-U", "--immediate-mode", "-n", "-i", "lo",
                     "--time-stamp-precision=nano", "-w", path, expression],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    line = b""
    while b"listening" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
    return proc


def stop_tcpdump(proc):
    """SIGINT to our tcpdump (by its PID): it writes what it has and exits."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    proc.stderr.close()


def keep_captures(directory, names):
    """NTPKIT_CAPTURE_KEEP=DIR keeps the captures (the fuzz corpus is made from them)."""
    keep = os.environ.get("NTPKIT_CAPTURE_KEEP")
    if keep:
        os.makedirs(keep, exist_ok=True)
        for name in names:
            shutil.copy(os.path.join(directory, name), keep)


class NkcapNamespace(peers.Namespace):
    """A namespace named nkcap-<pid>-<n> (the capture work's own prefix)."""

    _count = 0

    def __init__(self):
        super().__init__()
        NkcapNamespace._count += 1
        self.name = f"nkcap-{os.getpid()}-{NkcapNamespace._count}"


class SyntheticCaptures(unittest.TestCase):
    """Files the test writes: both tools read them; the counts agree."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nkcap-")
        self.addCleanup(shutil.rmtree, self.dir)

    def path(self, name, data):
        p = os.path.join(self.dir, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def test_every_link_type(self):
        for name, (link_type, frames) in sampler().items():
            with self.subTest(link=name):
                ours = compare_with_tshark(self, self.path(f"{name}.pcap",
                                                           pcap_bytes(link_type, frames)))
                self.assertEqual(ours["files"][0]["error"], "")
                # The first fragment (UDP on port 123) is counted as a fragment, not as NTP,
                # and so is the IPv6 one; the later IPv4 fragment too.
                v4, v6 = name != "ipv6", name != "ipv4"
                garbage = name == "ethernet"  # the random bytes behind 0x45 set MF/offset
                self.assertEqual(ours["frames"]["fragments"], 2 * v4 + v6 + garbage)
                self.assertEqual(ours["frames"]["fragments_ntp_port"], v4 + v6)
                self.assertEqual(ours["control_clients"], 2 * v4)
                if name == "ethernet":
                    self.assertEqual(ours["frames"]["vlan"], 3)
                    self.assertEqual(ours["frames"]["truncated"], 1)
                    self.assertEqual(ours["frames"]["bad_header"], 3)
                    self.assertEqual(ours["frames"]["not_ip"], 1)
                    self.assertEqual(ours["datagrams"]["malformed"], 1)
                    self.assertEqual(ours["frames"]["tunnelled"], 6)

    def test_pcapng_with_several_interfaces(self):
        _, eth_frames = sampler()["ethernet"]
        frames = [(i % 2, f) for i, f in enumerate(eth_frames)]
        path = self.path("two.pcapng", pcapng_bytes([(1, 9), (1, 6)], frames))
        ours = compare_with_tshark(self, path)
        self.assertTrue(ours["files"][0]["pcapng"])
        self.assertEqual(ours["files"][0]["frames"], len(frames))

    def test_pcapng_with_mixed_link_types_stops_where_libpcap_does(self):
        # libpcap reads one link type per file: it stops at the second interface's
        # description, which here comes after the first three frames.
        raw = sampler()["raw"][1]
        first = pcapng_bytes([(101, 9)], [(0, f) for f in raw[:3]])
        second = pcapng_bytes([(1, 9)], [(0, eth(0x0800, f)) for f in raw[:2]])
        rest = bytearray(second[28:])
        idb_length = struct.unpack_from("<I", rest, 4)[0]
        for at in (idb_length, idb_length + struct.unpack_from("<I", rest, idb_length + 4)[0]):
            struct.pack_into("<I", rest, at + 8, 1)  # the EPBs name interface 1
        path = self.path("mixed.pcapng", first + bytes(rest))
        self.assertEqual(len(tshark(path, ["frame.number"], "frame")), 5)  # tshark reads all
        ours = census(path)
        self.assertEqual(ours["files"][0]["error"], "mixed_interfaces")
        self.assertEqual(ours["files"][0]["frames"], 3)
        self.assertEqual(ours["frames"]["frames"], 3)

    def test_several_files_are_merged(self):
        a = self.path("a.pcap", pcap_bytes(101, sampler()["raw"][1], t0=1_764_000_000.0))
        b = self.path("b.pcap", pcap_bytes(1, sampler()["ethernet"][1], t0=1_764_000_000.0005))
        ours = census(a, b)
        both = census(a)["frames"]["ntp"] + census(b)["frames"]["ntp"]
        self.assertEqual(ours["frames"]["ntp"], both)


class RealTraffic(unittest.TestCase):
    """tcpdump on a namespace's loopback while real clients ask a real chronyd."""

    @classmethod
    def setUpClass(cls):
        peers.require_netns()
        cls.dir = tempfile.mkdtemp(prefix="nkcap-")
        cls.ns = NkcapNamespace()
        cls.ns.__enter__()
        try:
            cls.ns.add_address("127.0.0.2/8")
            cls.ns.add_address("127.0.0.3/8")
            cls.capture = os.path.join(cls.dir, "lo.pcap")
            cls.held = os.path.join(cls.dir, "held.pcap")
            cls._record_clients()
            cls._record_held()
        except BaseException:
            cls.ns.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ns.close()
        keep_captures(cls.dir, ("lo.pcap", "held.pcap"))
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def _record_clients(cls):
        with peers.Chronyd(cls.ns, port=123, bind=(), allow=("127.0.0.0/8", "::1")) as chrony:
            dump = start_tcpdump(cls.ns, cls.capture, "udp port 123")
            try:
                for host in ("127.0.0.1", "::1"):
                    cls.ns.run(["ntpdig", host], timeout=20)
                cls.ns.run([SYSTEM_PYTHON, os.path.join(HERE, "capture_traffic.py"), "ntplib",
                            "127.0.0.1", "123", "127.0.0.2", "127.0.0.3"], timeout=30, check=True)
                cls.ns.run([SYSTEM_PYTHON, os.path.join(HERE, "capture_traffic.py"), "ntplib",
                            "::1", "123", "::1"], timeout=30, check=True)
                client_conf = os.path.join(cls.dir, "client.conf")
                with open(client_conf, "w") as f:
                    f.write("server 127.0.0.1 iburst maxsamples 1\nbindacqaddress 127.0.0.3\n"
                            f"pidfile {cls.dir}/client.pid\n")
                cls.ns.run([chrony.chronyd, "-Q", "-u", "root", "-f", client_conf], timeout=30)
                cls.ns.run(["ntpq", "-c", "rv", "127.0.0.1"], timeout=20)  # mode 6, unanswered
                time.sleep(0.5)
            finally:
                stop_tcpdump(dump)

    @classmethod
    def _record_held(cls):
        dump = start_tcpdump(cls.ns, cls.held, "udp port 12300")
        try:
            out = cls.ns.run([SYSTEM_PYTHON, os.path.join(HERE, "capture_traffic.py"), "held",
                              "12300"], timeout=30, check=True)
            cls.plan = json.loads(out.stdout)
            time.sleep(0.3)
        finally:
            stop_tcpdump(dump)

    def test_counts_equal_tshark(self):
        # Clients: 127.0.0.1 (ntpdig, ntpq), ::1 (ntpdig, ntplib), 127.0.0.2 (ntplib),
        # 127.0.0.3 (ntplib, chronyd as a client); ntpq's mode 6 is a control client.
        ours = compare_with_tshark(self, self.capture, expect_clients=4)
        self.assertEqual(ours["control_clients"], 1)
        packets = {t["address"]: t["packets"] for t in ours["talkers"]}
        self.assertGreaterEqual(packets["127.0.0.3"], 3)  # ntplib v3, v4, then chronyd -Q
        self.assertGreaterEqual(ours["client_split"]["version"][3], 2)  # ntplib v3
        self.assertGreaterEqual(ours["client_split"]["version"][4], 3)
        # Every request was answered, each answer matched as tshark matches it in a clean
        # capture, with the same delta to the nanosecond.
        m = ours["matching"]
        self.assertEqual(m["unanswered"] + m["pending_at_end"], 0)
        self.assertEqual(m["matched"], m["requests"])
        theirs = {int(f): (int(r), round(float(d) * 1e9)) for f, r, d in tshark(
            self.capture, ["frame.number", "ntp.request_in", "ntp.delta_time"],
            "ntp.delta_time")}
        self.assertEqual(len(theirs), m["matched"])
        for a in ours["answers"]:
            self.assertEqual(theirs[a["response_frame"]], (a["request_frame"], a["delta_ns"]))

    def test_gzip_gives_the_same_counts(self):
        packed = os.path.join(self.dir, "lo.pcap.gz")
        with open(self.capture, "rb") as src, gzip.open(packed, "wb") as dst:
            shutil.copyfileobj(src, dst)
        plain, compressed = census(self.capture), census(packed)
        self.assertTrue(compressed["files"][0]["compressed"])
        for key in ("frames", "datagrams", "clients", "matching", "answers", "talkers"):
            self.assertEqual(plain[key], compressed[key], key)

    def test_a_cut_file_reports_the_cut_and_keeps_the_frames_before(self):
        with open(self.capture, "rb") as f:
            data = f.read()
        cut = os.path.join(self.dir, "cut.pcap")
        with open(cut, "wb") as f:
            f.write(data[:-7])
        whole, ours = census(self.capture), census(cut)
        self.assertEqual(ours["files"][0]["error"], "cut")
        self.assertEqual(ours["frames"]["frames"], whole["frames"]["frames"] - 1)
        self.assertEqual(len(tshark(cut, ["frame.number"], "frame")), ours["frames"]["frames"])

    def test_delta_time_matches_the_holds(self):
        ours = census("--port", 12300, "--timeout-ms", 1000, self.held)
        rows = tshark(self.held, ["frame.number", "ntp.flags.mode", "ntp.xmt", "ntp.org",
                                  "ntp.request_in"], "ntp", port=12300)
        self.assertEqual(ours["frames"]["ntp"], len(rows))
        # The requests went out in the plan's order; an answer names its request by origin,
        # which tshark prints as it printed that request's transmit.
        requests = [(int(f), xmt) for f, mode, xmt, _, _ in rows if mode == "3"]
        self.assertEqual(len(requests), len(self.plan))
        hold_of_stamp = {xmt: entry["hold"] for (_, xmt), entry in zip(requests, self.plan)}
        request_hold = {frame: hold_of_stamp[xmt] for frame, xmt in requests}
        m = ours["matching"]
        self.assertEqual(m["requests"], 6)
        self.assertEqual(m["matched"], 5)
        self.assertEqual(m["unanswered"] + m["pending_at_end"], 1)
        self.assertEqual(m["unmatched_responses"] + m["duplicate_responses"], 0)
        for a in ours["answers"]:
            hold = request_hold[a["request_frame"]]
            self.assertIsNotNone(hold)
            # On the wire the answer comes after its hold, and not much later (a loaded
            # machine may add some milliseconds; the holds are 20 ms or more apart).
            self.assertGreaterEqual(a["delta_ns"], hold * 1e9)
            self.assertLess(a["delta_ns"], hold * 1e9 + 25e6)
        # Wireshark 4.0 looks for the latest request in the conversation, which by then is the
        # next request, already answered: it leaves the 400 ms answer without its request
        # (no ntp.request_in, no delta time), where matching on the origin pairs them.
        late_request = [f for f, h in request_hold.items() if h == 0.400][0]
        late_answer = [int(f) for f, mode, _, org, _ in rows
                       if mode == "4" and hold_of_stamp.get(org) == 0.400][0]
        their_pairing = {int(f): int(r) for f, _, _, _, r in rows if r}
        self.assertNotEqual(their_pairing.get(late_answer), late_request)
        ours_pairing = {a["response_frame"]: a["request_frame"] for a in ours["answers"]}
        self.assertEqual(ours_pairing[late_answer], late_request)


class NtpdTraffic(unittest.TestCase):
    """The same with NTPsec's ntpd (no CAP_SYS_TIME) as the server: its answers to ntpdig and
    python3-ntplib, and ntpq's mode 6 conversation, which ntpd answers."""

    @classmethod
    def setUpClass(cls):
        peers.require_netns()
        cls.dir = tempfile.mkdtemp(prefix="nkcap-")
        cls.ns = NkcapNamespace()
        cls.ns.__enter__()
        try:
            cls.capture = os.path.join(cls.dir, "ntpd.pcap")
            with peers.Ntpd(cls.ns):
                dump = start_tcpdump(cls.ns, cls.capture, "udp port 123")
                try:
                    cls.ns.run(["ntpdig", "127.0.0.1"], timeout=20)
                    cls.ns.run(["ntpdig", "::1"], timeout=20)
                    cls.ns.run([SYSTEM_PYTHON, os.path.join(HERE, "capture_traffic.py"),
                                "ntplib", "127.0.0.1", "123", "127.0.0.1"], timeout=30,
                               check=True)
                    cls.ns.run(["ntpq", "-n", "-c", "rv", "127.0.0.1"], timeout=20)
                    time.sleep(0.5)
                finally:
                    stop_tcpdump(dump)
        except BaseException:
            cls.ns.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ns.close()
        keep_captures(cls.dir, ("ntpd.pcap",))
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_counts_equal_tshark(self):
        ours = compare_with_tshark(self, self.capture, expect_clients=2)
        self.assertEqual(ours["control_clients"], 1)
        self.assertGreaterEqual(ours["datagrams"]["split"]["mode"][6], 2)  # asked and answered
        m = ours["matching"]
        self.assertEqual(m["matched"], m["requests"])
        self.assertEqual(m["requests"], 4)  # ntpdig twice, ntplib v3 and v4
        theirs = {int(f): (int(r), round(float(d) * 1e9)) for f, r, d in tshark(
            self.capture, ["frame.number", "ntp.request_in", "ntp.delta_time"],
            "ntp.delta_time && ntp.flags.mode == 4")}
        self.assertEqual(len(theirs), m["matched"])
        for a in ours["answers"]:
            self.assertEqual(theirs[a["response_frame"]], (a["request_frame"], a["delta_ns"]))
        # ntpd's own view: T3 - T2 is positive and far below the delta on the wire.
        self.assertGreater(ours["processing"]["min_ns"], 0)
        self.assertLess(ours["processing"]["max_ns"], ours["delta"]["max_ns"])


if __name__ == "__main__":
    unittest.main()
