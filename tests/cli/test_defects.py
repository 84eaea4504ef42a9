"""The ntpprobe defects a new user found (issue 17), each pinned by the exact exit code and the
words of the message, against servers whose answers are known: ntp_responder.py (a correct
server with a chosen clock offset) and ntpkit-hostile (wrong answers on purpose), on the host's
loopback. Each case failed before its fix.
"""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from hostile_support import CHECK_NTP_TIME, NTPPROBE, CRITICAL, OK, UNKNOWN, WARNING, Responder
import ntp_responder

TIMEOUT = "0.5"


def run(args, binary=NTPPROBE, **kw):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, **kw)


def silent_port():
    """A bound socket that never answers (a timeout, no ICMP), kept open by the caller."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


class WriteErrors(unittest.TestCase):
    """1. A write that fails is an error in every output mode, never a silent exit 0."""

    def test_a_full_disk_or_a_closed_stdout_is_exit_2_or_3_with_the_reason(self):
        with ntp_responder.Responder() as r:
            server = f"127.0.0.1:{r.port}"
            for mode, rc in (([], 2), (["-j"], 2), (["--json-lines"], 2), (["--prometheus"], 2),
                             (["-v"], 2), (["--nagios"], UNKNOWN)):
                with self.subTest(mode=mode), open("/dev/full", "w") as full:
                    p = subprocess.run([NTPPROBE, *mode, server], stdout=full,
                                       stderr=subprocess.PIPE, text=True, timeout=30)
                    self.assertEqual(p.returncode, rc, p.stderr)
                    self.assertEqual(p.stderr, "ntpprobe: write error: No space left on device\n")
                with self.subTest(mode=mode, stdout="closed"):
                    p = subprocess.run([NTPPROBE, *mode, server], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True, timeout=30,
                                       preexec_fn=lambda: os.close(1))
                    self.assertEqual(p.returncode, rc, p.stderr)
                    self.assertEqual(p.stderr, "ntpprobe: write error: Bad file descriptor\n")
            with open("/dev/full", "w") as full:
                p = subprocess.run([CHECK_NTP_TIME, "-H", "127.0.0.1", "-p", str(r.port)],
                                   stdout=full, stderr=subprocess.PIPE, text=True, timeout=30)
            self.assertEqual(p.returncode, UNKNOWN)
            self.assertEqual(p.stderr,
                             "check_ntp_time: write error: No space left on device\n")

    def test_the_readme_prometheus_recipe_keeps_the_old_file_when_the_write_fails(self):
        with ntp_responder.Responder() as r, tempfile.TemporaryDirectory() as d:
            prom = os.path.join(d, "ntp.prom")
            with open(prom, "w") as f:
                f.write("old\n")
            script = (f"{NTPPROBE} --prometheus 127.0.0.1:{r.port} > /dev/full; "
                      f"[ $? -le 1 ] && mv /dev/null {prom}; exit 0")
            subprocess.run(["sh", "-c", script], check=True, capture_output=True, timeout=30)
            with open(prom) as f:
                self.assertEqual(f.read(), "old\n")


class TimeOffset(unittest.TestCase):
    """3. --time-offset adds to the measured offset: a server 0.25 s ahead needs -0.25."""

    def test_the_help_gives_the_sign_and_the_arithmetic_holds(self):
        help_text = " ".join(run(["--help"]).stdout.split())
        self.assertIn("give minus the offset a server is known to have", help_text)
        self.assertIn("-0.25 for one known to be 0.25 s ahead", help_text)
        with ntp_responder.Responder(offset=0.25) as r:
            server = f"127.0.0.1:{r.port}"
            right = run(["--nagios", "-w", "0.05", "--time-offset", "-0.25", server])
            self.assertEqual(right.returncode, OK, right.stdout)
            time.sleep(2.1)  # the 2 s guard between requests to one address, across runs too
            wrong = run(["--nagios", "-w", "0.05", "-c", "0.4", "--time-offset", "0.25", server])
            self.assertEqual(wrong.returncode, CRITICAL, wrong.stdout)
            self.assertRegex(wrong.stdout, r"; \|offset\| 0\.(49|50)\d+ outside critical range 0\.4\|")


class ServerLists(unittest.TestCase):
    """6. -f: FILE:LINE for a bad line (skipped with a warning, reported as a failed target), a
    UTF-8 BOM, directories, empty and oversized lists, repeats, several -f."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.silent = silent_port()
        self.dead = f"127.0.0.1:{self.silent.getsockname()[1]}"

    def tearDown(self):
        self.silent.close()
        self.dir.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_a_bad_line_is_named_skipped_and_reported_as_a_failed_target(self):
        path = self.write("servers.txt",
                          f"\ufeff{self.dead}\nbad host:1\n{self.dead}  # again\n".encode())
        p = run(["-j", "-t", TIMEOUT, "-f", path])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"ntpprobe: warning: {path}:2: bad server 'bad host:1': ", p.stderr)
        self.assertIn("reported as a failed target", p.stderr)
        self.assertIn(f"ntpprobe: warning: {path}:3: '{self.dead}' is also on {path}:1; "
                      "queried once", p.stderr)
        doc = json.loads(p.stdout)
        # The BOM is gone from the first line; the repeat is merged; the bad line is a target.
        self.assertEqual([t["target"] for t in doc["targets"]], [self.dead, "bad host:1"])
        bad = doc["targets"][1]
        self.assertEqual(bad["error"]["kind"], "usage")
        self.assertTrue(bad["error"]["message"].startswith(f"{path}:2: not a server"),
                        bad["error"])
        self.assertEqual(doc["targets"][0]["addresses"][0]["requests"], 1)

    def test_a_bad_server_on_the_command_line_stops_the_run(self):
        p = run(["bad host:1"])
        self.assertEqual((p.returncode, p.stdout), (2, ""))
        self.assertEqual(p.stderr, "ntpprobe: bad server 'bad host:1': not a host, host:port "
                                   "or [address]:port\n")

    def test_directory_empty_missing_oversized_and_several_files(self):
        cases = [
            (self.dir.name, f"ntpprobe: server file {self.dir.name} is a directory\n"),
            (self.write("empty.txt", b"# nothing\n\n"),
             f"ntpprobe: server file {self.dir.name}/empty.txt lists no server\n"),
            (os.path.join(self.dir.name, "missing.txt"),
             f"ntpprobe: cannot read server file {self.dir.name}/missing.txt: "
             "No such file or directory\n"),
        ]
        for path, message in cases:
            with self.subTest(path=path):
                p = run(["-f", path])
                self.assertEqual((p.returncode, p.stdout, p.stderr), (2, "", message))
        big = self.write("big.txt", b"127.0.0.1:9\n" * (1_000_000 + 1))
        p = run(["-f", big])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, f"ntpprobe: server file {big} lists more than 1000000 "
                                   "servers\n")
        one = self.write("one.txt", f"{self.dead}\n".encode())
        two = self.write("two.txt", b"127.0.0.1:9\n")
        p = run(["-j", "-t", TIMEOUT, "-f", one, "-f", two])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual([t["target"] for t in json.loads(p.stdout)["targets"]],
                         [self.dead, "127.0.0.1:9"])


