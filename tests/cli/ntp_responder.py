"""A tiny NTP server for tests: answers client requests on loopback with known header fields.

Its answers are correct NTPv4 (origin = the request's transmit, receive and transmit from the
system clock, a reference time before them), shifted by `offset` seconds and held `hold`
seconds between receive and transmit, so that a test knows what a client must measure. It
answers at most `max_replies` requests and only for as long as it is open.

In a test:  with Responder() as r: ... r.port, r.requests
As a program (e.g. inside a network namespace):
    python3 ntp_responder.py [--silent] [--leap N] [--stratum N] [--host H] [--port P]
                             [--offset S] [--root-dispersion UNITS] [--root-delay UNITS]
prints {"port": N, "silent_port": M} on one line, serves until stdin closes (at most 60 s);
--leap N answers with leap indicator N (1: a leap second will be inserted), --stratum N with
that stratum.
"""

import json
import select
import socket
import struct
import sys
import threading
import time

NTP_UNIX_OFFSET = 2208988800
HEADER = struct.Struct("!BBbbII4sQQQQ")
# The header fields every answer carries (a test compares ntpprobe's report with them).
STRATUM = 2
PRECISION = -20
ROOT_DELAY_UNITS = 33      # 33 × 2^-16 s
ROOT_DISPERSION_UNITS = 66
REFID = bytes([192, 0, 2, 1])  # 192.0.2.1 (TEST-NET-1)
REFERENCE_AGE = 8.0        # seconds before the receive time
# Python 3.11 lacks the constant; 35 is SO_TIMESTAMPNS in Linux's asm-generic/socket.h (x86,
# arm, ...). Its data is a struct timespec: two native longs.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESPEC_SIZE = struct.calcsize("@ll")


def kernel_time(ancillary):
    """The SO_TIMESTAMPNS arrival time (Unix seconds) in recvmsg's ancillary data, or None."""
    for level, kind, data in ancillary:
        if (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS):
            seconds, nanoseconds = struct.unpack("@ll", data[:TIMESPEC_SIZE])
            return seconds + nanoseconds / 1e9
    return None


def ntp_timestamp(unix_seconds):
    """A Unix time as a 64-bit NTP timestamp."""
    seconds = unix_seconds + NTP_UNIX_OFFSET
    whole = int(seconds)
    return (whole << 32) | int((seconds - whole) * 2**32)


def make_reply(request, received, offset, hold, leap=0, stratum=STRATUM,
               root_dispersion=ROOT_DISPERSION_UNITS, root_delay=ROOT_DELAY_UNITS):
    """The answer to one request datagram (None if it is not a client request), with leap
    indicator `leap` and `stratum`."""
    if len(request) < HEADER.size:
        return None
    first, _, poll, _, _, _, _, _, _, _, transmit = HEADER.unpack_from(request)
    version, mode = (first >> 3) & 7, first & 7
    if mode != 3 or not 1 <= version <= 4:
        return None
    if hold:
        time.sleep(hold)
    t2 = received + offset
    t3 = time.time() + offset
    return HEADER.pack((leap << 6) | (version << 3) | 4, stratum, poll, PRECISION,
                       root_delay, root_dispersion, REFID,
                       ntp_timestamp(t2 - REFERENCE_AGE), transmit, ntp_timestamp(t2),
                       ntp_timestamp(t3))


class Responder:
    """Answers NTP requests on (host, 0) in a thread; `port` is where, `requests` how many came."""

    def __init__(self, host="127.0.0.1", offset=0.0, hold=0.0, max_replies=50, leap=0,
                 stratum=STRATUM, port=0, root_dispersion=ROOT_DISPERSION_UNITS,
                 root_delay=ROOT_DELAY_UNITS):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        # T2 is the kernel's arrival time: the thread may wake up late on a busy machine.
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.offset = offset
        self.hold = hold
        self.leap = leap
        self.stratum = stratum
        self.root_dispersion = root_dispersion
        self.root_delay = root_delay
        self.max_replies = max_replies
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def _serve(self):
        """Answers until closed or max_replies were sent; wakes up every 50 ms to look."""
        while not self._stop.is_set() and self.requests < self.max_replies:
            readable, _, _ = select.select([self.sock], [], [], 0.05)
            if not readable:
                continue
            data, ancillary, _, peer = self.sock.recvmsg(2048, 64)
            received = kernel_time(ancillary) or time.time()
            self.requests += 1
            self._answer(data, received, peer)

    def _answer(self, data, received, peer):
        """Answers one request (a subclass may delay or repeat it); returns what was sent."""
        reply = make_reply(data, received, self.offset, self.hold, self.leap, self.stratum,
                           self.root_dispersion, self.root_delay)
        if reply:
            self.sock.sendto(reply, peer)
        return reply

    def close(self):
        """Stops the thread (bounded) and closes the socket."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.sock.close()


def option_value(name, default):
    """The word after `name` on the command line, or default."""
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    """Serves on --host (127.0.0.1) and --port (any) until stdin closes; --silent also opens a
    socket that never reads; --leap N, --stratum N, --root-dispersion and --root-delay UNITS
    (2^-16 s) set
    those fields of the answers, --offset SECONDS shifts its clock."""
    silent = None
    leap = int(option_value("--leap", 0))
    stratum = int(option_value("--stratum", STRATUM))
    host = option_value("--host", "127.0.0.1")
    port = int(option_value("--port", 0))
    offset = float(option_value("--offset", 0.0))
    dispersion = int(option_value("--root-dispersion", ROOT_DISPERSION_UNITS))
    delay = int(option_value("--root-delay", ROOT_DELAY_UNITS))
    if "--silent" in sys.argv:
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
    with Responder(host=host, offset=offset, leap=leap, stratum=stratum, port=port,
                   root_dispersion=dispersion, root_delay=delay) as responder:
        ports = {"port": responder.port,
                 "silent_port": silent.getsockname()[1] if silent else None}
        print(json.dumps(ports), flush=True)
        select.select([sys.stdin], [], [], 60)
    if silent:
        silent.close()


if __name__ == "__main__":
    main()
