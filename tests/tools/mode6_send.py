#!/usr/bin/env python3
"""Small senders for tests/tools/mode6-capture (loopback of a private namespace only).

  mode6_send.py fill SERVER COUNT      one NTPv4 client request from each of 127.0.1.1 ..
                                       127.0.1.COUNT (COUNT <= 250), then three more from the
                                       first five, so that ntpd's MRU list has rows with ct > 1
  mode6_send.py raw SERVER HEX...      each HEX datagram once (to port 123), printing every
                                       answer that arrives within 1 s as hex
  mode6_send.py mru SERVER             READ_MRU requests ntpq does not send: a continuation
                                       from an entry the server never had (UNKNOWNVAR), frags=200
                                       (BADVALUE), no nonce (no answer), limit=1 with addr.0
                                       (one entry); each after a fresh REQ_NONCE
Every loop is bounded by its arguments.
"""
import socket
import sys
import time


def client_request() -> bytes:
    return bytes([0x23]) + bytes(39) + (0x0123456789ABCDEF).to_bytes(8, "big")


def fill(server: str, count: int):
    count = min(count, 250)
    for i in range(1, count + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.1.%d" % i, 0))
            s.sendto(client_request(), (server, 123))
            time.sleep(0.005)
    for _ in range(3):
        for i in range(1, 6):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.1.%d" % i, 0))
                s.sendto(client_request(), (server, 123))
        time.sleep(0.3)


def raw(server: str, datagrams):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        for h in datagrams:
            s.sendto(bytes.fromhex(h), (server, 123))
            s.settimeout(1.0)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    break
                print(data.hex())


def control(opcode: int, sequence: int, data: bytes) -> bytes:
    header = bytes([0x16, opcode]) + sequence.to_bytes(2, "big") + bytes(6) + \
        len(data).to_bytes(2, "big")
    body = data + bytes(-len(data) % 4)
    return header + body


def exchange(s, server, datagram):
    s.sendto(datagram, (server, 123))
    answers = []
    s.settimeout(1.0)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            answers.append(s.recv(4096))
        except socket.timeout:
            break
    for a in answers:
        print(a.hex())
    return answers


def mru(server: str):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        sequence = 0
        for body in (b"frags=2, addr.0=192.0.2.7:123, last.0=0x00000001.00000000",
                     b"frags=200", None, b"limit=1, addr.0=127.0.1.1"):
            sequence += 1
            nonce_answer = exchange(s, server, control(12, sequence, b""))
            nonce = nonce_answer[0][12:12 + int.from_bytes(nonce_answer[0][10:12], "big")]
            nonce = nonce.strip()
            sequence += 1
            data = body if body is None else nonce + b", " + body
            exchange(s, server, control(10, sequence, data if data is not None else b"frags=2"))


if __name__ == "__main__":
    if sys.argv[1] == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "raw":
        raw(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "mru":
        mru(sys.argv[2])
