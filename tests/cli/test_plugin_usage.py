"""A usage error in plugin mode is the plugin's UNKNOWN, in every program: exit 3 and one
status line "SERVICE UNKNOWN: ..." on stdout (a monitoring core shows stdout, not stderr);
without --nagios the same error is one line on stderr and exit 2."""

import os
import subprocess
import unittest

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "../../build")

CASES = [
    ("ntpprobe", "NTP", ["--nagios", "--frobnicate", "127.0.0.1"]),
    ("ntpprobe", "NTP", ["--nagios", "--warning", "zz", "127.0.0.1"]),
    ("ntpmon-query", "NTP", ["--nagios", "--frobnicate", "127.0.0.1"]),
    ("ntpmon-query", "NTP", ["--nagios", "127.0.0.1", "peers"]),  # --nagios takes no COMMAND
    ("ntpclients", "NTPCLIENTS", ["pcap", "--nagios", "--frobnicate", "x.pcap"]),
    ("ntpclients", "NTPCLIENTS", ["pcap", "--nagios", "--crit-clients", "zz", "x.pcap"]),
]


def run(program, args):
    return subprocess.run([os.path.join(BUILD, "apps", program)] + args, capture_output=True,
                          text=True, timeout=20)


class PluginUsage(unittest.TestCase):
    def test_unknown_with_nagios(self):
        for program, service, args in CASES:
            with self.subTest(program=program, args=args):
                r = run(program, args)
                self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
                self.assertEqual(len(r.stdout.splitlines()), 1, r.stdout)
                self.assertTrue(r.stdout.startswith(f"{service} UNKNOWN: "), r.stdout)

    def test_usage_error_without_nagios(self):
        for program, _, args in CASES:
            args = [a for a in args if a != "--nagios"]
            if "peers" in args or "--crit-clients" in args or "--warning" in args:
                continue  # errors only plugin mode has
            with self.subTest(program=program, args=args):
                r = run(program, args)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                self.assertTrue(r.stderr.startswith(f"{program}: "), r.stderr)


if __name__ == "__main__":
    unittest.main()
