"""ntpprobe --prometheus: metrics that `promtool check metrics` accepts, with the values a real
chronyd gives, and with the failures (unreachable, timeout, resolve) as ntpkit_up 0 and
ntpkit_error_info. A name is resolved only inside a network namespace of its own (unshare -n),
so no query leaves the machine.
"""

import os
import re
import socket
import subprocess
import unittest

from local_chronyd import LocalChronyd, free_udp_port

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "")
NTPPROBE = os.path.join(BUILD, "apps", "ntpprobe")

SAMPLE = re.compile(r'^([a-z_:][a-z0-9_:]*)(\{.*\})? (\S+)$')


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def promtool(text):
    r = run(["promtool", "check", "metrics"], input=text)
    return r.returncode, r.stdout + r.stderr


def parse(text):
    """{(name, labels text): value}, and {family: (help, type)}."""
    samples, families = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_text = line[7:].split(" ", 1)
            families.setdefault(name, [None, None])[0] = help_text
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ", 1)
            families.setdefault(name, [None, None])[1] = kind
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line (or has a timestamp): {line!r}"
            key = (m.group(1), m.group(2) or "")
            assert key not in samples, f"series twice: {line}"
            samples[key] = float(m.group(3))
    return samples, families


def labels(server, address, family):
    return f'{{server="{server}",address="{address}",family="{family}"}}'


class PrometheusOutput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chronyd = LocalChronyd()
        cls.chronyd.start()

    @classmethod
    def tearDownClass(cls):
        cls.chronyd.stop()

    def test_answered_server_passes_promtool_with_its_values(self):
        server = self.chronyd.server
        r = run([NTPPROBE, "--prometheus", "-n", "3", "-i", "0.2", "--allow-fast", server])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertEqual(promtool(r.stdout), (0, ""))
        samples, families = parse(r.stdout)
        at = labels(server, "127.0.0.1", "ipv4")
        self.assertEqual(samples[("ntpkit_up", at)], 1)
        self.assertEqual(samples[("ntpkit_stratum", at)], 3)
        self.assertEqual(samples[("ntpkit_leap", at)], 0)
        self.assertEqual(samples[("ntpkit_requests", at)], 3)
        self.assertEqual(samples[("ntpkit_replies", at)], 3)
        # Both ends read one clock on loopback: the offset is microseconds, well inside 1 ms.
        self.assertLess(abs(samples[("ntpkit_offset_seconds", at)]), 0.001)
        for name in ["delay", "processing", "dispersion", "jitter", "root_distance"]:
            value = samples[(f"ntpkit_{name}_seconds", at)]
            self.assertTrue(0 <= value < 0.001, (name, value))
        self.assertEqual(samples[("ntpkit_precision_seconds", at)] > 0, True)
        info = [k for k in samples if k[0] == "ntpkit_server_info"]
        self.assertEqual(len(info), 1)
        self.assertIn('refid="127.127.1.1"', info[0][1])
        self.assertIn('mode="server"', info[0][1])
        self.assertFalse([k for k in samples if k[0] == "ntpkit_error_info"])
        # Every family: ntpkit_ prefix, HELP and TYPE gauge; seconds only in _seconds names.
        for name, (help_text, kind) in families.items():
            self.assertTrue(name.startswith("ntpkit_"), name)
            self.assertTrue(help_text, name)
            self.assertEqual(kind, "gauge", name)
        started = samples[("ntpkit_last_run_timestamp_seconds", "")]
        reference = samples[("ntpkit_reference_timestamp_seconds", at)]
        self.assertLess(abs(started - reference), 3600)
        version = run([NTPPROBE, "--version"]).stdout.split()[-1]
        self.assertEqual(samples[("ntpkit_build_info",
                                  f'{{tool="ntpprobe",version="{version}"}}')], 1)

    def test_failures_are_up_0_with_their_kind(self):
        unreachable = f"127.0.0.1:{free_udp_port()}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))  # takes requests and never answers
            timeout = f"127.0.0.1:{silent.getsockname()[1]}"
            r = run([NTPPROBE, "--prometheus", "-t", "0.5", self.chronyd.server, unreachable,
                     timeout, self.chronyd.server])  # named twice: each series once
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(promtool(r.stdout), (0, ""))
        samples, _ = parse(r.stdout)
        self.assertEqual(samples[("ntpkit_up", labels(self.chronyd.server, "127.0.0.1", "ipv4"))],
                         1)
        for server, kind in [(unreachable, "unreachable"), (timeout, "timeout")]:
            at = labels(server, "127.0.0.1", "ipv4")
            self.assertEqual(samples[("ntpkit_up", at)], 0)
            self.assertEqual(samples[("ntpkit_error_info",
                                      at[:-1] + f',kind="{kind}",kiss_code=""}}')], 1)
            self.assertNotIn(("ntpkit_offset_seconds", at), samples)  # absent, not NaN
            self.assertNotIn(("ntpkit_stratum", at), samples)

    def test_unresolved_name_and_label_escaping(self):
        # No network at all in a new namespace: the resolver fails at once.
        name = 'no"such\\name'
        r = run(["unshare", "-n", NTPPROBE, "--prometheus", "-4", name])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(promtool(r.stdout), (0, ""))
        samples, _ = parse(r.stdout)
        escaped = 'no\\"such\\\\name'
        at = labels(escaped, "", "")
        self.assertEqual(samples[("ntpkit_up", at)], 0)
        self.assertEqual(samples[("ntpkit_error_info", at[:-1] + ',kind="resolve",kiss_code=""}')],
                         1)

    def test_excludes_the_other_output_modes(self):
        for other in (["--json"], ["--json-lines"], ["--nagios"]):
            with self.subTest(other):
                r = run([NTPPROBE, "--prometheus", *other, self.chronyd.server])
                self.assertIn(r.returncode, (2, 3))  # usage error (UNKNOWN in plugin mode)
                self.assertIn("--prometheus cannot be combined", r.stdout + r.stderr)

    def test_promtool_would_reject_broken_output(self):
        # The check is real: promtool's linter refuses a counter named without _total.
        rc, _ = promtool("# HELP x_bytes b\n# TYPE x_bytes counter\nx_bytes 1\n")
        self.assertNotEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
