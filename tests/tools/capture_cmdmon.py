#!/usr/bin/env python3
"""Captures chrony's command protocol (what chronyc speaks) between real programs, by hand.

This is how the vectors in tests/proto/cmdmon_captured.hpp and tests/fuzz/corpus/cmdmon/ were
made; the tests never run it (it needs root, a network namespace and Debian's chrony). It:

1. makes a network namespace nkcm-cap-PID with lo up, and in it two chronyd (-x: the clock is
   never touched; -u root; absolute -f; own pidfile, sockets and state in a temp dir):
   "upstream" (NTP on port 11123, symmetric key 1, NTS-KE on 11460, local stratum 3) and
   "target" (NTP on 11124, commands on UDP 11323 and a Unix socket), whose sources are the
   upstream over 127.0.0.1, 127.0.0.2 (key 1), ::1 and 127.0.0.4 (NTS), a silent
   127.0.0.3:11999, an unresolvable name, the upstream as a symmetric peer over 127.0.0.5,
   and a SOCK reference clock fed from here; and time smoothing (smoothtime);
2. sends NTP client requests to the target from 127.0.1.1..12 so that its client log has more
   than one page;
3. runs tcpdump -U on lo for UDP port 11323 while chronyc -h 127.0.0.1 -p 11323 -c ... runs the
   open commands, and strace -xx on chronyc -h SOCK -c ... for the commands that need the
   socket; sends some requests of its own (status replies, our padding lengths);
4. writes every exchange (request and reply bytes, chronyc's command, stdout, stderr) as JSON
   to OUT (default capture.json), stops every process it started by PID and deletes the
   namespace.

    sudo tests/tools/capture_cmdmon.py --chrony build-cm/peers/chrony/root/usr --out cap.json
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

COMMAND_TIMEOUT = 20


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, **kw)


class Capture:
    def __init__(self, chrony_root, out):
        self.chronyd = os.path.join(chrony_root, "sbin", "chronyd")
        self.chronyc_path = os.path.join(chrony_root, "bin", "chronyc")
        self.out = out
        self.ns = f"nkcm-cap-{os.getpid()}"
        self.dir = tempfile.mkdtemp(prefix="nkcm-")
        self.pids = []
        self.exchanges = []

    # --- namespace and processes ---

    def netns(self, cmd):
        return ["ip", "netns", "exec", self.ns] + cmd

    def setup(self):
        run(["ip", "netns", "add", self.ns]).check_returncode()
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"]).check_returncode()
        for name in ("up", "tg"):
            os.makedirs(os.path.join(self.dir, name), mode=0o700)
        with open(os.path.join(self.dir, "chrony.keys"), "w") as f:
            f.write("1 SHA1 HEX:6B5F2C9A1D0E8F7A6B5C4D3E2F1A0B9C8D7E6F50\n")
        key = os.path.join(self.dir, "up", "server.key")
        crt = os.path.join(self.dir, "up", "server.crt")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
             "-subj", "/CN=127.0.0.4", "-addext", "subjectAltName=IP:127.0.0.4",
             "-days", "2"]).check_returncode()
        d = self.dir
        self.start("up", [
            "port 11123", "allow 127.0.0.0/8", "allow ::1", "local stratum 3",
            f"keyfile {d}/chrony.keys", "ntsport 11460", f"ntsservercert {crt}",
            f"ntsserverkey {key}", f"ntsdumpdir {d}/up", "ntsprocesses 0", "cmdport 0",
            f"bindcmdaddress {d}/up/chronyd.sock"])
        self.start("tg", [
            "port 11124", "allow 127.0.0.0/8", "local stratum 8", f"keyfile {d}/chrony.keys",
            "cmdport 11323", "bindcmdaddress 127.0.0.1", f"bindcmdaddress {d}/tg/chronyd.sock",
            "cmdallow 127.0.0.1", f"ntstrustedcerts {crt}", f"ntsdumpdir {d}/tg",
            "server 127.0.0.1 port 11123 iburst minpoll 0 maxpoll 0",
            "server 127.0.0.2 port 11123 iburst minpoll 0 maxpoll 0 key 1",
            "server ::1 port 11123 iburst minpoll 0 maxpoll 0",
            "server 127.0.0.4 port 11123 iburst minpoll 0 maxpoll 0 nts ntsport 11460",
            "server 127.0.0.3 port 11999 minpoll 0 maxpoll 0",
            "server unresolvable.invalid iburst",
            "peer 127.0.0.5 port 11123 minpoll 0 maxpoll 0", "smoothtime 400 0.001",
            f"refclock SOCK {d}/tg/refclock.sock refid SOCK poll 0"])

    def start(self, name, lines):
        d = os.path.join(self.dir, name)
        conf = os.path.join(d, "chrony.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines + [f"pidfile {d}/chronyd.pid",
                                       f"driftfile {d}/chrony.drift", ""]))
        r = run(self.netns([self.chronyd, "-x", "-u", "root", "-f", conf,
                            "-l", os.path.join(d, "chronyd.log")]))
        if r.returncode != 0:
            raise RuntimeError(f"chronyd {name}: {r.stderr}")
        pidfile = os.path.join(d, "chronyd.pid")
        for _ in range(100):
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                self.pids.append(int(open(pidfile).read()))
                return
            time.sleep(0.1)
        raise RuntimeError(f"chronyd {name} wrote no pid file")

    def teardown(self):
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    os.kill(pid, 0)
                    time.sleep(0.1)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run(["ip", "netns", "delete", self.ns])
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- traffic that gives the target's reports content ---

    def feed(self, seconds):
        """Feeds the SOCK refclock once a second and sends NTP client requests from 127.0.1.x,
        all from a helper inside the namespace (bounded: one sample and 12 requests a second)."""
        helper = f"""
