#!/usr/bin/env python3
"""Builds the seed corpora in tests/fuzz/corpus/ (docs/fuzzing.md). Standard library only.

  corpus.py packets PCAP... --out DIR [--name PORT=LABEL]... [--per-kind N]
      Every NTP payload (UDP to or from a named port) as one file, for fuzz_packet. Files are
      named <label>-<role>-v<version>-m<mode>-<length>[-<what>]-<sha1>, at most N per name.
  corpus.py replies PCAP... --out DIR [--name PORT=LABEL]... [--verified-mac] [--per-kind N]
      Each request/reply pair (reply origin == request transmit) as one fuzz_reply input:
      the client prefix of fuzz_reply.cpp (T1 and T4 from the capture times, the request's
      transmit as expected origin) followed by the reply. --verified-mac marks replies that
      carry a classic MAC as verified (the capture used keys both sides knew).
  corpus.py synthetic --packet DIR --reply DIR
      Packets built by hand to the RFCs' layouts where no server sends them: every mode and
      version, RFC 7822 field boundaries, NTS-shaped fields (RFC 8915), MACs of 16 to 64 bytes,
      crypto-NAKs, each kiss code of RFC 5905 §7.4, and malformed lengths.

  corpus.py mac --out DIR
      Inputs for fuzz_mac: the 7-byte prefix of fuzz_mac.cpp (algorithm, policy, key length,
      key id), the key, then a datagram: replies chronyd 4.3 and NTPsec ntpd sent to
      tests/tools/mac_probe with known keys (the rows of tests/proto/mac_test.cpp), requests
      and replies signed here with hashlib for every classic algorithm and both digest
      lengths, and unsigned datagrams (plain, with extension fields, with a crypto-NAK) that
      the target signs itself for every algorithm, AES-CMAC included.

Running it again adds nothing twice: file names end in the SHA-1 of their content.
"""

import argparse
import hashlib
import ipaddress
import os
import struct
import sys

NTP_EPOCH_OFFSET = 2208988800
HEADER = 48


# --- pcap -----------------------------------------------------------------------------------

def read_pcap(path):
    """Yields (time in seconds as float, src, sport, dst, dport, payload) for UDP datagrams."""
    with open(path, 'rb') as f:
        data = f.read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        endian = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        endian = '>'
    else:
        raise SystemExit(f'{path}: not a classic pcap file')
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + 'IIII', data[at:at + 16])
        frame = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        if len(frame) < caplen:
            break  # a capture still being written may end inside a record
        ts = sec + frac / (1e9 if nano else 1e6)
        udp = udp_of(linktype, frame)
        if udp:
            yield (ts,) + udp


def udp_of(linktype, frame):
    if linktype == 1:  # Ethernet
        ethertype, at = struct.unpack('>H', frame[12:14])[0], 14
        while ethertype == 0x8100:
            ethertype, at = struct.unpack('>H', frame[at + 2:at + 4])[0], at + 4
    elif linktype == 0:  # BSD loopback
        family = struct.unpack('<I', frame[:4])[0]
        ethertype, at = (0x0800 if family == 2 else 0x86dd), 4
    elif linktype == 113:  # Linux cooked
        ethertype, at = struct.unpack('>H', frame[14:16])[0], 16
    elif linktype == 101:  # raw IP
        ethertype, at = (0x0800 if frame[0] >> 4 == 4 else 0x86dd), 0
    else:
        return None
    if ethertype == 0x0800:
        ihl = (frame[at] & 15) * 4
        if frame[at + 9] != 17:
            return None
        src = ipaddress.ip_address(frame[at + 12:at + 16])
        dst = ipaddress.ip_address(frame[at + 16:at + 20])
        at += ihl
    elif ethertype == 0x86dd:
        if frame[at + 6] != 17:
            return None
        src = ipaddress.ip_address(frame[at + 8:at + 24])
        dst = ipaddress.ip_address(frame[at + 24:at + 40])
        at += 40
    else:
        return None
    sport, dport, length = struct.unpack('>HHH', frame[at:at + 6])
    return str(src), sport, str(dst), dport, frame[at + 8:at + length]


