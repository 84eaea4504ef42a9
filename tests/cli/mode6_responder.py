"""A mode 6 (RFC 9327) server for tests that answers in one scripted way per scenario.

It answers every control request it gets on 127.0.0.1 (an ephemeral port) from a thread, at
most MAX_REQUESTS times and only while open, so nothing it does can run away. The answers are
built here byte by byte (header, data, padding), so a test knows exactly what a client got:

    with Mode6Responder("out_of_order") as r:
        run ntpmon-query 127.0.0.1:{r.port} sysvars

Scenarios (the data of a good answer is SYSVARS, 3 fragments of FRAGMENT bytes or less):
  good            the answer in one fragment
  out_of_order    its fragments last, first, middle
  duplicate       every fragment twice
  overlap         a second fragment that overlaps the first with other bytes
  gap             the middle fragment never sent
  error_bit       every request answered with the error bit, code BADASSOC (4)
  wrong_sequence  the answer with the request's sequence number + 1000
  other_opcode    the answer with opcode READCLOCK whatever was asked
  endless_more    fragments with the more bit at rising offsets, up to MAX_TRAIN per request
  past_limit      one fragment at offset 65400 with 468 bytes (past the 65535-byte limit)
  unknown_var     UNKNOWNVAR for a request naming `nosuchvar`, else the asked names answered
  silent          no answer at all
"""

import socket
import struct
import threading

HEADER = struct.Struct("!BBHHHHH")
MAX_REQUESTS = 50
MAX_TRAIN = 400
FRAGMENT = 40
# A system variable list as NTPsec sends it (",\r\n" line ends, quoted strings with commas).
SYSVARS = (b'version="ntpd ntpsec-1.2.2", leap=0, stratum=4, precision=-24,\r\n'
           b'rootdelay=0.123456, rootdisp=1.500000, refid=127.0.0.1,\r\n'
           b'reftime=0xeebd92d5.80000000, tc=3, peer=7, offset=-0.013541,\r\n'
           b'processor="x86_64, really", clock=0xeebd92e5.00000000\r\n')
SYSTEM_STATUS = 0x0615


def fragment(request_header, offset, data, more, opcode=None, sequence=None, error=None,
             status=SYSTEM_STATUS):
    """One response datagram: header for `data` at `offset`, padded to 4 bytes with junk
    (NTPsec does not zero its padding)."""
    li_vn_mode, op, seq, _, assoc, _, _ = request_header
    op = (opcode if opcode is not None else op & 0x1f) | 0x80 | (0x20 if more else 0)
    if error is not None:
        op |= 0x40
        status = error << 8
    seq = sequence if sequence is not None else seq
    head = HEADER.pack((li_vn_mode & 0x38) | 6, op, seq, status, assoc, offset, len(data))
    pad = (-len(data)) % 4
    return head + data + b"mru"[:pad]


class Mode6Responder:
    """The responder for one scenario; a context manager. `requests` counts what came."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self):
        while not self._stop.is_set() and self.requests < MAX_REQUESTS:
            try:
                data, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < HEADER.size or data[0] & 7 != 6 or data[1] & 0x80:
                continue
            self.requests += 1
            header = HEADER.unpack(data[:HEADER.size])
            body = data[HEADER.size:HEADER.size + header[6]]
            for reply in self._answer(header, body):
                self.sock.sendto(reply, peer)

    def _pieces(self, data=SYSVARS):
        return [(o, data[o:o + FRAGMENT]) for o in range(0, len(data), FRAGMENT)]

    def _answer(self, h, body):
        s = self.scenario
        pieces = self._pieces()
        last = len(pieces) - 1

        def frags(order):
            return [fragment(h, pieces[i][0], pieces[i][1], i != last) for i in order]

        if s == "good":
            return [fragment(h, 0, SYSVARS, False)]
        if s == "out_of_order":
            return frags([last] + list(range(last)))
        if s == "duplicate":
            return frags([i for i in range(last + 1) for _ in (0, 1)])
        if s == "overlap":
            o, d = pieces[1]
            return frags([0]) + [fragment(h, o - 4, b"XXXX" + d, True)] + frags(range(1, last + 1))
        if s == "gap":
            return frags([0] + list(range(2, last + 1)))
        if s == "error_bit":
            return [fragment(h, 0, b"", False, error=4)]
        if s == "wrong_sequence":
            return [fragment(h, 0, SYSVARS, False, sequence=(h[2] + 1000) & 0xffff)]
        if s == "other_opcode":
            return [fragment(h, 0, SYSVARS, False, opcode=4)]
        if s == "endless_more":
            chunk = b"x=1, " * 20  # 100 bytes: 400 of them stay below offset 65535
            return [fragment(h, i * len(chunk), chunk, True) for i in range(MAX_TRAIN)]
        if s == "past_limit":
            return [fragment(h, 65400, b"y" * 468, True)]
        if s == "unknown_var":
            if b"nosuchvar" in body:
                return [fragment(h, 0, b"", False, error=5)]
            names = [n.strip() for n in body.split(b",") if n.strip()]
            known = {b"stratum": b"4", b"leap": b"0", b"refid": b"127.0.0.1"}
            text = b", ".join(n + b"=" + known.get(n, b"0") for n in names)
            return [fragment(h, 0, text + b"\r\n", False)]
        return []