import socket, struct, time
rc = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
clients = []
for i in range(1, 13):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.1.%d" % i, 0))
    clients.append(s)
for n in range({int(seconds)}):
    now = time.time()
    sample = struct.pack("=qqdiiii", int(now), int((now % 1) * 1e6), 0.000123 + 1e-6 * (n % 5),
                         0, 0, 0, 0x534f434b)
    try:
        rc.sendto(sample, "{self.dir}/tg/refclock.sock")
    except OSError:
        pass
    for i, s in enumerate(clients):
        if n % (1 + i % 3) == 0:
            s.sendto(bytes([0x23]) + bytes(47), ("127.0.0.1", 11124))
    time.sleep(1)
"""
        subprocess.run(self.netns([sys.executable, "-c", helper]), timeout=seconds + 30,
                       check=True)

    # --- captures ---

    def run_chronyc(self, args):
        return run(self.netns([self.chronyc_path] + args))

    def udp_commands(self, commands):
        pcap = os.path.join(self.dir, "cmd.pcap")
        tcpdump = subprocess.Popen(self.netns(["tcpdump", "-U", "-n", "-i", "lo", "-w", pcap,
                                               "udp port 11323"]),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(1.5)
            results = []
            for args in commands:
                r = self.run_chronyc(["-h", "127.0.0.1", "-p", "11323"] + args)
                results.append((args, r))
                time.sleep(0.2)
            time.sleep(1)
        finally:
            tcpdump.send_signal(signal.SIGINT)
            tcpdump.wait(timeout=10)
        flows = split_by_client_port(read_pcap(pcap))
        if len(flows) != len(results):
            raise RuntimeError(f"{len(flows)} UDP flows for {len(results)} chronyc runs")
        for (args, r), datagrams in zip(results, flows):
            self.record("udp", args, r, datagrams)

    def socket_commands(self, commands):
        for args in commands:
            trace = os.path.join(self.dir, "strace.txt")
            cmd = ["strace", "-f", "-xx", "-s", "4096", "-o", trace, "-e",
                   "trace=sendto,recvfrom,sendmsg,recvmsg", self.chronyc_path,
                   "-h", f"{self.dir}/tg/chronyd.sock"] + args
            r = run(self.netns(cmd))
            self.record("unix", args, r, read_strace(trace))

    def raw_requests(self, requests):
        """Our own requests, over UDP (sent from inside the namespace) or the socket."""
        for name, transport, hexbytes in requests:
            code = f"""
