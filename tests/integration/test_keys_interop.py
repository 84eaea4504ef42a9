"""Symmetric-key MACs against real servers: chronyd 4.3 and NTPsec ntpd on loopback.

tests/tools/mac_probe signs one client request with proto/mac.hpp (key from a key file
parsed by proto/keys.hpp), sends it, and checks the reply's MAC with verify_mac(). Both
servers run in a network namespace made for this test (ntpd always binds *:123), with -x /
without CAP_SYS_TIME so that neither can touch the clock. A server that rejects a MAC drops
the request silently, so "rejected" means "no answer within the timeout".

What this pins (see include/ntpkit/proto/mac.hpp):
  chronyd  full digests, NTPv3 when longer than 20 bytes; also a 20-byte truncated digest in
           NTPv4; drops a full long digest in NTPv4 and a truncated one in NTPv3.
  ntpd     only 20-byte truncated long digests, in NTPv4 or NTPv3; drops full long digests.
  both     drop a corrupted MAC, a crypto-NAK and an unknown key id.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import peers

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "")
PROBE = os.path.join(BUILD, "tests", "mac_probe")
NTPD = "/usr/sbin/ntpd"
CHRONY_PORT = 11123

H16 = "000102030405060708090a0b0c0d0e0f"
H24 = H16 + "1011121314151617"
H32 = H16 + "101112131415161718191a1b1c1d1e1f"

CHRONY_KEYS = f"""# chrony.keys: every type chrony 4.3 has that ntpkit implements
1 MD5 HEX:{H16}
2 SHA1 HEX:{H16}
3 SHA256 HEX:{H32}
4 SHA384 HEX:{H32}
5 SHA512 HEX:{H32}
6 SHA3-224 HEX:{H32}
7 SHA3-256 HEX:{H32}
8 SHA3-384 HEX:{H32}
9 SHA3-512 HEX:{H32}
10 AES128 HEX:{H16}
11 AES256 HEX:{H32}
12 ascii-key-and-default-type
4000000000 SHA1 ASCII:a-32-bit-key-id
"""

NTP_KEYS = f"""# ntp.keys: NTPsec spellings
1 md5 {H16}
2 sha1 {H16}
3 sha256 {H32}
4 sha384 {H32}
5 sha512 {H32}
6 sha3-224 {H32}
7 sha3-256 {H32}
8 sha3-384 {H32}
9 sha3-512 {H32}
10 aes {H16}
11 aes-192 {H24}
12 aes-256 {H32}
13 sha224 {H32}
14 M asciikey
15 AES128CMAC 0123456789abcdef
16 SHA-1 asciisha1
"""


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class KeysInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.require_netns()  # fails, rather than skips, where namespaces cannot be made
        if not os.path.exists(PROBE):
            raise AssertionError(f"{PROBE} not built")
        cls.dir = tempfile.mkdtemp(prefix="ntpkit-keys-")
        cls.ns = f"ntpkit-keys-{os.getpid()}"
        cls.pids = []
        run("ip", "netns", "add", cls.ns)
        try:
            run("ip", "netns", "exec", cls.ns, "ip", "link", "set", "lo", "up")
            cls.chrony_keys = cls.write("chrony.keys", CHRONY_KEYS)
            cls.ntp_keys = cls.write("ntp.keys", NTP_KEYS)
            cls.start_chronyd()
            cls.start_ntpd()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for pid in cls.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in cls.pids:
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        subprocess.run(["ip", "netns", "del", cls.ns], capture_output=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    @classmethod
    def read_pid(cls, path):
        for _ in range(100):
            if os.path.exists(path):
                with open(path) as f:
                    text = f.read().strip()
                if text:
                    return int(text)
            time.sleep(0.1)
        raise AssertionError(f"no pid file {path}")

    @classmethod
    def start_chronyd(cls):
        chronyd = run("bash", os.path.join(SOURCE, "scripts", "fetch-chrony"),
                      os.path.join(BUILD, "peers", "chrony")).stdout.strip()
        os.makedirs(os.path.join(cls.dir, "sock"), mode=0o700)
        conf = cls.write("chrony.conf", "\n".join([
            f"port {CHRONY_PORT}", "bindaddress 127.0.0.1", "allow 127.0.0.0/8",
            "local stratum 3", f"keyfile {cls.chrony_keys}", "cmdport 0",
            f"bindcmdaddress {cls.dir}/sock/chronyd.sock", f"pidfile {cls.dir}/chronyd.pid",
            f"driftfile {cls.dir}/chrony.drift", ""]))
        # -x: never touch the clock.
        run("ip", "netns", "exec", cls.ns, chronyd, "-x", "-u", "root", "-f", conf,
            "-l", os.path.join(cls.dir, "chronyd.log"))
        cls.pids.append(cls.read_pid(os.path.join(cls.dir, "chronyd.pid")))

    @classmethod
    def start_ntpd(cls):
        trusted = " ".join(str(i) for i in range(1, 17))
        conf = cls.write("ntp.conf", "\n".join([
            "disable ntp", "tos orphan 10 orphanwait 0", f"keys {cls.ntp_keys}",
            f"trustedkey {trusted}", "restrict default kod limited nomodify noquery",
            "restrict 127.0.0.1", f"driftfile {cls.dir}/ntp.drift", ""]))
        # Without CAP_SYS_TIME ntpd cannot adjust the clock (it tries ntp_adjtime at start).
        run("ip", "netns", "exec", cls.ns, "setpriv", "--bounding-set=-sys_time",
            "--inh-caps=-sys_time", NTPD, "-c", conf, "-p", f"{cls.dir}/ntpd.pid",
            "-l", f"{cls.dir}/ntpd.log")
        cls.pids.append(cls.read_pid(os.path.join(cls.dir, "ntpd.pid")))

    def probe(self, server, key, *extra, timeout_ms=600):
        keys, port = ((self.chrony_keys, CHRONY_PORT) if server == "chronyd"
                      else (self.ntp_keys, 123))
        args = ["ip", "netns", "exec", self.ns, PROBE, "--server", "127.0.0.1", "--port",
                str(port), "--keys", keys, "--key", str(key), "--timeout-ms", str(timeout_ms),
                *extra]
        p = subprocess.run(args, capture_output=True, text=True)
        # mac_probe: 0 answered and verified, 1 no answer, 2 answered but not verified.
        self.assertIn(p.returncode, (0, 1, 2), p.stderr)
        r = json.loads(p.stdout)
        r["exit"] = p.returncode
        return r

    def expect_verified(self, server, key, *extra, sent=None, reply_digest=None):
        # The first requests may race the servers' start: retry a dropped one a few times.
        for _ in range(10):
            r = self.probe(server, key, *extra)
            if r["answered"]:
                break
            time.sleep(0.5)
        with self.subTest(server=server, key=key, extra=extra):
            self.assertTrue(r["answered"], r)
            self.assertEqual(r["exit"], 0, r)
            self.assertEqual(r["verify"], "ok", r)
            self.assertTrue(r["origin_ok"], r)
            if sent:
                self.assertEqual((r["sent_version"], r["sent_mac_bytes"]), sent, r)
                self.assertEqual((r["reply_version"], r["reply_mac_bytes"]), sent, r)
            if reply_digest:
                self.assertEqual(r["reply_digest"], reply_digest, r)

    def expect_dropped(self, server, key, *extra):
        # Checked after expect_verified() for the same server, so the server is up.
        r = self.probe(server, key, *extra)
        with self.subTest(server=server, key=key, extra=extra):
            self.assertFalse(r["answered"], r)
            self.assertEqual(r["exit"], 1, r)

    def test_1_chronyd_with_its_own_convention(self):
        # MD5/CMAC: 16-byte digest; SHA1: 20; longer ones full, as NTPv3.
        for key, sent in [(1, (4, 20)), (2, (4, 24)), (3, (3, 36)), (4, (3, 52)), (5, (3, 68)),
                          (6, (3, 32)), (7, (3, 36)), (8, (3, 52)), (9, (3, 68)), (10, (4, 20)),
                          (11, (4, 20)), (12, (4, 20)), (4000000000, (4, 24))]:
            self.expect_verified("chronyd", key, sent=sent, reply_digest="full")

    def test_2_chronyd_accepts_truncated_digests_in_ntpv4(self):
        for key in (3, 5, 9):
            self.expect_verified("chronyd", key, "--digest", "truncate_20", "--v3", "off",
                                 sent=(4, 24), reply_digest="truncate_20")

    def test_3_chronyd_drops_what_it_cannot_verify(self):
        self.expect_verified("chronyd", 1)
        for key in (3, 9):
            self.expect_dropped("chronyd", key, "--digest", "full", "--v3", "off")
            self.expect_dropped("chronyd", key, "--digest", "truncate_20", "--v3", "off",
                                "--version", "3")
        for key in (1, 2, 3, 10):
            self.expect_dropped("chronyd", key, "--corrupt")
        self.expect_dropped("chronyd", 1, "--nak")

    def test_4_ntpd_with_its_own_convention(self):
        for key in range(1, 17):
            digest_size = {1: 16, 2: 20, 10: 16, 11: 16, 12: 16, 14: 16, 15: 16, 16: 20}
            if key in digest_size:
                self.expect_verified("ntpd", key, sent=(4, 4 + digest_size[key]),
                                     reply_digest="full")
            else:
                self.expect_verified("ntpd", key, sent=(4, 24), reply_digest="truncate_20")

    def test_5_ntpd_drops_full_long_digests_and_bad_macs(self):
        self.expect_verified("ntpd", 1)
        self.expect_verified("ntpd", 3, "--version", "3", sent=(3, 24),
                             reply_digest="truncate_20")
        for key in (3, 5):
            self.expect_dropped("ntpd", key, "--digest", "full", "--v3", "on")
            self.expect_dropped("ntpd", key, "--digest", "full", "--v3", "off")
        for key in (1, 2, 3, 10):
            self.expect_dropped("ntpd", key, "--corrupt")
        self.expect_dropped("ntpd", 1, "--nak")

    def test_6_unknown_key_id_is_dropped(self):
        self.expect_verified("ntpd", 2)
        # chrony.keys' 4000000000 is not in ntp.keys (ntpd cannot have ids over 65535).
        args = ["ip", "netns", "exec", self.ns, PROBE, "--port", "123", "--keys",
                self.chrony_keys, "--key", "4000000000", "--timeout-ms", "600"]
        p = subprocess.run(args, capture_output=True, text=True)
        r = json.loads(p.stdout)
        self.assertFalse(r["answered"], r)
        self.assertEqual(p.returncode, 1, r)


if __name__ == "__main__":
    unittest.main()
