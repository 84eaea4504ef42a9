"""Traffic for tests/integration/test_capture_counts.py, run inside the test's namespace.

    capture_traffic.py ntplib HOST PORT SOURCE... 
        python3-ntplib requests, version 3 then 4, from each SOURCE address (127.0.0.x, ::1)
    capture_traffic.py held PORT
        a responder on 127.0.0.1:PORT that holds each answer by a known time, and a client
        that sends it requests (one answer lost, one retried while its answer is late)

Both print one JSON line: what was sent (for `held`: each request's transmit timestamp, its
hold in seconds or null when never answered). Every loop is bounded; nothing waits longer
than a few seconds.
"""

import json
import socket
import struct
import sys
import threading
import time

import ntplib

NTP_UNIX = 2208988800
HEADER = struct.Struct("!BBbbII4sQQQQ")


class _SocketModule:
    """ntplib's view of the socket module, with sockets bound to one source address."""

    def __init__(self, source):
        self._source = source
        outer = self

        class BoundSocket(socket.socket):
            def __init__(self, family=socket.AF_INET, kind=socket.SOCK_DGRAM, *args):
                super().__init__(family, kind, *args)
                if (family == socket.AF_INET6) == (":" in outer._source):
                    self.bind((outer._source, 0))

        self.socket = BoundSocket

    def __getattr__(self, name):
        return getattr(socket, name)


def ntplib_clients(host, port, sources):
    sent = []
    for source in sources:
        for version in (3, 4):
            ntplib.socket = _SocketModule(source)
            try:
                ntplib.NTPClient().request(host, version=version, port=port, timeout=2)
                sent.append({"source": source, "version": version, "answered": True})
            except ntplib.NTPException:
                sent.append({"source": source, "version": version, "answered": False})
    ntplib.socket = socket
    print(json.dumps(sent), flush=True)


def ntp_stamp(unix):
    seconds = unix + NTP_UNIX
    return (int(seconds) << 32) | int((seconds % 1) * 2**32)


def responder(sock, holds, stop):
    """Answers each request whose transmit is in `holds` after its hold; others never."""
    timers = []
    while not stop.is_set():
        sock.settimeout(0.05)
        try:
            data, peer = sock.recvfrom(512)
        except socket.timeout:
            continue
        received = time.time()
        transmit = HEADER.unpack_from(data)[10]
        hold = holds.get(transmit)
        if hold is None:
            continue

        def answer(data=data, peer=peer, received=received, transmit=transmit):
            reply = HEADER.pack(0x24, 2, 6, -20, 0, 0, b"TEST", ntp_stamp(received - 8),
                                transmit, ntp_stamp(received), ntp_stamp(time.time()))
            sock.sendto(reply, peer)

        t = threading.Timer(hold, answer)
        t.start()
        timers.append(t)
    for t in timers:
        t.join(timeout=2)


def held(port):
    """Requests with known holds: 10, 50 and 120 ms; one never answered; one answered after
    400 ms while the next request (sent 300 ms after it) is answered after 30 ms."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", port))
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    # One request every 300 ms: the answer held 400 ms comes after the next request (its
    # retry, as a client that gave up would send) and that one's own answer.
    plan = [0.010, 0.050, 0.120, None, 0.400, 0.030]
    base = ntp_stamp(time.time())
    holds, sent = {}, []
    for i, hold in enumerate(plan):
        transmit = base + (i + 1) * 0x1000
        if hold is not None:
            holds[transmit] = hold
        sent.append({"transmit": transmit, "hold": hold})
    stop = threading.Event()
    thread = threading.Thread(target=responder, args=(server, holds, stop))
    thread.start()
    for entry in sent:
        request = HEADER.pack(0x23, 0, 6, -20, 0, 0, b"\0" * 4, 0, 0, 0, entry["transmit"])
        client.sendto(request, ("127.0.0.1", port))
        time.sleep(0.3)
    time.sleep(0.6)
    stop.set()
    thread.join(timeout=5)
    print(json.dumps(sent), flush=True)


def main():
    if sys.argv[1] == "ntplib":
        ntplib_clients(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif sys.argv[1] == "held":
        held(int(sys.argv[2]))
    else:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
