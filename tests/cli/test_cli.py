"""ntpprobe's command line: usage errors, --help/--version, and failing targets beside good ones.

Traffic stays on the host's loopback, to an in-test NTP responder (ntp_responder.py) whose
answers are known, a UDP socket that never reads (no answer, no ICMP: a timeout) and a port
nothing listens on (ICMP port unreachable). The unresolvable name is tried inside a network
namespace of its own, so that the resolver's DNS query cannot leave the machine.
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import ntp_responder  # noqa: E402
import peers  # noqa: E402
import probe  # noqa: E402

# Every option ntpprobe has; --help must list exactly these.
OPTIONS = {"-h", "--help", "-V", "--version", "-f", "--file", "-4", "--ipv4", "-6", "--ipv6",
           "-p", "--port", "-t", "--timeout", "-r", "--retries", "-n", "--samples", "-i",
           "--interval", "--allow-fast", "--ntp-version", "--concurrency", "-j", "--json",
           "--json-lines", "-v", "--verbose", "--listen-broadcast", "--listen-address",
           "--listen-duration", "--broadcast-delay", "--nagios", "-w", "--warning", "-c", "--critical",
           "--warn-stratum", "--crit-stratum", "--warn-delay", "--crit-delay", "--warn-jitter",
           "--crit-jitter", "--warn-root-distance", "--crit-root-distance", "--warn-processing",
           "--crit-processing", "--expect-refid", "--leap-ok", "--no-reply-critical", "--min-ok",
           "-a", "--key", "-k", "--keyfile", "--key-format", "--mac-length", "-x", "--interleaved",
           "--prometheus", "--time-offset", "--upstream"}
TIMEOUT = 0.5
# A run whose every target fails within --timeout 0.5 must end well before this.
TIMEOUT_BOUND = 1.5
RESPONDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ntp_responder.py")


def project_version():
    """The version in CMakeLists.txt's project() call."""
    with open(os.path.join(peers.source_dir(), "CMakeLists.txt")) as f:
        return re.search(r"project\(ntpkit\s+VERSION\s+(\S+)", f.read()).group(1)


def free_udp_port(host):
    """A UDP port on host that nothing listens on (bound once, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def where(host, port):
    """A target as ntpprobe takes and prints it: 127.0.0.1:123 or [::1]:123."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def timed_probe(args, runner=peers.run):
    """Runs ntpprobe ARGS; (CompletedProcess, seconds it took)."""
    start = time.monotonic()
    result = probe.run_probe(args, runner, timeout=10)
    return result, time.monotonic() - start


class UsageErrorTest(unittest.TestCase):
    """A malformed command line exits 2 with one line on stderr naming the problem."""

    CASES = [
        (["--bogus", "127.0.0.1"], "--bogus"),
        (["-t", "abc", "127.0.0.1"], "abc"),
        (["-t", "0", "127.0.0.1"], "--timeout"),
        (["-t", "-1", "127.0.0.1"], "--timeout"),
        (["-p", "70000", "127.0.0.1"], "70000"),
        (["-4", "-6", "127.0.0.1"], "--ipv6"),
        (["[::1"], "[::1"),
        (["127.0.0.1:0"], "127.0.0.1:0"),
        (["--interval", "1", "127.0.0.1"], "--allow-fast"),
        (["-n", "0", "127.0.0.1"], "--samples"),
        (["-r", "11", "127.0.0.1"], "--retries"),
        (["--ntp-version", "5", "127.0.0.1"], "--ntp-version"),
        ([], "server"),
    ]

    def assert_usage_error(self, args, names):
        """Exit 2, nothing on stdout, one `ntpprobe: ...` line on stderr containing names."""
        result = probe.run_probe(args, timeout=10)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("ntpprobe: "), lines[0])
        self.assertIn(names, lines[0])

    def test_each_malformed_command_line(self):
        """Each case, in text and in JSON mode (a usage error prints no JSON)."""
        for args, names in self.CASES:
            for mode in ([], ["-j"]):
                with self.subTest(args=mode + args):
                    self.assert_usage_error(mode + args, names)

    def test_a_bad_target_stops_the_run_before_anything_is_sent(self):
        """`GOOD [::1` is a usage error; GOOD never sees a request."""
        with ntp_responder.Responder() as responder:
            self.assert_usage_error([where("127.0.0.1", responder.port), "[::1"], "[::1")
            time.sleep(0.1)
            self.assertEqual(responder.requests, 0)