# --- NTP ------------------------------------------------------------------------------------

def describe(payload):
    """Short words for what a payload holds: extension fields, MAC size."""
    if len(payload) < HEADER:
        return 'short'
    if payload[0] & 7 in (6, 7):
        return 'control' if payload[0] & 7 == 6 else 'private'
    version = (payload[0] >> 3) & 7
    words = []
    at = HEADER
    if version == 4:
        while len(payload) - at > 24:
            ftype, flen = struct.unpack('>HH', payload[at:at + 4])
            if flen < 16 or flen % 4 or at + flen > len(payload):
                break
            words.append({0x0104: 'uid', 0x0204: 'cookie', 0x0304: 'placeholder',
                          0x0404: 'auth'}.get(ftype, f'ef{ftype:04x}'))
            at += flen
    rest = len(payload) - at
    if rest == 4:
        words.append('nak')
    elif rest:
        words.append(f'mac{rest}')
    if payload[1] == 0 and (payload[0] & 7) in (2, 4):
        words.append('kiss' + ''.join(chr(b) for b in payload[12:16] if 32 < b < 127))
    return '-'.join(dict.fromkeys(words))


def ntp_bits(ts):
    seconds = int(ts)
    frac = int(round((ts - seconds) * 2**32))
    if frac >= 2**32:
        seconds, frac = seconds + 1, frac - 2**32
    return ((seconds + NTP_EPOCH_OFFSET) << 32) | frac


def sha1_name(label, content):
    return f'{label}-{hashlib.sha1(content).hexdigest()[:12]}'


def write(out, label, content, counts, per_kind):
    counts[label] = counts.get(label, 0) + 1
    if counts[label] > per_kind:
        return False
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, sha1_name(label, content)), 'wb') as f:
        f.write(content)
    return True


def port_names(pairs):
    names = {}
    for pair in pairs or []:
        port, label = pair.split('=', 1)
        names[int(port)] = label
    return names


def ntp_datagrams(pcaps, names):
    for path in pcaps:
        for ts, src, sport, dst, dport, payload in read_pcap(path):
            if dport in names:
                yield ts, names[dport], 'request', (src, sport), payload
            elif sport in names:
                yield ts, names[sport], 'reply', (dst, dport), payload


def label_of(peer, role, payload):
    if len(payload) < 1:
        return f'{peer}-{role}-empty'
    label = f'{peer}-{role}-v{(payload[0] >> 3) & 7}-m{payload[0] & 7}-{len(payload)}'
    what = describe(payload)
    return f'{label}-{what}' if what else label


def cmd_packets(args):
    names = port_names(args.name)
    counts = {}
    kept = 0
    for _, peer, role, _, payload in ntp_datagrams(args.pcap, names):
        kept += write(args.out, label_of(peer, role, payload), payload, counts, args.per_kind)
    print(f'packets: {kept} files written to {args.out}')


def client_prefix(t1, t4, expected_origin, flags=0, precision=20, era=0, ignored=0,
                  spacing=0x0100):
    delta = int(round((t4 - t1) * 65536))
    return (struct.pack('>Qi', ntp_bits(t1), delta) + struct.pack('>Q', expected_origin) +
            bytes([flags, precision, era & 0xff, ignored]) + struct.pack('>H', spacing))


def cmd_replies(args):
    names = port_names(args.name)
    requests = {}
    counts = {}
    kept = 0
    for ts, peer, role, client, payload in ntp_datagrams(args.pcap, names):
        if len(payload) < HEADER:
            continue
        if role == 'request':
            requests[(client, payload[40:48])] = ts
            continue
        t1 = requests.pop((client, payload[24:32]), None)
        if t1 is None:
            continue
        flags = (kept % 4) << 5  # a second sample or not; kernel or user timestamps
        what = describe(payload)
        if args.verified_mac and 'mac' in what and 'auth' not in what:
            flags |= 0x04
        prefix = client_prefix(t1, ts, struct.unpack('>Q', payload[24:32])[0], flags)
        kept += write(args.out, label_of(peer, 'exchange', payload), prefix + payload, counts,
                      args.per_kind)
    print(f'replies: {kept} files written to {args.out}')


