"""Bounded resources: 10,000 targets under a 256-descriptor limit, and flat memory.

One ntpkit-hostile ("good" scenario) on 0.0.0.0 inside a network namespace made for this test
answers every 127.1.x.y address from the address asked (IP_PKTINFO), except those whose
address is a multiple of SILENT_MOD, which it ignores so that timeouts mix in. ntpprobe runs
inside the namespace with RLIMIT_NOFILE 256 and must report every target, answered or timed
out, without running out of descriptors. Peak RSS (getrusage of the child) and wall time are
measured for 100, 1,000 and 10,000 targets; they are printed and written to
$NTPKIT_BUILD_DIR/robustness-figures.txt for docs/robustness.md.
"""

import ipaddress
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import unittest

import peers

sys.path.insert(0, os.path.join(os.environ.get("NTPKIT_SOURCE_DIR", "../.."), "tests", "cli"))
from hostile_support import BUILD, NTPPROBE, Responder, sanitized_build  # noqa: E402

SILENT_MOD = 97
NOFILE = 256
RSS_LIMIT_KIB = 64 * 1024
SIZES = (100, 1000, 10000)
GNU_TIME = "/usr/bin/time"  # Debian package time (scripts/setup-deps)


def addresses(n):
    """n distinct loopback addresses 127.1.x.y (y = 1..250)."""
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n)]


def silent(address):
    return int(ipaddress.IPv4Address(address)) % SILENT_MOD == 0


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def run_measured(cmd, stdout_path):
    """Runs cmd under GNU time; returns (exit code, wall seconds, peak RSS in KiB, stderr).

    The peak RSS comes from GNU time, whose child is forked from a small process: a child
    forked from this Python process would start with Python's pages counted in ru_maxrss.
    """
    rss_path = stdout_path + ".rss"
    with open(stdout_path, "w") as out:
        start = time.monotonic()
        p = subprocess.run([GNU_TIME, "-f", "%M", "-o", rss_path, *cmd], stdout=out,
                           stderr=subprocess.PIPE, text=True, preexec_fn=limit_descriptors,
                           timeout=600)
        seconds = time.monotonic() - start
    with open(rss_path) as f:
        rss_kib = int(f.read().split()[-1])
    return p.returncode, seconds, rss_kib, p.stderr


class Resources(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.require_netns()  # fails, rather than skips, where namespaces cannot be made
        if not os.path.exists(GNU_TIME):
            raise AssertionError(f"{GNU_TIME} missing (scripts/setup-deps installs it)")
        cls.dir = tempfile.TemporaryDirectory(prefix="ntpkit-resources-")
        cls.ns = f"ntpkit-h-{os.getpid()}"
        subprocess.run(["ip", "netns", "add", cls.ns], check=True)
        cls.responder = None
        try:
            subprocess.run(["ip", "netns", "exec", cls.ns, "ip", "link", "set", "lo", "up"],
                           check=True)
            cls.responder = Responder("good", "--silent-dst-mod", str(SILENT_MOD),
                                      listen="0.0.0.0:0", netns=cls.ns)
        except BaseException:
            cls.tearDownClass()
            raise
        cls.figures = []

    @classmethod
    def tearDownClass(cls):
        if cls.responder:
            cls.responder.stop()
        subprocess.run(["ip", "netns", "del", cls.ns], capture_output=True)
        cls.dir.cleanup()

    def probe_many(self, n, *args):
        targets = addresses(n)
        path = os.path.join(self.dir.name, f"targets-{n}")
        with open(path, "w") as f:
            f.write("\n".join(targets) + "\n")
        out_path = os.path.join(self.dir.name, f"out-{n}")
        # A sanitizer build answers and reads far slower: give each reply more time there.
        timeout = "5" if sanitized_build() else "1"
        cmd = ["ip", "netns", "exec", self.ns, NTPPROBE, "-p", str(self.responder.port),
               "-t", timeout, "-f", path, *args]
        rc, seconds, rss_kib, err = run_measured(cmd, out_path)
        with open(out_path) as f:
            lines = f.read().splitlines()
        return targets, rc, seconds, rss_kib, err, lines

    def test_targets_under_a_descriptor_limit(self):
        for n in SIZES:
            with self.subTest(targets=n):
                targets, rc, seconds, rss_kib, err, lines = self.probe_many(n)
                quiet = sum(1 for t in targets if silent(t))
                self.assertNotIn("Too many open files", err)
                self.assertNotIn("cannot open socket", "\n".join(lines))
                self.assertEqual(len(lines), n, err)
                answered = [line for line in lines if " offset " in line]
                timed_out = [line for line in lines if "error timeout" in line]
                self.assertEqual(len(timed_out), quiet)
                self.assertEqual(len(answered), n - quiet)
                self.assertEqual(rc, 1 if quiet else 0)
                self.figures.append(f"text  {n:6d} targets ({quiet} silent): "
                                    f"{seconds:6.2f} s, peak RSS {rss_kib / 1024:6.1f} MiB")
        self.check_memory(rss_kib)

    def test_json_memory(self):
        # One JSON document of every target, written target by target. Under sanitizers
        # 10,000 targets take minutes and their memory figures mean nothing: skip that size.
        for n in SIZES[:2] if sanitized_build() else SIZES:
            with self.subTest(targets=n):
                targets, rc, seconds, rss_kib, err, lines = self.probe_many(n, "--json")
                self.assertNotIn("Too many open files", err)
                doc = json.loads("\n".join(lines))
                self.assertEqual(doc["summary"]["addresses"], n)
                quiet = sum(1 for t in targets if silent(t))
                self.assertEqual(doc["summary"]["addresses_failed"], quiet)
                self.figures.append(f"json  {n:6d} targets: "
                                    f"{seconds:6.2f} s, peak RSS {rss_kib / 1024:6.1f} MiB")
        self.check_memory(rss_kib)

    def check_memory(self, rss_kib):
        if not sanitized_build():
            self.assertLess(rss_kib, RSS_LIMIT_KIB)

    @classmethod
    def write_figures(cls):
        text = "\n".join(sorted(cls.figures)) + "\n"
        print("\n" + text, file=sys.stderr)
        with open(os.path.join(BUILD, "robustness-figures.txt"), "w") as f:
            f.write(text)


def tearDownModule():
    if Resources.__dict__.get("figures"):
        Resources.write_figures()


if __name__ == "__main__":
    unittest.main()