import socket, sys, binascii
req = binascii.unhexlify("{hexbytes}")
if "{transport}" == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", 11323))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("{self.dir}/tg/raw.sock")
    s.connect("{self.dir}/tg/chronyd.sock")
s.settimeout(2)
s.send(req)
try:
    print(binascii.hexlify(s.recv(2048)).decode())
except socket.timeout:
    print("")
"""
            r = run(self.netns([sys.executable, "-c", code]))
            try:
                os.unlink(f"{self.dir}/tg/raw.sock")
            except FileNotFoundError:
                pass
            datagrams = [("request", bytes.fromhex(hexbytes))]
            if r.stdout.strip():
                datagrams.append(("reply", bytes.fromhex(r.stdout.strip())))
            self.exchanges.append({"transport": transport, "command": name, "stdout": "",
                                   "stderr": r.stderr, "returncode": r.returncode,
                                   "datagrams": [(k, v.hex()) for k, v in datagrams]})

    def record(self, transport, args, r, datagrams):
        self.exchanges.append({"transport": transport, "command": " ".join(args),
                               "stdout": r.stdout, "stderr": r.stderr,
                               "returncode": r.returncode,
                               "datagrams": [(k, v.hex()) for k, v in datagrams]})

    def write(self):
        info = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "chronyd": run([self.chronyd, "-v"]).stdout.strip(),
                "chronyc": run([self.chronyc_path, "-v"]).stdout.strip(),
                "exchanges": self.exchanges}
        with open(self.out, "w") as f:
            json.dump(info, f, indent=1)


# --- requests of our own, built here from candm.h's layouts (independently of the C++ encoder) ---

def request(command, data=b"", length=None, version=6, sequence=0, attempt=0, pkt_type=1,
            res1=0):
    head = struct.pack(">BBBBHHIII", version, pkt_type, res1, 0, command, attempt, sequence, 0, 0)
    body = head + data
    return (body + bytes(max(0, (length or len(body)) - len(body)))).hex()


def ip4(a, b, c, d, family=1):
    return bytes([a, b, c, d]) + bytes(12) + struct.pack(">HH", family, 0)


def own_requests():
    """[name, transport, hex]: status replies chronyd 4.3 gives, and the padded lengths of
    ntpkit's encoder (196 for SERVER_STATS, 172 for NTP_DATA: the longest replies of chrony
    4.4+, longer than 4.3 needs)."""
    u32 = lambda *v: struct.pack(">" + "I" * len(v), *v)
    return [
        ["tracking as version 5", "udp", request(33, length=104, version=5, sequence=0x6e6b0001)],
        ["tracking as version 4", "udp", request(33, length=104, version=4, sequence=0x6e6b0002)],
        ["tracking of 28 bytes", "udp", request(33, length=28, sequence=0x6e6b0003)],
        ["tracking of 20 bytes", "udp", request(33, length=20, sequence=0x6e6b0004)],
        ["command 200", "udp", request(200, length=28, sequence=0x6e6b0005)],
        ["null", "udp", request(0, length=28, sequence=0x6e6b0006)],
        ["source_data index 99", "udp", request(15, u32(99), 76, sequence=0x6e6b0007)],
        ["source_data index 0, attempt 2", "udp",
         request(15, u32(0), 76, sequence=0x6e6b0008, attempt=2)],
        ["pkt_type 2", "udp", request(33, length=104, sequence=0x6e6b0009, pkt_type=2)],
        ["res1 1", "udp", request(33, length=104, sequence=0x6e6b000a, res1=1)],
        ["server_stats of 196 bytes over UDP", "udp", request(54, length=196, sequence=0x6e6b000b)],
        ["server_stats of 196 bytes", "unix", request(54, length=196, sequence=0x6e6b000c)],
        ["ntp_data of 172 bytes for 127.0.0.1", "unix",
         request(57, ip4(127, 0, 0, 1), 172, sequence=0x6e6b000d)],
        ["ntp_data for unresolved source #1", "unix",
         request(57, ip4(0, 0, 0, 1, family=3), 172, sequence=0x6e6b000e)],
        ["ntp_source_name for unresolved source #1", "udp",
         request(65, ip4(0, 0, 0, 1, family=3), 284, sequence=0x6e6b000f)],
        ["ntp_source_name for 10.9.9.9", "udp",
         request(65, ip4(10, 9, 9, 9), 284, sequence=0x6e6b0010)],
        ["client_accesses_by_index3 from 0, min_hits 15", "unix",
         request(68, u32(0, 8, 15, 0), 520, sequence=0x6e6b0011)],
        ["client_accesses_by_index3 from 5, n_clients 3", "unix",
         request(68, u32(5, 3, 0, 0), 520, sequence=0x6e6b0012)],
        ["client_accesses_by_index2", "unix", request(55, u32(0, 8), 520, sequence=0x6e6b0013)],
        ["auth_data for 127.0.0.4", "unix", request(67, ip4(127, 0, 0, 4), 52,
                                                    sequence=0x6e6b0014)],
        ["select_data index 4", "unix", request(69, u32(4), 76, sequence=0x6e6b0015)],
        ["select_data index 0 over UDP", "udp", request(69, u32(0), 76, sequence=0x6e6b0016)],
    ]


# --- pcap and strace parsing ---

def read_pcap(path):
    """(source port, destination port, payload) of each UDP/IPv4 datagram in a pcap file."""
    data = open(path, "rb").read()
    magic, = struct.unpack_from("<I", data, 0)
    endian = "<" if magic == 0xa1b2c3d4 else ">"
    linktype, = struct.unpack_from(endian + "I", data, 20)
    at = 24
    out = []
    while at + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from(endian + "IIII", data, at)
        frame = data[at + 16:at + 16 + incl]
        at += 16 + incl
        ip = frame[14:] if linktype == 1 else frame[16:] if linktype == 113 else frame
        if not ip or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        sport, dport, length = struct.unpack_from(">HHH", ip, ihl)
        out.append((sport, dport, ip[ihl + 8:ihl + length]))
    return out


def split_by_client_port(datagrams):
    """Datagrams grouped per chronyc process (its ephemeral port), in order of appearance."""
    flows, order = {}, []
    for sport, dport, payload in datagrams:
        client = dport if sport == 11323 else sport
        if client not in flows:
            flows[client] = []
            order.append(client)
        flows[client].append(("reply" if sport == 11323 else "request", payload))
    return [flows[c] for c in order]


SYSCALL = re.compile(r'^\d+\s+(sendto|recvfrom|sendmsg|recvmsg)\(\d+, (?:\{.*?iov_base=)?"([^"]*)"'
                     r'.*\)\s+=\s+(-?\d+)')


def read_strace(path):
    out = []
    for line in open(path):
        m = SYSCALL.match(line)
        if not m or int(m.group(3)) <= 0:
            continue
        payload = bytes.fromhex(m.group(2).replace("\\x", ""))[:int(m.group(3))]
        out.append(("request" if m.group(1).startswith("send") else "reply", payload))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chrony", required=True, help="DIR with sbin/chronyd and bin/chronyc")
    p.add_argument("--out", default="capture.json")
    p.add_argument("--feed", type=int, default=40, help="seconds of samples before capturing")
    a = p.parse_args()
    c = Capture(os.path.abspath(a.chrony), os.path.abspath(a.out))
    try:
        c.setup()
        c.feed(a.feed)
        c.udp_commands([["-c", "tracking"], ["-c", "sources", "-a"], ["-c", "sourcestats", "-a"],
                        ["-c", "activity"], ["-c", "-N", "sources", "-a"],
                        ["-c", "serverstats"], ["-c", "manual", "list"], ["-c", "rtcdata"],
                        ["-c", "smoothing"], ["-c", "tracking"]])
        c.socket_commands([["-c", "serverstats"], ["-c", "ntpdata"], ["-c", "clients"],
                           ["-c", "clients", "-k"], ["-c", "authdata", "-a"],
                           ["-c", "selectdata", "-a"], ["-c", "ntpdata", "127.0.0.9"]])
        c.raw_requests(own_requests())
        c.write()
    finally:
        c.teardown()


if __name__ == "__main__":
    main()