def libcrypto_path():
    """The libcrypto.so.3 the dynamic loader would find, or None."""
    listing = peers.run(["ldconfig", "-p"]).stdout
    found = re.search(r"^\s*libcrypto\.so\.3 \(.*\) => (\S+)$", listing, re.M)
    return found.group(1) if found else None


class MissingCryptoLibraryTest(unittest.TestCase):
    """libcrypto is loaded when a key is first used (dlopen, lib/proto/crypto.hpp): without it,
    -a/-k is one clear line, not a failure per request nor a crash, and a query without a key
    still works. The library is hidden by mounting /dev/null over it in a mount namespace of
    the test's own (root only)."""

    def setUp(self):
        self.library = libcrypto_path()
        if os.geteuid() != 0 or self.library is None:
            self.skipTest("needs root and libcrypto.so.3 in the loader's cache")
        if peers.run(["unshare", "--mount", "true"]).returncode != 0:
            self.skipTest("cannot make a mount namespace")

    def without_libcrypto(self, cmd, timeout=10):
        """Runs cmd with libcrypto.so.3 unreadable as a library (an empty file)."""
        script = 'mount --bind /dev/null "$0" && exec "$@"'
        return peers.run(["unshare", "--mount", "sh", "-c", script, self.library] + cmd,
                         timeout=timeout)

    def test_a_key_without_libcrypto_is_one_line(self):
        with contextlib.ExitStack() as stack:
            directory = stack.enter_context(tempfile.TemporaryDirectory())
            keys = os.path.join(directory, "ntp.keys")
            with open(keys, "w") as f:
                f.write("1 SHA1 HEX:0123456789abcdef0123456789abcdef01234567\n")
            os.chmod(keys, 0o600)
            responder = stack.enter_context(ntp_responder.Responder())
            target = where("127.0.0.1", responder.port)
            result = self.without_libcrypto(
                [peers.binary("ntpprobe"), "-t", str(TIMEOUT), "-a", "1", "-k", keys, target])
            self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
            self.assertEqual(result.stdout, "")
            lines = result.stderr.splitlines()
            self.assertEqual(len(lines), 1, result.stderr)
            self.assertRegex(lines[0], r"^ntpprobe: cannot use key 1: the crypto library is "
                                       r"missing \(.*libcrypto\.so\.3.*\)$")
            self.assertEqual(responder.requests, 0)
            # Without a key, libcrypto is never needed.
            result = self.without_libcrypto([peers.binary("ntpprobe"), "-t", "2", target])
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class HelpAndVersionTest(unittest.TestCase):
    """--help lists every option; -V prints the project's version."""

    def help_options(self, text):
        """The option names on the option lines of --help."""
        names = set()
        for line in text.splitlines():
            if line.startswith("  -"):
                names.update(line.split()[0].split(","))
        return names

    def test_help_lists_every_option(self):
        for flag in ("--help", "-h"):
            with self.subTest(flag=flag):
                result = probe.run_probe([flag], timeout=10)
                self.assertEqual(result.returncode, 0)
                self.assertEqual(result.stderr, "")
                self.assertEqual(self.help_options(result.stdout), OPTIONS)
                self.assertIn("Usage: ntpprobe", result.stdout)
                self.assertIn("HOST[:PORT]", result.stdout)

    def test_version(self):
        for flag in ("-V", "--version"):
            with self.subTest(flag=flag):
                result = probe.run_probe([flag], timeout=10)
                self.assertEqual(result.returncode, 0)
                self.assertEqual(result.stdout, f"ntpprobe {project_version()}\n")
                self.assertEqual(result.stderr, "")


