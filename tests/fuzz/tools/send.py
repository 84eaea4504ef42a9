#!/usr/bin/env python3
"""Requests that no ready-made client sends, for capture-corpus. Standard library only.

  send.py burst HOST PORT --source ADDR [--count N] [--gap SECONDS]
      N plain NTPv4 client requests from ADDR, GAP apart, to provoke a rate-limiting server
      into Kiss-o'-Death RATE replies; prints how many replies came back and how many were
      kisses.
  send.py bad-cookie PCAP HOST PORT
      Takes the first NTS request (it carries an NTS Cookie field, RFC 8915 §5.4) in PCAP that
      was sent to PORT, damages its cookie, sends it to HOST:PORT and prints the reply's
      stratum and refid: a server answers an undecryptable cookie with an NTS NAK (kiss NTSN).
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402  (pcap reading)


def client_request():
    return bytes([0x23]) + bytes(39) + os.urandom(8)


def collect(sock, seconds):
    replies = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return replies
        replies.append(sock.recv(2048))


def cmd_burst(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.source, 0))
    replies = []
    for _ in range(args.count):
        sock.sendto(client_request(), (args.host, args.port))
        replies += collect(sock, args.gap)
    replies += collect(sock, 1.0)
    kisses = sum(1 for r in replies if len(r) >= 48 and r[1] == 0)
    print(f'burst: {args.count} requests, {len(replies)} replies, {kisses} kiss-o\'-death')


def first_nts_request(pcap, port):
    for _, _, _, _, dport, payload in corpus.read_pcap(pcap):
        if dport != port or len(payload) < 48 or (payload[0] & 7) != 3:
            continue
        at = 48
        while at + 4 <= len(payload):
            ftype, flen = struct.unpack('>HH', payload[at:at + 4])
            if flen < 16 or at + flen > len(payload):
                break
            if ftype == 0x0204:
                return payload, at
            at += flen
    return None, None


def cmd_bad_cookie(args):
    request, cookie_at = first_nts_request(args.pcap, args.port)
    if request is None:
        raise SystemExit('bad-cookie: no NTS request in the capture')
    damaged = bytearray(request)
    damaged[cookie_at + 8] ^= 0xff  # inside the cookie, past its field header
    damaged[40:48] = os.urandom(8)  # a fresh transmit timestamp, as a client would send
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(bytes(damaged), (args.host, args.port))
    replies = collect(sock, 2.0)
    for r in replies:
        print(f'bad-cookie: reply of {len(r)} bytes, stratum {r[1]}, refid {r[12:16]!r}')
    if not replies:
        print('bad-cookie: no reply')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('burst')
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('--source', required=True)
    p.add_argument('--count', type=int, default=35)
    p.add_argument('--gap', type=float, default=0.01)
    p = sub.add_parser('bad-cookie')
    p.add_argument('pcap')
    p.add_argument('host')
    p.add_argument('port', type=int)
    args = parser.parse_args()
    {'burst': cmd_burst, 'bad-cookie': cmd_bad_cookie}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