# --- synthetic packets ----------------------------------------------------------------------

def header(li=0, version=4, mode=3, stratum=0, poll=6, precision=-20, root_delay=0,
           root_disp=0, refid=b'\0\0\0\0', ref=0, org=0, rec=0, xmt=0):
    return (struct.pack('>BBbbII', (li << 6) | (version << 3) | mode, stratum, poll, precision,
                        root_delay, root_disp) + refid + struct.pack('>QQQQ', ref, org, rec, xmt))


def field(ftype, value):
    """An RFC 7822 extension field; the value is padded to a multiple of 4."""
    value = value + b'\0' * (-len(value) % 4)
    return struct.pack('>HH', ftype, 4 + len(value)) + value


def det(seed, n):
    """n deterministic pseudo-random bytes."""
    out = b''
    while len(out) < n:
        out += hashlib.sha256(f'{seed}:{len(out)}'.encode()).digest()
    return out[:n]


T = 0xed0b6e5c_00000000  # 2025-12-30, an arbitrary recent time
SERVER = dict(mode=4, stratum=2, poll=6, precision=-23, root_delay=0x00000a3d,
              root_disp=0x00000d12, refid=bytes([192, 0, 2, 1]), ref=T - (30 << 32),
              org=0x3c1a7d2e9b845f10, rec=T + 0x1000, xmt=T + 0x3000)


def synthetic_packets():
    """(label, bytes) pairs."""
    out = []
    client = header(xmt=0x3c1a7d2e9b845f10)
    server = header(**SERVER)
    for version in range(8):
        out.append((f'header-v{version}', header(version=version, xmt=0x3c1a7d2e9b845f10)))
    for mode in range(8):
        out.append((f'header-m{mode}', header(mode=mode, xmt=0x3c1a7d2e9b845f10)))
    # RFC 7822: the smallest field, a field that fills exactly 28 bytes, two fields, a field
    # whose header says more than the datagram has, lengths that are not a multiple of 4.
    ef16 = field(0x2005, det('ef16', 12))
    out += [('ef-16', client + ef16),
            ('ef-28', client + field(0x2005, det('ef28', 24))),
            ('ef-two', client + ef16 + field(0x2006, det('ef2', 20))),
            ('ef-then-mac20', client + ef16 + struct.pack('>I', 7) + det('m', 16)),
            ('ef-then-mac24', client + ef16 + struct.pack('>I', 7) + det('m', 20)),
            ('ef-then-nak', client + ef16 + struct.pack('>I', 7)),
            ('ef-len-beyond', client + struct.pack('>HH', 0x2005, 64) + det('x', 28)),
            ('ef-len-odd', client + struct.pack('>HH', 0x2005, 30) + det('x', 26)),
            ('ef-len-zero', client + struct.pack('>HH', 0x2005, 0) + det('x', 28)),
            ('ef-in-v3', header(version=3, xmt=5) + ef16 + det('x', 20)),
            ('trailer-24-looks-like-ef', client + field(0x2005, det('ef24', 20)))]
    # RFC 8915 §5: NTS request (unique identifier, cookie, two placeholders, authenticator) and
    # reply (unique identifier, authenticator with encrypted cookies); NTS NAK (§5.7).
    uid = field(0x0104, det('uid', 32))
    cookie = field(0x0204, det('cookie', 100))
    auth = field(0x0404, struct.pack('>HH', 16, 16) + det('nonce', 16) + det('ct', 16))
    out += [('nts-request', client + uid + cookie + field(0x0304, bytes(100)) * 2 + auth),
            ('nts-reply', server + uid + field(0x0404, struct.pack('>HH', 16, 144) +
                                                det('n', 16) + det('c', 144))),
            ('nts-nak', header(**dict(SERVER, stratum=0, refid=b'NTSN')) + uid),
            ('nts-request-then-nak', client + uid + cookie + auth + struct.pack('>I', 0)),
            ('nts-auth-short', client + uid + field(0x0404, struct.pack('>HH', 16, 400)))]
    # MACs: key id and 16 (MD5, CMAC), 20 (SHA-1), 32 (SHA-256), 48, 64 (SHA-512) bytes; a
    # crypto-NAK (key id 0) after a request and after a reply; too long and odd trailers.
    for n in (16, 20, 28, 32, 48, 64, 68):
        for version in (3, 4):
            out.append((f'mac{4 + n}-v{version}',
                        header(version=version, xmt=9) + struct.pack('>I', 1) + det(n, n)))
    out += [('nak-request', client + struct.pack('>I', 0)),
            ('nak-reply', server + struct.pack('>I', 0)),
            ('trailer-8', client + det('t8', 8)),
            ('trailer-25', client + det('t25', 25)),
            ('trailer-73', header(version=2, mode=4) + det('t', 25))]
    # RFC 5905 §7.4 kiss codes, and stratum 16 with a kiss-like refid.
    for code in (b'ACST', b'AUTH', b'AUTO', b'BCST', b'CRYP', b'DENY', b'DROP', b'RSTR', b'INIT',
                 b'MCST', b'NKEY', b'NTSN', b'RATE', b'RMOT', b'STEP', b'XY\x01\x1b', b'\0\0\0\0'):
        out.append((f'kiss-{code.hex()}', header(**dict(SERVER, stratum=0, refid=code))))
    out += [('unsync-init', header(**dict(SERVER, li=3, stratum=16, refid=b'INIT', ref=0))),
            ('stratum1-gps', header(**dict(SERVER, stratum=1, refid=b'GPS\0'))),
            ('stratum3-ipv6-hash', header(**dict(SERVER, stratum=3, refid=b'\xe5\x12\x9a\x07'))),
            ('extremes', header(li=3, version=7, mode=7, stratum=255, poll=127, precision=127,
                                root_delay=0xffffffff, root_disp=0xffffffff, refid=b'\xff' * 4,
                                ref=2**64 - 1, org=2**64 - 1, rec=2**64 - 1, xmt=2**64 - 1)),
            ('empty', b''), ('one-byte', b'\x23'), ('header-47', client[:47]),
            ('header-49', client + b'\0')]
    return out