class OutsideText(unittest.TestCase):
    """7. Bytes from arguments and list files reach the terminal only as \\xNN."""

    def test_control_characters_are_escaped_in_every_message(self):
        evil = "a\x1b]0;owned\x07b:1"
        p = run([evil])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "ntpprobe: bad server 'a\\x1b]0;owned\\x07b:1': not a host, "
                                   "host:port or [address]:port\n")
        with tempfile.NamedTemporaryFile("wb", suffix=".txt") as f:
            f.write(evil.encode() + b"\n\x9b31m:1\n")
            f.flush()
            p = run(["-f", f.name])
        self.assertEqual(p.returncode, 1)
        for text in (p.stdout, p.stderr):
            self.assertNotIn("\x1b", text)
            self.assertNotIn("\x07", text)
            self.assertNotIn("\x9b", text.encode("utf-8", "surrogateescape").decode("latin-1"))
        self.assertIn("\\x1b]0;owned\\x07b:1", p.stdout)
        self.assertIn("\\x9b31m:1", p.stdout + p.stderr)
        p = run(["--nagios", "-w", "\x1b[31m"])
        self.assertEqual(p.returncode, UNKNOWN)
        self.assertIn("'\\x1b[31m' is not a range", p.stdout)


class PluginOutput(unittest.TestCase):
    """8. Unique labels, the worst figures of an all-OK name, garbage means down, jitter with
    one sample refused."""

    def test_a_server_that_answers_only_garbage_is_down_in_both_front_ends(self):
        # One rule: datagrams that are not valid answers count as no answer. ntpprobe's plugin
        # mode says UNKNOWN for no answer (CRITICAL with --no-reply-critical), check_ntp_time
        # says CRITICAL "No response from NTP server", as the monitoring plugin does.
        for scenario in ("wrong_origin", "other_port", "truncated", "mode_3"):
            with self.subTest(scenario=scenario), Responder(scenario) as r:
                server = f"127.0.0.1:{r.port}"
                p = run(["--nagios", "-t", TIMEOUT, server])
                self.assertEqual(p.returncode, UNKNOWN, p.stdout)
                self.assertIn("no reply within 0.5 s (ignored: ", p.stdout)
                p = run(["--nagios", "--no-reply-critical", "-t", TIMEOUT, server])
                self.assertEqual(p.returncode, CRITICAL, p.stdout)
                p = run(["-H", "127.0.0.1", "-p", str(r.port), "-t", "2"], binary=CHECK_NTP_TIME)
                self.assertEqual((p.returncode, p.stdout),
                                 (CRITICAL, "NTP CRITICAL: No response from NTP server\n"))

    def test_all_ok_shows_the_worst_figures_and_labels_are_unique(self):
        with ntp_responder.Responder(offset=0.002) as a, ntp_responder.Responder(offset=-0.004) as b:
            p = run(["--nagios", "-w", "0.1", f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"])
        self.assertEqual(p.returncode, OK, p.stdout)
        status, perfdata = p.stdout.split("|")
        self.assertTrue(status.startswith(f"NTP OK: 2 of 2 servers OK; worst 127.0.0.1:{b.port} "
                                          "offset -0.004"), status)
        labels = re.findall(r"'([^']*)'=", perfdata)
        self.assertEqual(len(labels), 12)
        self.assertEqual(len(labels), len(set(labels)))
        self.assertIn(f"127.0.0.1:{a.port} offset", labels)

    def test_a_jitter_threshold_with_one_sample_is_refused(self):
        p = run(["--nagios", "--warn-jitter", "0.01", "127.0.0.1"])
        self.assertEqual(p.returncode, UNKNOWN)
        self.assertIn("--warn-jitter/--crit-jitter need -n 2 or more", p.stdout)


class Interruption(unittest.TestCase):
    """9. SIGINT/SIGTERM: what finished is written, the rest is marked interrupted."""

    def start(self, args):
        p = subprocess.Popen([NTPPROBE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(0.5)
        return p

    def test_finished_targets_are_written_and_the_rest_marked(self):
        silent = silent_port()
        dead = f"127.0.0.1:{silent.getsockname()[1]}"
        try:
            with ntp_responder.Responder() as r:
                good = f"127.0.0.1:{r.port}"
                for sig, rc in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
                    with self.subTest(signal=sig):
                        p = self.start(["-t", "10", dead, good])
                        p.send_signal(sig)
                        out, err = p.communicate(timeout=10)
                        self.assertEqual(p.returncode, rc, err)
                        lines = out.splitlines()
                        self.assertEqual(len(lines), 2, out)
                        self.assertEqual(lines[0],
                                         f"{dead}  error interrupted: interrupted before it "
                                         "finished")
                        self.assertIn(f"  {good}  offset ", lines[1])
                    time.sleep(2.1)  # the responder is asked once per run; keep 2 s apart
                p = self.start(["-j", "-t", "10", dead, good])
                p.send_signal(signal.SIGTERM)
                out, _ = p.communicate(timeout=10)
                self.assertEqual(p.returncode, 143)
                doc = json.loads(out)
                self.assertEqual(doc["targets"][0]["error"]["kind"], "interrupted")
                self.assertTrue(doc["targets"][1]["ok"])
                time.sleep(2.1)
                p = self.start(["--nagios", "-t", "10", dead, good])
                p.send_signal(signal.SIGINT)
                out, _ = p.communicate(timeout=10)
                self.assertEqual(p.returncode, UNKNOWN)
                self.assertTrue(out.startswith("NTP UNKNOWN: interrupted by SIGINT; 1 of 2 "
                                               "servers OK"), out)
        finally:
            silent.close()


class Messages(unittest.TestCase):
    """10. Words that say what happened."""

    def test_numbers_ranges_and_kisses_are_named_rightly(self):
        for args, message in ((["-n", "abc", "127.0.0.1"], "'abc' is not a whole number"),
                              (["-n", "0", "127.0.0.1"], "0 is not from 1 to 1000"),
                              (["-t", "abc", "127.0.0.1"], "'abc' is not a number of seconds"),
                              (["--listen-address", "127.0.0.1", "127.0.0.1"],
                               "--listen-address needs --listen-broadcast"),
                              (["--listen-broadcast", "-t", "5"],
                               "with --listen-broadcast use --listen-duration")):
            with self.subTest(args=args):
                p = run(args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(message, p.stderr)
        with Responder("kiss_rate") as r:
            p = run([f"127.0.0.1:{r.port}"])
        self.assertIn("kiss-o'-death RATE (rate exceeded: the client must send less often)",
                      p.stdout)
        with ntp_responder.Responder() as r:
            p = run(["--nagios", "--crit-stratum", "@1:4", f"127.0.0.1:{r.port}"])
        self.assertEqual(p.returncode, CRITICAL)
        self.assertIn("stratum 2 inside critical range @1:4", p.stdout)

    def test_an_ipv6_address_with_a_port_without_brackets_gets_a_hint(self):
        p = run(["-t", "0.2", "::1:9"])
        self.assertIn("ntpprobe: warning: the command line: '::1:9' is an IPv6 address without "
                      "a port (for ::1 port 9 write [::1]:9)", p.stderr)

    def test_an_unknown_key_names_a_few_ids_not_all(self):
        with tempfile.NamedTemporaryFile("w", suffix=".keys") as f:
            for i in range(1, 60001):
                f.write(f"{i} MD5 k{i}\n")
            f.flush()
            os.chmod(f.name, 0o600)
            p = run(["-a", "60001", "-k", f.name, "127.0.0.1"])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, f"ntpprobe: {f.name} (ntp.keys) has no key 60001 (it has "
                                   "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 59990 more)\n")

    def test_help_fits_80_columns_and_ends_with_exit_statuses_and_examples(self):
        help_text = run(["--help"]).stdout
        self.assertFalse([line for line in help_text.splitlines() if len(line) > 80])
        self.assertNotIn("Excludes", help_text)
        self.assertNotIn("At Most", help_text)
        self.assertIn("\nExit status: 0 every address answered", help_text)
        self.assertIn("\nExamples:\n  ntpprobe pool.ntp.org", help_text)


class Docs(unittest.TestCase):
    """11. What the docs say is what the program does."""

    def test_check_ntp_time_refuses_a_word_getopt_left_over(self):
        p = run(["-H", "127.0.0.1", "--time-offset", "10"], binary=CHECK_NTP_TIME)
        self.assertEqual(p.returncode, UNKNOWN)
        self.assertIn("unexpected argument '10' (an optional value goes after '=', as in "
                      "--time-offset=10)", p.stdout)

    def test_a_key_file_over_1_mib_is_refused_as_the_docs_say(self):
        with tempfile.NamedTemporaryFile("w", suffix=".keys") as f:
            f.write("#" * (1 << 20) + "\n1 MD5 secret\n")
            f.flush()
            os.chmod(f.name, 0o600)
            p = run(["-a", "1", "-k", f.name, "127.0.0.1"])
        self.assertEqual((p.returncode, p.stderr),
                         (2, f"ntpprobe: key file {f.name} is larger than 1 MiB\n"))
        source = os.environ.get("NTPKIT_SOURCE_DIR", "../..")
        for page in ("ntpprobe.1", "ntpkit-keys.5"):
            with open(os.path.join(source, "man", page)) as m:
                self.assertIn("1 MiB", m.read(), page)


if __name__ == "__main__":
    unittest.main()
