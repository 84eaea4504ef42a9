"""ntpprobe never tries to set the clock: every mode, traced with strace.

Each invocation runs under `strace -f -qq -e trace=settimeofday,clock_settime,adjtimex,
clock_adjtime,seccomp,execve`. No clock-setting call may appear. strace itself shows that it
worked: the execve of the binary appears in every trace, and the seccomp call that installs
the clock filter appears in every invocation that reaches the network.
"""

import os
import re
import shutil
import socket
import sys
import tempfile
import unittest

from hostile_support import CHECK_NTP_TIME, NTPPROBE, Responder, probe

FORBIDDEN = ("settimeofday", "clock_settime", "adjtimex", "clock_adjtime")
WITNESSES = ("seccomp", "execve")
KEYS = "1 md5 first-secret\n"
SYSCALL = re.compile(r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\(")


def traced_calls(log_path):
    """Names of the system calls in an strace -o log."""
    names = []
    with open(log_path) as f:
        for line in f:
            m = SYSCALL.match(line)
            if m:
                names.append(m.group(1))
    return names


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoClockCalls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("strace"):
            raise AssertionError("strace is not installed (scripts/setup-deps installs it)")
        cls.dir = tempfile.TemporaryDirectory(prefix="ntpkit-strace-")
        cls.keys = os.path.join(cls.dir.name, "ntp.keys")
        with open(cls.keys, "w") as f:
            f.write(KEYS)
        os.chmod(cls.keys, 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def trace(self, name, args, binary=NTPPROBE):
        log = os.path.join(self.dir.name, name + ".strace")
        wrapper = ["strace", "-f", "-qq", "-o", log,
                   "-e", "trace=" + ",".join(FORBIDDEN + WITNESSES)]
        # LeakSanitizer cannot run under ptrace: in a sanitizer build, leave leaks to the
        # other tests.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        run = probe(*args, binary=binary, wrapper=wrapper, timeout=60, env=env)
        return run, traced_calls(log)

    def check(self, name, args, rc, binary=NTPPROBE, filtered=True):
        run, calls = self.trace(name, args, binary)
        self.assertEqual(run.rc, rc, run.out + run.err)
        self.assertIn("execve", calls)  # strace saw the program start
        if filtered:
            self.assertIn("seccomp", calls)  # and the filter going in
        self.assertEqual([c for c in calls if c in FORBIDDEN], [])

    def test_every_mode(self):
        with Responder("good") as good, Responder("good", "--key-file", self.keys,
                                                  "--key-id", "1") as keyed, \
                Responder("silent") as silent:
            where = f"127.0.0.1:{good.port}"
            cases = [
                ("text", ["-t", "1", where], 0),
                ("verbose", ["-v", "-t", "1", where], 0),
                ("json", ["-j", "-t", "1", where], 0),
                ("json_lines", ["--json-lines", "-t", "1", where], 0),
                ("samples", ["-n", "3", "-i", "0.1", "--allow-fast", "-t", "1", where], 0),
                ("plugin", ["--nagios", "-w", "1", "-c", "2", "-t", "1", where], 0),
                ("keys", ["-a", "1", "-k", self.keys, "-t", "1", f"127.0.0.1:{keyed.port}"], 0),
                ("timeout", ["-t", "0.3", f"127.0.0.1:{silent.port}"], 1),
                ("broadcast", ["--listen-broadcast", "--listen-address", "127.0.0.1",
                               "-p", str(free_port()), "--listen-duration", "0.3"], 1),
            ]
            for name, args, rc in cases:
                with self.subTest(mode=name):
                    self.check(name, args, rc)
            with self.subTest(mode="check_ntp_time"):
                self.check("check_ntp_time", ["-H", "127.0.0.1", "-p", str(good.port)], 0,
                           binary=CHECK_NTP_TIME)
        # Nothing listens on the responder's old port any more: ICMP port unreachable.
        with self.subTest(mode="unreachable"):
            self.check("unreachable", ["-t", "1", where], 1)
        with self.subTest(mode="usage_error"):
            self.check("usage_error", ["--no-such-option"], 2, filtered=False)

    def test_a_clock_call_would_show(self):
        # The same trace around a program that reads the clock state with adjtimex (modes 0
        # is read-only; glibc makes it clock_adjtime): the parser must find the call, or the
        # test above could not fail.
        adjtimex = ("import ctypes; b = ctypes.create_string_buffer(512); "
                    "ctypes.CDLL(None).adjtimex(b)")
        run, calls = self.trace("witness", ["-c", adjtimex], binary=sys.executable)
        self.assertEqual(run.rc, 0, run.err)
        self.assertNotEqual([c for c in calls if c in FORBIDDEN], [])


if __name__ == "__main__":
    unittest.main()
