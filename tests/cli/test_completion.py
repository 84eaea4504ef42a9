"""The bash completion works under Debian's bash-completion: options complete, option
values that are files complete file names, and fixed choices complete to their values.

Each case runs a fresh `bash` that sources bash-completion and completions/ntpprobe.bash,
fills COMP_WORDS/COMP_CWORD as readline would, calls the completion function and prints
COMPREPLY.
"""

import os
import shlex
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "../..")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
SCRIPT = os.path.join(SOURCE, "completions", "ntpprobe.bash")


def complete(words, cwd, script=SCRIPT, function="_ntpprobe"):
    """COMPREPLY for the command line `words`, completing its last word."""
    line = " ".join(words)
    program = "\n".join([
        f"source {shlex.quote(BASH_COMPLETION)}",
        f"source {shlex.quote(script)}",
        "COMP_WORDS=(" + " ".join(shlex.quote(w) for w in words) + ")",
        f"COMP_CWORD={len(words) - 1}",
        f"COMP_LINE={shlex.quote(line)}",
        "COMP_POINT=${#COMP_LINE}",
        f"{function} {words[0]} "
        + shlex.quote(words[-1]) + " " + shlex.quote(words[-2] if len(words) > 1 else ""),
        "printf '%s\\n' \"${COMPREPLY[@]}\"",
    ])
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], cwd=cwd,
                         capture_output=True, text=True, timeout=20, check=True).stdout
    return sorted(line for line in out.splitlines() if line)


class BashCompletion(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(BASH_COMPLETION), "Debian's bash-completion is missing")
        self.dir = tempfile.TemporaryDirectory()
        for name in ("ntp.keys", "ntp.conf", "servers.txt"):
            open(os.path.join(self.dir.name, name), "w").close()
        os.mkdir(os.path.join(self.dir.name, "ntpdir"))

    def tearDown(self):
        self.dir.cleanup()

    def test_long_options_complete_from_a_prefix(self):
        self.assertEqual(complete(["ntpprobe", "--inter"], self.dir.name),
                         ["--interleaved", "--interval"])
        self.assertEqual(complete(["ntpprobe", "--warn-r"], self.dir.name),
                         ["--warn-root-distance"])

    def test_a_lone_dash_offers_every_option(self):
        offered = complete(["ntpprobe", "-"], self.dir.name)
        for option in ("-k", "--keyfile", "--nagios", "--json", "-4", "-6", "--prometheus"):
            self.assertIn(option, offered)

    def test_keyfile_completes_file_names(self):
        self.assertEqual(complete(["ntpprobe", "-k", "ntp."], self.dir.name),
                         ["ntp.conf", "ntp.keys"])
        self.assertEqual(complete(["ntpprobe", "--keyfile", "ntpd"], self.dir.name), ["ntpdir"])

    def test_server_file_completes_file_names(self):
        self.assertEqual(complete(["ntpprobe", "-f", "serv"], self.dir.name), ["servers.txt"])

    def test_choices_complete_to_their_values(self):
        self.assertEqual(complete(["ntpprobe", "--mac-length", ""], self.dir.name), ["20", "full"])
        self.assertEqual(complete(["ntpprobe", "--ntp-version", ""], self.dir.name),
                         ["1", "2", "3", "4"])

    def test_numeric_options_offer_nothing(self):
        self.assertEqual(complete(["ntpprobe", "-t", ""], self.dir.name), [])


class MonitorBashCompletion(unittest.TestCase):
    """completions/ntpmon-query.bash: commands after at most one host, options, choices."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        open(os.path.join(self.dir.name, "ntp.keys"), "w").close()

    def tearDown(self):
        self.dir.cleanup()

    def complete(self, words):
        return complete(words, self.dir.name,
                        os.path.join(SOURCE, "completions", "ntpmon-query.bash"), "_ntpmon_query")

    def test_commands_complete_first_and_after_a_host(self):
        self.assertEqual(self.complete(["ntpmon-query", "pe"]), ["pe", "peers", "peervars"])
        self.assertEqual(self.complete(["ntpmon-query", "ntp1", "cl"]), ["clockvars"])
        self.assertEqual(self.complete(["ntpmon-query", "-t", "1", "ntp1", "a"]),
                         ["as", "associations", "authinfo"])
        self.assertEqual(self.complete(["ntpmon-query", "ntp1", "peervars", ""]), ["all"])

    def test_options_and_choices(self):
        self.assertEqual(self.complete(["ntpmon-query", "--stratum-"]),
                         ["--stratum-critical", "--stratum-warning"])
        self.assertEqual(self.complete(["ntpmon-query", "--key-format", ""]),
                         ["auto", "chrony", "ntp"])
        self.assertEqual(self.complete(["ntpmon-query", "-k", "ntp."]), ["ntp.keys"])


if __name__ == "__main__":
    unittest.main()


CLIENTS_SCRIPT = os.path.join(SOURCE, "completions", "ntpclients.bash")
BUILD = os.environ.get("NTPKIT_BUILD_DIR", "../../build")


def complete_clients(words, cwd):
    """COMPREPLY of completions/ntpclients.bash for `words`."""
    return complete(words, cwd, CLIENTS_SCRIPT, "_ntpclients")


class NtpclientsCompletion(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        for name in ("day.pcap", "day.pcapng", "old.pcap.gz", "notes.txt"):
            open(os.path.join(self.dir.name, name), "w").close()

    def tearDown(self):
        self.dir.cleanup()

    def test_subcommands_first(self):
        self.assertEqual(complete_clients(["ntpclients", ""], self.dir.name),
                         ["live", "mru", "pcap"])
        self.assertEqual(complete_clients(["ntpclients", "l"], self.dir.name), ["live"])

    def test_pcap_completes_capture_files(self):
        self.assertEqual(complete_clients(["ntpclients", "pcap", "d"], self.dir.name),
                         ["day.pcap", "day.pcapng"])
        self.assertEqual(complete_clients(["ntpclients", "pcap", "o"], self.dir.name),
                         ["old.pcap.gz"])

    def test_choices_and_live_options(self):
        self.assertEqual(complete_clients(["ntpclients", "pcap", "--response-figure", ""],
                                          self.dir.name), ["max", "median", "p90", "p99"])
        self.assertIn("lo", complete_clients(["ntpclients", "live", "-i", ""], self.dir.name))
        self.assertEqual(complete_clients(["ntpclients", "live", "--ev"], self.dir.name),
                         ["--every"])
        self.assertEqual(complete_clients(["ntpclients", "pcap", "--ev"], self.dir.name), [])
        self.assertEqual(complete_clients(["ntpclients", "mru", "--max-r"], self.dir.name),
                         ["--max-restarts"])
        self.assertEqual(complete_clients(["ntpclients", "mru", "--slow"], self.dir.name), [])

    def test_every_option_of_the_help_is_offered(self):
        import re
        for sub in ("pcap", "live", "mru"):
            with self.subTest(sub=sub):
                help_text = subprocess.run([os.path.join(BUILD, "apps", "ntpclients"), sub,
                                            "--help"], capture_output=True, text=True,
                                           timeout=10, check=True).stdout
                options = set()
                for line in help_text.splitlines():  # the option column: "  -j, --json"
                    m = re.match(r"^ +(-[\w-]+(?:, *--[\w-]+)?)", line)
                    if m:
                        options.update(o.strip() for o in m.group(1).split(","))
                offered = set(complete_clients(["ntpclients", sub, "-"], self.dir.name))
                self.assertEqual(options - offered, set())
