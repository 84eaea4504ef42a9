"""Fills an ntpd's MRU list from many source addresses, run inside a test's namespace.

    mru_fill.py PORT COUNT [REPEAT_EVERY] [SECONDS]

Sends one NTPv4 client request (mode 3) from each of COUNT distinct addresses 127.1.0.1,
127.1.0.2, ... (Linux accepts any 127.x.y.z as a source on lo) to 127.0.0.1:PORT; every
REPEAT_EVERY-th address sends two more (so counts differ). With SECONDS, keeps sending from
fresh addresses 127.2.x.y for that long (a flood that keeps changing the list), at most
200,000 requests. Prints one JSON line: {"sent": {address: requests}}. Bounded in count and
time; nothing waits for answers.
"""

import json
import socket
import struct
import sys
import time


def request(transmit):
    return bytes([0x23, 0, 6, 0xEC]) + bytes(36) + struct.pack("!Q", transmit)


def address(base, n):
    return f"127.{base}.{(n >> 8) & 255}.{n & 255}"


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    repeat_every = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 0
    sent = {}
    for n in range(1, count + 1):
        a = address(1, n)
        times = 3 if repeat_every and n % repeat_every == 0 else 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((a, 0))
            for k in range(times):
                s.sendto(request((n << 8) + k), ("127.0.0.1", port))
        sent[a] = times
        if n % 50 == 0:
            time.sleep(0.005)  # ntpd reads its socket between the bursts: none is dropped
    if seconds:
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline and n < 200_000:
            n += 1
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((address(2, n % 65000 + 1), 0))
                s.sendto(request(n), ("127.0.0.1", port))
            if n % 200 == 0:
                time.sleep(0.01)
    print(json.dumps({"sent": sent}))


if __name__ == "__main__":
    main()
