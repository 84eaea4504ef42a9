"""What really went over a namespace's loopback: tcpdump captures, read back as NTP datagrams.

A test starts a Capture before the traffic it wants to count and reads it after stopping it:

    with wire.Capture(ns, "udp port 123", directory) as capture:
        ... traffic ...
    requests = [d for d in capture.datagrams() if d.mode == 3]

tcpdump takes every packet as it comes (--immediate-mode: without it, packets wait in the
kernel's ring for up to a second and are lost when tcpdump is stopped) and writes it at once
(-U), so the file is complete once tcpdump has exited. The pcap file is parsed here (stdlib
only): Ethernet framing on lo, IPv4 or IPv6, UDP.
"""

import ipaddress
import os
import select
import signal
import struct
import subprocess
import time

# Seconds tcpdump may take to say it is listening, and to exit after SIGTERM.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# Lets the kernel hand the last looped-back packets to tcpdump before it is stopped.
SETTLE = 0.2

_PCAP_HEADER = struct.Struct("<IHHiIII")
_RECORD_HEADER = struct.Struct("<IIII")
_LINKTYPE_ETHERNET = 1
_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_IPV6 = 0x86DD
_UDP = 17


class Datagram:
    """One captured UDP datagram: time (s), src, sport, dst, dport, payload (bytes)."""

    def __init__(self, time_s, src, sport, dst, dport, payload):
        self.time = time_s
        self.src = src
        self.sport = sport
        self.dst = dst
        self.dport = dport
        self.payload = payload

    @property
    def mode(self):
        """The NTP mode (low 3 bits of the first byte), None for an empty payload."""
        return self.payload[0] & 7 if self.payload else None

    @property
    def stratum(self):
        """The NTP stratum byte, None for a payload shorter than 2 bytes."""
        return self.payload[1] if len(self.payload) > 1 else None

    @property
    def refid(self):
        """The 4 refid bytes (the kiss code of a stratum 0 answer)."""
        return self.payload[12:16]

    def __repr__(self):
        return (f"Datagram({self.src}:{self.sport} -> {self.dst}:{self.dport}, "
                f"mode {self.mode}, stratum {self.stratum}, {len(self.payload)} bytes)")


def _udp_from_ip(frame):
    """(src, dst, udp bytes) of an IPv4/IPv6 packet in an Ethernet frame, or None if not UDP."""
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = frame[14:]
    if ethertype == _ETHERTYPE_IPV4:
        header_length = (ip[0] & 0x0F) * 4
        if ip[9] != _UDP:
            return None
        return (str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20])),
                ip[header_length:])
    if ethertype == _ETHERTYPE_IPV6:
        if ip[6] != _UDP:  # no extension headers on loopback test traffic
            return None
        return (str(ipaddress.IPv6Address(ip[8:24])), str(ipaddress.IPv6Address(ip[24:40])),
                ip[40:])
    return None


def read_pcap(path):
    """The UDP datagrams in a pcap file (Ethernet link type, as tcpdump writes for lo)."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = _PCAP_HEADER.unpack_from(data)
    if magic != 0xA1B2C3D4:
        raise ValueError(f"{path}: not a little-endian microsecond pcap file ({magic:#x})")
    if linktype != _LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet")
    datagrams = []
    offset = _PCAP_HEADER.size
    while offset + _RECORD_HEADER.size <= len(data):
        seconds, micros, captured, _ = _RECORD_HEADER.unpack_from(data, offset)
        offset += _RECORD_HEADER.size
        frame = data[offset:offset + captured]
        offset += captured
        if len(frame) < captured:
            break
        parsed = _udp_from_ip(frame)
        if parsed is None:
            continue
        src, dst, udp = parsed
        sport, dport, length = struct.unpack_from("!HHH", udp)
        datagrams.append(Datagram(seconds + micros / 1e6, src, sport, dst, dport,
                                  bytes(udp[8:length])))
    return datagrams


class Capture:
    """tcpdump -i lo inside a namespace, with a BPF filter, writing DIRECTORY/NAME.pcap."""

    def __init__(self, ns, bpf_filter, directory, name="capture"):
        self.ns = ns
        self.filter = bpf_filter
        self.file = os.path.join(directory, f"{name}.pcap")
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Starts tcpdump and waits (bounded) until it says it is listening."""
        self.proc = self.ns.popen(["tcpdump", "-U", "--immediate-mode", "-n", "-s", "2048",
                                   "-i", "lo", "-w", self.file, self.filter],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        seen = b""
        while b"listening on" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"tcpdump did not start: {seen.decode(errors='replace')}")
            readable, _, _ = select.select([self.proc.stderr], [], [], left)
            if readable:
                seen += os.read(self.proc.stderr.fileno(), 4096)

    def stop(self):
        """Stops tcpdump by its PID (SIGTERM, then SIGKILL) after letting the last packets in."""
        if self.proc is None or self.proc.poll() is not None:
            return
        time.sleep(SETTLE)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
                break
            except subprocess.TimeoutExpired:
                continue
        self.proc.stderr.close()

    def datagrams(self):
        """Every captured UDP datagram, in capture order (call after stop())."""
        return read_pcap(self.file)


def ntp_requests(datagrams, to_port):
    """The client requests (mode 3) sent to port `to_port`."""
    return [d for d in datagrams if d.dport == to_port and d.mode == 3]


def kisses(datagrams, code):
    """The Kiss-o'-Death answers (mode 4, stratum 0) with kiss code `code` (e.g. b"RATE")."""
    return [d for d in datagrams if d.mode == 4 and d.stratum == 0 and d.refid == code]