def synthetic_replies():
    """(label, bytes) pairs: client prefix + reply."""
    org = SERVER['org']
    t1 = (T >> 32) - NTP_EPOCH_OFFSET - 0.02
    out = []
    ok = header(**SERVER)
    out.append(('ok', client_prefix(t1, t1 + 0.004, org) + ok))
    out.append(('ok-2-samples', client_prefix(t1, t1 + 0.004, org, flags=0x20) + ok))
    out.append(('ok-2-samples-kernel-second-better',
                client_prefix(t1, t1 + 0.004, org, flags=0x60, spacing=0xff00) + ok))
    out.append(('wrong-origin', client_prefix(t1, t1 + 0.004, org ^ 1) + ok))
    out.append(('from-elsewhere', client_prefix(t1, t1 + 0.004, org, flags=0x03) + ok))
    out.append(('mac-failed', client_prefix(t1, t1 + 0.004, org, flags=0x08) +
                ok + struct.pack('>I', 1) + det('md5', 16)))
    out.append(('mac-verified', client_prefix(t1, t1 + 0.004, org, flags=0x04) +
                ok + struct.pack('>I', 1) + det('md5', 16)))
    out.append(('symmetric', client_prefix(t1, t1 + 0.004, org, flags=0x10) +
                header(**dict(SERVER, mode=2))))
    out.append(('unreachable-malformed', client_prefix(t1, t1, org, flags=0x80) + ok[:40]))
    out.append(('ignored-many', client_prefix(t1, t1 + 0.004, org, ignored=200) + ok))
    out.append(('era-1', client_prefix(t1, t1 + 0.004, org, era=1) + ok))
    out.append(('era-far-past', client_prefix(t1, t1 + 0.004, org, era=-100) + ok))
    out.append(('clock-step-back', client_prefix(t1, t1 - 3600, org) + ok))
    out.append(('server-before-client', client_prefix(t1, t1 + 0.004, org) +
                header(**dict(SERVER, rec=T - (5 << 32), xmt=T - (5 << 32) + 0x100))))
    out.append(('precision-extreme', client_prefix(t1, t1 + 0.004, org, precision=32) +
                header(**dict(SERVER, precision=127, root_delay=0xffffffff))))
    for code in (b'RATE', b'DENY', b'RSTR', b'NTSN', b'\0\0\0\0', b'\x1b[2J'):
        out.append((f'kiss-{code.hex()}', client_prefix(t1, t1 + 0.004, org, flags=0x20) +
                    header(**dict(SERVER, stratum=0, refid=code))))
    out.append(('unsync', client_prefix(t1, t1 + 0.004, org) +
                header(**dict(SERVER, li=3, stratum=16, refid=b'INIT'))))
    out.append(('refid-escape', client_prefix(t1, t1 + 0.004, org) +
                header(**dict(SERVER, stratum=1, refid=b'\\\x07\n\x7f'))))
    return out


