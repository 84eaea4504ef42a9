"""The programs in examples/ (built by the main build) against a real server.

ntpkit-query asks a chronyd of the test's own on 127.0.0.1 (local_chronyd.py: -x, so it
never touches the clock) and must print its stratum and refid; a port where nothing listens
and bad usage give their exit codes. ntpkit-decode decodes its built-in packet and one given
in hex, offline.
"""

import os
import re
import subprocess
import unittest

from local_chronyd import LocalChronyd, free_udp_port

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "")
QUERY = os.path.join(BUILD, "examples", "ntpkit-query")
DECODE = os.path.join(BUILD, "examples", "ntpkit-decode")


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


class QueryExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(QUERY):
            raise AssertionError(f"{QUERY} not built (NTPKIT_EXAMPLES=OFF?)")
        cls.chronyd = LocalChronyd()
        cls.chronyd.start()

    @classmethod
    def tearDownClass(cls):
        cls.chronyd.stop()

    def test_prints_offset_delay_stratum_and_refid_of_chronyd(self):
        r = run([QUERY, self.chronyd.server])
        self.assertEqual(r.returncode, 0, r.stderr)
        # chronyd with `local stratum 3` and no sources: refid 127.127.1.1 (its LOCAL clock).
        self.assertRegex(r.stdout, r"^127\.0\.0\.1: offset [+-]\d+\.\d{9} s, delay \d+\.\d{9} s, "
                                   r"stratum 3, refid 127\.127\.1\.1\n$")
        offset = float(re.search(r"offset (\S+) s", r.stdout).group(1))
        self.assertLess(abs(offset), 0.001)  # same clock on both ends: microseconds

    def test_no_server_on_the_port_is_exit_1_with_the_reason(self):
        r = run([QUERY, f"127.0.0.1:{free_udp_port()}"])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"^127\.0\.0\.1: .*unreachable")

    def test_bad_usage_is_exit_2(self):
        self.assertEqual(run([QUERY]).returncode, 2)
        r = run([QUERY, "[::1"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("[::1", r.stderr)


class DecodeExample(unittest.TestCase):
    def test_built_in_packet(self):
        r = run([DECODE])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "leap 0, version 4, mode 4, stratum 2, poll 6, precision -20\n"
                                   "root delay 0.062500000 s, root dispersion 0.062500000 s, "
                                   "refid 192.0.2.1\n"
                                   "transmit - receive: 0.250000000 s\n"
                                   "re-encoded: identical\n")

    def test_packet_given_in_hex(self):
        # A client request (LI 0, VN 4, mode 3) with a transmit timestamp only.
        hex_request = "23" + "00" * 39 + "0123456789abcdef"
        r = run([DECODE, hex_request])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("leap 0, version 4, mode 3, stratum 0", r.stdout)
        self.assertIn("re-encoded: identical", r.stdout)
        self.assertEqual(run([DECODE, "2300"]).returncode, 1)  # truncated


if __name__ == "__main__":
    unittest.main()
