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
import os
import resource
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.environ.get("NTPKIT_SOURCE_DIR", "../.."), "tests", "cli"))
from hostile_support import BUILD, NTPPROBE, Responder  # noqa: E402

SILENT_MOD = 97
NOFILE = 256
RSS_LIMIT_KIB = 64 * 1024
SIZES = (100, 1000, 10000)


def addresses(n):
    """n distinct loopback addresses 127.1.x.y (y = 1..250)."""
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n)]


def silent(address):
    return int(ipaddress.IPv4Address(address)) % SILENT_MOD == 0


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def run_measured(cmd, stdout_path):
    """Runs cmd; returns (exit code, wall seconds, peak RSS in KiB, stderr)."""
    with open(stdout_path, "w") as out:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True,
                             preexec_fn=limit_descriptors)
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
    return p.returncode, seconds, usage.ru_maxrss, err


class Resources(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root for a network namespace")
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
        cmd = ["ip", "netns", "exec", self.ns, NTPPROBE, "-p", str(self.responder.port),
               "-t", "1", "-f", path, *args]
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
        self.assertLess(rss_kib, RSS_LIMIT_KIB)

    def test_json_memory(self):
        # One JSON document holds every target, so it grows with them; measure it too.
        for n in SIZES:
            with self.subTest(targets=n):
                _, rc, seconds, rss_kib, err, lines = self.probe_many(n, "--json")
                self.assertNotIn("Too many open files", err)
                self.assertIn('"schema"', "\n".join(lines[:3]))
                self.figures.append(f"json  {n:6d} targets: "
                                    f"{seconds:6.2f} s, peak RSS {rss_kib / 1024:6.1f} MiB")

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
