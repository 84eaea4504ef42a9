"""ntpprobe --listen-broadcast stays bounded when a LAN peer floods it with valid packets.

A listener has no request to match answers against: every well-formed mode 5 packet is a
sample, and every source port is another sender. The test sends valid broadcasts as fast as
it can for a bounded time, first from one port, then from thousands of ports, and requires
the listener to end by its --timeout, to keep at most 1000 samples per sender and 1024
senders, and to stay below 64 MiB peak RSS (GNU time; not checked under sanitizers).
"""

import json
import os
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from hostile_support import NTPPROBE, sanitized_build

GNU_TIME = "/usr/bin/time"
LISTEN_S = 3.0
SEND_S = 2.5
RSS_LIMIT_KIB = 64 * 1024
MAX_SAMPLES = 1000
MAX_SENDERS = 1024
NTP_UNIX_DELTA = 2208988800


def broadcast_packet():
    """A valid mode 5 packet: LI 0, version 4, stratum 2, T3 now, reference 16 s earlier."""
    now = time.time() + NTP_UNIX_DELTA
    seconds, fraction = int(now), int((now % 1) * 2**32)
    return struct.pack("!BBbbII4sQQQQ", (4 << 3) | 5, 2, 6, -20, 66, 66, bytes([192, 0, 2, 1]),
                       ((seconds - 16) << 32) | fraction, 0, 0, (seconds << 32) | fraction)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flood_one_port(port, stop):
    packet = broadcast_packet()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        end = time.monotonic() + SEND_S
        for _ in range(5_000_000):
            if stop.is_set() or time.monotonic() > end:
                break
            s.sendto(packet, ("127.0.0.1", port))


def flood_many_ports(port, stop):
    packet = broadcast_packet()
    end = time.monotonic() + SEND_S
    for _ in range(20_000):
        if stop.is_set() or time.monotonic() > end:
            break
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(3):
                s.sendto(packet, ("127.0.0.1", port))


class BroadcastFlood(unittest.TestCase):
    def listen(self, flood, *args):
        """Runs the listener against `flood`; returns (exit code, seconds, peak KiB, stdout)."""
        port = free_port()
        with tempfile.NamedTemporaryFile("r") as rss:
            cmd = [GNU_TIME, "-f", "%M", "-o", rss.name, NTPPROBE, "--listen-broadcast",
                   "--listen-address", "127.0.0.1", "-p", str(port), "--listen-duration", str(LISTEN_S), *args]
            start = time.monotonic()
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)  # let it bind
            stop = threading.Event()
            sender = threading.Thread(target=flood, args=(port, stop))
            sender.start()
            try:
                out, err = p.communicate(timeout=60)
            finally:
                stop.set()
                sender.join()
            seconds = time.monotonic() - start
            peak = int(rss.read().split()[-1])
        return p.returncode, seconds, peak, out

    def check_bounds(self, flood):
        rc, seconds, peak, _ = self.listen(flood)
        self.assertLess(seconds, LISTEN_S + 2.0)
        if not sanitized_build():
            self.assertLess(peak, RSS_LIMIT_KIB)
        rc, _, _, out = self.listen(flood, "--json")
        doc = json.loads(out)
        addresses = doc["targets"][0]["addresses"]
        self.assertGreater(len(addresses), 0)
        self.assertLessEqual(len(addresses), MAX_SENDERS)
        for a in addresses:
            self.assertLessEqual(a["replies"], MAX_SAMPLES)
        return addresses

    def test_one_sender_flooding(self):
        addresses = self.check_bounds(flood_one_port)
        self.assertEqual(len(addresses), 1)
        # Far more packets came than are kept; the rest are counted.
        self.assertEqual(addresses[0]["replies"], MAX_SAMPLES)
        self.assertGreater(addresses[0]["ignored"].get("over_limit", 0), 0)

    def test_many_senders(self):
        self.check_bounds(flood_many_ports)


if __name__ == "__main__":
    unittest.main()