class FailingTargetsTest(unittest.TestCase):
    """Unreachable and silent targets fail alone, quickly; good ones are still reported."""

    def setUp(self):
        stack = contextlib.ExitStack()
        self.addCleanup(stack.close)
        self.good = stack.enter_context(ntp_responder.Responder("127.0.0.1"))
        self.good6 = stack.enter_context(ntp_responder.Responder("::1"))
        self.silent = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        self.silent.setsockopt(socket.SOL_SOCKET, ntp_responder.SO_TIMESTAMPNS, 1)
        self.silent.bind(("127.0.0.1", 0))
        self.targets = {
            "good": where("127.0.0.1", self.good.port),
            "unreachable": where("127.0.0.1", free_udp_port("127.0.0.1")),
            "silent": where("127.0.0.1", self.silent.getsockname()[1]),
            "unreachable6": where("::1", free_udp_port("::1")),
            "good6": where("::1", self.good6.port),
        }

    def silent_received(self):
        """Kernel arrival times (s) of the datagrams that reached the silent socket, read only
        now, after the run (SO_TIMESTAMPNS was set before it)."""
        times = []
        with contextlib.suppress(BlockingIOError):
            while True:
                _, ancillary, _, _ = self.silent.recvmsg(2048, 64, socket.MSG_DONTWAIT)
                times.append(ntp_responder.kernel_time(ancillary))
        return times

    def test_text_one_line_per_failed_target_others_reported(self):
        names = ["good", "unreachable", "silent", "unreachable6", "good6"]
        result, took = timed_probe(["-t", str(TIMEOUT)] + [self.targets[n] for n in names])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertLess(took, TIMEOUT_BOUND)
        self.assertEqual(result.stderr, "")
        lines = probe.parse_summary(result.stdout)
        self.assertEqual([line["where"] for line in lines], [self.targets[n] for n in names])
        kinds = [line.get("kind") for line in lines]
        self.assertEqual(kinds, [None, "unreachable", "timeout", "unreachable", None])
        self.assertIn(f"no reply within {TIMEOUT:g} s", lines[2]["message"])
        self.assertIn("port unreachable", lines[1]["message"])
        for line in (lines[0], lines[4]):
            self.assertEqual(line["stratum"], str(ntp_responder.STRATUM))
            self.assertEqual(line["refid"], "192.0.2.1")
            self.assertEqual(line["leap"], "none")
        self.assertEqual((self.good.requests, self.good6.requests, len(self.silent_received())),
                         (1, 1, 1))

    def test_json_error_objects_others_reported(self):
        names = ["unreachable", "good", "silent", "good6", "unreachable6"]
        result, took = timed_probe(["-j", "-t", str(TIMEOUT)] + [self.targets[n] for n in names])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertLess(took, TIMEOUT_BOUND)
        self.assertEqual(result.stderr, "")
        doc = json.loads(result.stdout)
        self.assertIsInstance(doc["schema"], int)
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["summary"], {"targets": 5, "targets_ok": 2, "targets_failed": 3,
                                          "addresses": 5, "addresses_ok": 2,
                                          "addresses_failed": 3})
        self.assertEqual([t["target"] for t in doc["targets"]], [self.targets[n] for n in names])
        for name, target in zip(names, doc["targets"]):
            with self.subTest(target=name):
                self.assertIsNone(target["error"])
                (a,) = target["addresses"]
                if name.startswith("good"):
                    self.assertTrue(target["ok"])
                    self.assert_responder_fields(a)
                else:
                    self.assertFalse(target["ok"])
                    self.assertFalse(a["ok"])
                    kind = "timeout" if name == "silent" else "unreachable"
                    self.assertEqual(a["error"]["kind"], kind)
                    self.assertTrue(a["error"]["message"])
                    self.assertEqual((a["requests"], a["replies"], a["samples"]), (1, 0, []))
                    self.assertIsNone(a["offset"])
                    self.assertIsNone(a["server"])

    def test_json_lines_one_object_per_target(self):
        """--json-lines: one JSON object with a schema per target and line, nothing else."""
        names = ["silent", "good", "unreachable6"]
        result, took = timed_probe(["--json-lines", "-t", str(TIMEOUT)] +
                                   [self.targets[n] for n in names])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertLess(took, TIMEOUT_BOUND)
        self.assertEqual(result.stderr, "")
        objects = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual(len(objects), 3)
        by_target = {o["target"]: o for o in objects}
        self.assertEqual(set(by_target), {self.targets[n] for n in names})
        for o in objects:
            self.assertIsInstance(o["schema"], int)
        self.assertEqual(by_target[self.targets["silent"]]["addresses"][0]["error"]["kind"],
                         "timeout")
        self.assertEqual(by_target[self.targets["unreachable6"]]["addresses"][0]["error"]["kind"],
                         "unreachable")
        self.assert_responder_fields(by_target[self.targets["good"]]["addresses"][0])

    def test_servers_from_stdin_in_order(self):
        """-f -: one server per line, comments and blank lines skipped, reported in order."""
        names = ["unreachable", "good"]
        listing = "# servers\n" + "\n\n".join(f"  {self.targets[n]}  " for n in names) + "\n"
        start = time.monotonic()
        result = peers.run([peers.binary("ntpprobe"), "-t", str(TIMEOUT), "-f", "-"],
                           input=listing, timeout=10)
        self.assertLess(time.monotonic() - start, TIMEOUT_BOUND)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        lines = probe.parse_summary(result.stdout)
        self.assertEqual([line["where"] for line in lines], [self.targets[n] for n in names])
        self.assertEqual([line.get("kind") for line in lines], ["unreachable", None])

    def assert_responder_fields(self, a):
        """An address answered by ntp_responder: the header fields it sent."""
        server = a["server"]
        self.assertEqual(server["stratum"], ntp_responder.STRATUM)
        self.assertEqual(server["precision"], ntp_responder.PRECISION)
        self.assertEqual(server["refid"]["raw"], "0xc0000201")
        self.assertEqual(server["refid"]["text"], "192.0.2.1")
        self.assertEqual(server["root_delay"], ntp_responder.ROOT_DELAY_UNITS / 65536)
        self.assertEqual(server["root_dispersion"], ntp_responder.ROOT_DISPERSION_UNITS / 65536)
        self.assertEqual(server["leap"], 0)
        (sample,) = a["samples"]
        probe.assert_sample_good(self, sample)
        age_ns = probe.ntp_ns(sample["t2"]["ntp"]) - probe.ntp_ns(server["reference_time"]["ntp"])
        self.assertAlmostEqual(age_ns / 1e9, ntp_responder.REFERENCE_AGE, delta=1e-6)

    def test_each_failure_alone_ends_within_the_timeout(self):
        for name, kind in (("unreachable", "unreachable"), ("silent", "timeout"),
                           ("unreachable6", "unreachable")):
            with self.subTest(target=name):
                result, took = timed_probe(["-t", str(TIMEOUT), self.targets[name]])
                self.assertEqual(result.returncode, 1)
                self.assertLess(took, TIMEOUT_BOUND)
                (line,) = probe.parse_summary(result.stdout)
                self.assertEqual(line["kind"], kind)
                self.assertEqual(result.stderr, "")

    def test_retries_are_bounded_and_paced(self):
        """-r 2 against silence: exactly three requests, --interval apart, then a timeout."""
        interval = 0.3
        result, took = timed_probe(["-j", "-t", "0.2", "-r", "2", "-i", str(interval),
                                    "--allow-fast", self.targets["silent"]])
        self.assertEqual(result.returncode, 1)
        self.assertLess(took, 2 * interval + 0.2 + 1.0)
        a = json.loads(result.stdout)["targets"][0]["addresses"][0]
        self.assertEqual(a["error"]["kind"], "timeout")
        self.assertEqual(a["requests"], 3)
        arrivals = self.silent_received()
        self.assertEqual(len(arrivals), 3)
        for earlier, later in zip(arrivals, arrivals[1:]):
            self.assertGreaterEqual(later - earlier, interval - 0.001)


