"""check_ntp_peer (ntpmon-query under that name) side by side with the real
/usr/lib/nagios/plugins/check_ntp_peer (monitoring-plugins 2.3.3) on the same servers.

Three servers, each in a namespace of its own: an ntpd synchronised over NTS to a chronyd (a
sys.peer at stratum 3), an orphan ntpd whose only source is an unfed SHM clock (no sys.peer),
and one whose restrict lines refuse mode 6. For a matrix of thresholds both plugins run one
after the other; they must give the same exit code, the same status text once numbers are
replaced by N (the measured values move between the runs, the thresholds are chosen far from
them), and the same perfdata labels and threshold fields. ntpmon-query --nagios gives the same
verdict with its own option names.
"""

import contextlib
import os
import re
import unittest

import peers

REAL = "/usr/lib/nagios/plugins/check_ntp_peer"
NTS_SYNC_TIMEOUT = 40.0

MATRIX = [
    [],
    ["-w", "1", "-c", "2"],
    ["-w", "0.0000001", "-c", "1"],
    ["-w", "0.0000001", "-c", "0.0000002"],
    ["-W", "2", "-C", "4"],
    ["-W", "4", "-C", "2"],
    ["-W", "1:3", "-C", "0:4"],
    ["-j", "1000", "-k", "2000"],
    ["-j", "0.0000001", "-k", "1000"],
    ["-j", "-1:100", "-k", "-1:200"],
    ["-m", "2:", "-n", "1:"],
    ["-m", "@5", "-n", "@3"],
    ["-m", ":5", "-n", ":3"],
    ["-q"],
    ["-q", "-W", "2", "-C", "4"],
    ["-w", "1", "-c", "2", "-W", "3", "-C", "4", "-j", "1", "-k", "2", "-m", "1", "-n", "2"],
    ["-w", "~:1", "-W", "@3:3"],
    ["-c", "1:0"],
    ["-w", "bad"],
]

# ntpmon-query --nagios long names for the plugin's short options.
LONG = {"-w": "--warning", "-c": "--critical", "-W": "--stratum-warning",
        "-C": "--stratum-critical", "-j": "--jitter-warning", "-k": "--jitter-critical",
        "-m": "--truechimers-warning", "-n": "--truechimers-critical", "-q": "--quiet"}


def shape(line):
    """The status text with every number replaced by N."""
    status = line.split("|", 1)[0]
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", status)


def perf_fields(line):
    """[(label, [warn, crit, min, max])] of the perfdata (values dropped)."""
    if "|" not in line:
        return []
    out = []
    for item in line.split("|", 1)[1].split():
        label, _, rest = item.partition("=")
        out.append((label, rest.split(";")[1:]))
    return out


class PluginSideBySide:
    ns = None

    def run_pair(self, args, timeout="3"):
        host = ["-H", "127.0.0.1", "-t", timeout]
        real = self.ns.run([REAL, *host, *args], timeout=30)
        ours = self.ns.run([os.path.join(os.path.dirname(peers.binary("ntpmon-query")),
                                         "check_ntp_peer"), *host, *args], timeout=30)
        return real, ours

    def assert_same(self, args, timeout="3"):
        real, ours = self.run_pair(args, timeout)
        with self.subTest(args=" ".join(args)):
            self.assertEqual(ours.returncode, real.returncode,
                             f"real: {real.stdout!r}\nours: {ours.stdout!r}")
            rl, ol = real.stdout.strip(), ours.stdout.strip()
            self.assertEqual(shape(ol), shape(rl), f"real: {rl!r}\nours: {ol!r}")
            self.assertEqual(perf_fields(ol), perf_fields(rl), f"real: {rl!r}\nours: {ol!r}")
        return real, ours

    def test_matrix(self):
        if not os.access(REAL, os.X_OK):
            self.skipTest("monitoring-plugins' check_ntp_peer is not installed")
        for args in MATRIX:
            self.assert_same(args)

    def test_nagios_mode_agrees(self):
        if not os.access(REAL, os.X_OK):
            self.skipTest("monitoring-plugins' check_ntp_peer is not installed")
        for args in MATRIX[:-3]:
            long_args = [LONG.get(a, a) for a in args]
            real = self.ns.run([REAL, "-H", "127.0.0.1", *args], timeout=30)
            ours = self.ns.run([peers.binary("ntpmon-query"), "--nagios", *long_args,
                                "127.0.0.1"], timeout=30)
            with self.subTest(args=" ".join(args)):
                self.assertEqual(ours.returncode, real.returncode, ours.stdout + real.stdout)
                self.assertEqual(shape(ours.stdout), shape(real.stdout))