# --- MAC inputs -----------------------------------------------------------------------------

# Table order of proto::mac_algorithms(): (name, hashlib name or None for AES-CMAC, key bytes).
MAC_ALGORITHMS = [
    ('md5', 'md5', None), ('sha1', 'sha1', None), ('sha224', 'sha224', None),
    ('sha256', 'sha256', None), ('sha384', 'sha384', None), ('sha512', 'sha512', None),
    ('sha3-224', 'sha3_224', None), ('sha3-256', 'sha3_256', None),
    ('sha3-384', 'sha3_384', None), ('sha3-512', 'sha3_512', None),
    ('aes128', None, 16), ('aes192', None, 24), ('aes256', None, 32),
]
K16 = bytes(range(16))
K32 = bytes(range(32))

# Replies captured from real servers with the keys above (tests/proto/mac_test.cpp):
# (label, algorithm index, key, key id, reply hex).
CAPTURED_MAC_REPLIES = [
    ('chronyd-sha256-full-v3', 3, K32, 3,
     '1c0300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 6fdea1a0 a8041c5c'
     'eeb2329b f75d7167 eeb2329b f7653632 00000003 b799d5d0 344c7242 4dc20aa9'
     '8ba2302f 37cef9ee 4c7069ac b6b4beff c24b0db0'),
    ('chronyd-sha512-20', 5, K32, 5,
     '240300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 546baa1b 559bf304'
     'eeb2329c 3c1139a9 eeb2329c 3c168d34 00000005 9128b5ae 14e7afaf ccc56d81'
     '4d2c685c d84ac628'),
    ('chronyd-aes128', 10, K16, 10,
     '240300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 c4433ba4 f642d501'
     'eeb2329c 8bcb5c71 eeb2329c 8bfd17d0 0000000a 874aa999 c0527e3d 366027f2'
     '5a092b11'),
    ('chronyd-md5', 0, K16, 1,
     '240300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 91b1bc5f 044a9edb'
     'eeb2329c d48962cf eeb2329c d48dba7e 00000001 c08b710f 6b1f0fca 97a42d7c'
     '39ca4c42'),
    ('ntpd-sha256-20', 3, K32, 3,
     '240a00e9 00000000 00000000 7f000001 00000000 00000000 46bb2211 b9cdd7f8'
     'eeb232bf 096bf2ae eeb232bf 0971f103 00000003 79216d2e cc286b53 037418d4'
     'fa7d3f50 6e690b83'),
    ('ntpd-aes256', 12, K32, 12,
     '240a00e9 00000000 00000000 7f000001 00000000 00000000 00460bb8 da580192'
     'eeb232bf 7d0963f4 eeb232bf 7d13c0e8 0000000c 73035447 2f1184e1 7ca3a76d'
     '98a87767'),
    ('ntpd-sha3-512-20', 9, K32, 9,
     '240a00e9 00000000 00000000 7f000001 00000000 00000000 93fd54e5 f3512fd9'
     'eeb232bf d595a87e eeb232bf d59b918c 00000009 174e5821 584ee432 630fad7d'
     'bfb26d7d 2a78a3eb'),
    ('ntpd-sha224-20', 2, K32, 13,
     '240a00e9 00000000 00000000 7f000001 00000000 00000000 ce087b6d 4a7c8be0'
     'eeb232c0 48e4d67f eeb232c0 48eaa245 0000000d ec1c76c9 d476a923 21adac68'
     '92515477 ae3d47d7'),
]