class MeasurementTest(unittest.TestCase):
    """Offset and processing time as the responder made them (a clock shift, a hold)."""

    def test_offset_and_processing_time(self):
        for offset, hold in ((0.25, 0.02), (-3.5, 0.0)):
            with self.subTest(offset=offset, hold=hold), \
                    ntp_responder.Responder("::1", offset=offset, hold=hold) as responder:
                doc, _ = probe.probe_json(self, [where("::1", responder.port)])
                (a,) = doc["targets"][0]["addresses"]
                self.assertGreater(a["delay"], 0)
                self.assertLess(a["delay"], 0.05)
                # The error of an offset is at most half the round-trip delay (RFC 5905 §8);
                # the responder's T3 is read just before it sends.
                self.assertAlmostEqual(a["offset"], offset, delta=a["delay"] / 2 + 1e-4)
                self.assertGreaterEqual(a["processing"], hold)
                self.assertLess(a["processing"], hold + 0.05)


class UnresolvableNameTest(unittest.TestCase):
    """A name that does not resolve fails alone, in a namespace with no way out (no DNS)."""

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.responder = cls.ns.popen([sys.executable, RESPONDER, "--silent"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        stack.callback(cls.stop_responder)
        ports = json.loads(cls.responder.stdout.readline())
        cls.good = where("127.0.0.1", ports["port"])
        cls.silent = where("127.0.0.1", ports["silent_port"])

    @classmethod
    def stop_responder(cls):
        """Closing stdin ends the responder; it is killed by PID if it does not."""
        cls.responder.stdin.close()
        try:
            cls.responder.wait(timeout=5)
        except subprocess.TimeoutExpired:
            cls.responder.kill()
            cls.responder.wait(timeout=5)
        cls.responder.stdout.close()

    def test_text(self):
        targets = ["nosuch.invalid", self.good, self.silent]
        result, took = timed_probe(["-t", str(TIMEOUT)] + targets, self.ns.run)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertLess(took, TIMEOUT_BOUND)
        self.assertEqual(result.stderr, "")
        lines = probe.parse_summary(result.stdout)
        self.assertEqual([line["where"] for line in lines], targets)
        self.assertEqual([line.get("kind") for line in lines], ["resolve", None, "timeout"])
        self.assertIn("does not resolve", lines[0]["message"])
        self.assertEqual(lines[1]["stratum"], str(ntp_responder.STRATUM))

    def test_json(self):
        targets = [self.good, "nosuch.invalid", self.silent]
        result, took = timed_probe(["-j", "-t", str(TIMEOUT)] + targets, self.ns.run)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertLess(took, TIMEOUT_BOUND)
        self.assertEqual(result.stderr, "")
        doc = json.loads(result.stdout)
        self.assertEqual([t["target"] for t in doc["targets"]], targets)
        good, unresolved, silent = doc["targets"]
        self.assertTrue(good["ok"])
        self.assertEqual(good["addresses"][0]["server"]["stratum"], ntp_responder.STRATUM)
        self.assertFalse(unresolved["ok"])
        self.assertEqual(unresolved["error"]["kind"], "resolve")
        self.assertEqual(unresolved["addresses"], [])
        self.assertEqual(silent["addresses"][0]["error"]["kind"], "timeout")
        self.assertEqual(doc["summary"]["addresses_failed"], 1)


if __name__ == "__main__":
    unittest.main()