class SynchronisedTest(PluginSideBySide, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=11123, local_stratum=3,
                                                        nts=True, ntsport=11460))
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns, config_extra="\n".join([
            "tos minsane 1",
            "refclock shm unit 0 refid SHM0 minpoll 1 maxpoll 1",
            f"server 127.0.0.1:{cls.chronyd.ntsport} nts ca {cls.chronyd.ca_cert} "
            "iburst minpoll 3 maxpoll 4 prefer"])))
        cls.ntpd.wait_variable("stratum", "4", timeout=NTS_SYNC_TIMEOUT)

    def test_nagios_refclocks_warns_of_the_unfed_clock(self):
        """--refclocks: the SHM clock that never got a sample is in state clk_no_reply (what
        ntpq's cv says), so the OK check becomes WARNING and names it."""
        cv = self.ntpd.ntpq("-c", "as")
        ours = self.ns.run([peers.binary("ntpmon-query"), "--nagios", "--refclocks",
                            "127.0.0.1"])
        self.assertEqual(ours.returncode, 1, ours.stdout)
        self.assertRegex(ours.stdout, r"^NTP WARNING: Offset \S+ secs, refclock SHM \(\d+\) "
                                      r"clk_no_reply \(WARNING\)\|")
        assoc = re.search(r"refclock SHM \((\d+)\)", ours.stdout).group(1)
        self.assertIn(assoc, cv)
        self.assertIn("clk_no_reply", self.ntpd.ntpq("-c", f"cv {assoc}"))
        plain = self.ns.run([peers.binary("ntpmon-query"), "--nagios", "127.0.0.1"])
        self.assertEqual(plain.returncode, 0, plain.stdout)

    def test_the_sys_peer_stratum_is_reported(self):
        _, ours = self.assert_same(["-W", "3", "-C", "3"])
        self.assertIn("stratum=3", ours.stdout)
        self.assertTrue(ours.stdout.startswith("NTP OK: Offset "), ours.stdout)


class NoSysPeerTest(PluginSideBySide, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns, config_extra=(
            "refclock shm unit 0 refid SHM0 minpoll 1 maxpoll 1")))

    def test_not_synchronized(self):
        _, ours = self.assert_same([])
        self.assertTrue(ours.stdout.startswith("NTP CRITICAL: Server not synchronized, "
                                               "Offset unknown|"), ours.stdout)


class RefusingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        from test_ntpmon_query import NoQueryNtpd
        cls.ntpd = stack.enter_context(NoQueryNtpd(cls.ns))

    def test_socket_timeout_and_unreachable_port(self):
        if not os.access(REAL, os.X_OK):
            self.skipTest("monitoring-plugins' check_ntp_peer is not installed")
        ours_bin = os.path.join(os.path.dirname(peers.binary("ntpmon-query")), "check_ntp_peer")
        for args in (["-H", "127.0.0.1", "-t", "1"], ["-H", "127.0.0.1", "-p", "12999"]):
            real = self.ns.run([REAL, *args], timeout=30)
            ours = self.ns.run([ours_bin, *args], timeout=30)
            with self.subTest(args=" ".join(args)):
                self.assertEqual((ours.returncode, ours.stdout), (real.returncode, real.stdout))


if __name__ == "__main__":
    unittest.main()