def mac_prefix(algorithm, key, key_id, truncate=False, v3_for_long=True, tamper=0):
    """fuzz_mac.cpp's prefix for `key` (its length must be one the target can select)."""
    _, _, cmac = MAC_ALGORITHMS[algorithm]
    selector = 0 if cmac else len(key) - 1  # classic keys: 1 + selector % 255 bytes
    flags = (1 if truncate else 0) | (2 if v3_for_long else 0) | ((tamper & 0x3f) << 2)
    return bytes([algorithm, flags, selector]) + struct.pack('>I', key_id)


def mac_inputs():
    """(label, bytes) pairs."""
    out = []
    for label, algorithm, key, key_id, reply in CAPTURED_MAC_REPLIES:
        out.append((f'captured-{label}', mac_prefix(algorithm, key, key_id) + key +
                    bytes.fromhex(reply.replace(' ', ''))))
    request = header(xmt=0x3c1a7d2e9b845f10)
    reply = header(**SERVER)
    for algorithm, (name, hash_name, cmac) in enumerate(MAC_ALGORITHMS):
        key = K16 if cmac == 16 or cmac is None else K32[:cmac]
        # Unsigned: the target signs these itself (the only AES-CMAC seeds it can make).
        for truncate in (False, True):
            out.append((f'unsigned-{name}-{"20" if truncate else "full"}',
                        mac_prefix(algorithm, key, 7, truncate, tamper=algorithm) + key + reply))
        out.append((f'unsigned-{name}-ef', mac_prefix(algorithm, key, 7, tamper=3) + key +
                    request + field(0x0104, det(name, 32))))
        out.append((f'nak-{name}', mac_prefix(algorithm, key, 7) + key + reply + bytes(4)))
        if cmac:
            continue
        for truncate in (False, True):
            digest = hashlib.new(hash_name, key + request).digest()
            if truncate:
                digest = digest[:20]
            signed = request + struct.pack('>I', 7) + digest
            out.append((f'signed-{name}-{len(digest)}', mac_prefix(algorithm, key, 7, truncate) +
                        key + signed))
            out.append((f'otherid-{name}-{len(digest)}', mac_prefix(algorithm, key, 8, truncate) +
                        key + signed))
    return out


def cmd_mac(args):
    os.makedirs(args.out, exist_ok=True)
    items = mac_inputs()
    for label, content in items:
        with open(os.path.join(args.out, sha1_name('syn-' + label, content)), 'wb') as f:
            f.write(content)
    print(f'mac: {len(items)} files written to {args.out}')


def cmd_synthetic(args):
    for out, items in ((args.packet, synthetic_packets()), (args.reply, synthetic_replies())):
        os.makedirs(out, exist_ok=True)
        for label, content in items:
            with open(os.path.join(out, sha1_name('syn-' + label, content)), 'wb') as f:
                f.write(content)
        print(f'synthetic: {len(items)} files written to {out}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('packets', 'replies'):
        p = sub.add_parser(name)
        p.add_argument('pcap', nargs='+')
        p.add_argument('--out', required=True)
        p.add_argument('--name', action='append', metavar='PORT=LABEL')
        p.add_argument('--per-kind', type=int, default=3)
        if name == 'replies':
            p.add_argument('--verified-mac', action='store_true')
    p = sub.add_parser('synthetic')
    p.add_argument('--packet', required=True)
    p.add_argument('--reply', required=True)
    p = sub.add_parser('mac')
    p.add_argument('--out', required=True)
    args = parser.parse_args()
    {'packets': cmd_packets, 'replies': cmd_replies, 'synthetic': cmd_synthetic,
     'mac': cmd_mac}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
