"""--help, the man page and the shell completions name the same options.

Each option that `ntpprobe --help` lists must appear in man/ntpprobe.1 and in the bash, zsh
and fish completions, and every option those name must exist in --help.
"""

import os
import re
import subprocess
import unittest

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "../../build")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "../..")


def help_options(binary):
    """Long and short options in the option column of --help."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        m = re.match(r"^\s{2}(-\S+)", line)
        if m:
            for name in m.group(1).split(","):
                if name.startswith("-"):
                    found.add(name)
    return found


def man_options(path):
    """Options the man page documents in its OPTIONS section (as \\-x or \\-\\-name)."""
    text = open(path, encoding="utf-8").read()
    section = text.split(".SH OPTIONS", 1)[1].split(".SH ", 1)[0]
    found = set()
    lines = section.splitlines()
    # The tag line of each .TP/.TQ item names the option.
    for prev, line in zip(lines, lines[1:]):
        if not prev.startswith((".TP", ".TQ")):
            continue
        for name in re.findall(r"\\-\\-[a-z0-9][a-z0-9\\-]*|(?<![\\a-z])\\-[a-zA-Z0-9]\b", line):
            found.add(name.replace("\\-", "-"))
    return found


def bash_options(path):
    text = open(path, encoding="utf-8").read()
    words = text.rsplit("compgen -W '", 1)[-1].split("'", 1)[0]
    return set(words.split())


def zsh_options(path):
    found = set()
    for line in open(path, encoding="utf-8"):
        for name in re.findall(r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)(?=[+=\[},'])", line):
            found.add(name)
    return found


def fish_options(path):
    found = set()
    for line in open(path, encoding="utf-8"):
        for short in re.findall(r"\s-s (\S)", line):
            found.add("-" + short)
        for long in re.findall(r"\s-l (\S+)", line):
            found.add("--" + long)
    return found


class DocsAgreeWithHelp(unittest.TestCase):
    def setUp(self):
        self.help = help_options(os.path.join(BUILD, "apps", "ntpprobe"))
        self.assertIn("--nagios", self.help)  # the parser itself must work

    def test_man_page_documents_every_option_and_no_other(self):
        documented = man_options(os.path.join(SOURCE, "man", "ntpprobe.1"))
        self.assertEqual(self.help - documented, set(), "in --help but not in ntpprobe.1")
        self.assertEqual(documented - self.help, set(), "in ntpprobe.1 but not in --help")

    def test_bash_completion_offers_every_option(self):
        offered = bash_options(os.path.join(SOURCE, "completions", "ntpprobe.bash"))
        self.assertEqual(self.help, offered)

    def test_zsh_completion_offers_every_option(self):
        offered = zsh_options(os.path.join(SOURCE, "completions", "_ntpprobe"))
        self.assertEqual(self.help, offered)

    def test_fish_completion_offers_every_option(self):
        offered = fish_options(os.path.join(SOURCE, "completions", "ntpprobe.fish"))
        self.assertEqual(self.help, offered)


def subcommand_options(binary, *subcommands):
    """help_options of `binary SUB --help` for each subcommand, together, and of the program."""
    found = set()
    for sub in subcommands:
        out = subprocess.run([binary, sub, "--help"], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            m = re.match(r"^\s{2}(-\S+)", line)
            if m:
                found.update(n for n in m.group(1).split(",") if n.startswith("-"))
    return found | help_options(binary)


class NtpclientsDocsAgreeWithHelp(unittest.TestCase):
    def setUp(self):
        self.help = subcommand_options(os.path.join(BUILD, "apps", "ntpclients"), "pcap", "live",
                                       "mru")
        self.assertIn("--every", self.help)
        self.assertIn("--nagios", self.help)

    def test_man_page_documents_every_option_and_no_other(self):
        documented = man_options(os.path.join(SOURCE, "man", "ntpclients.1"))
        self.assertEqual(self.help - documented, set(), "in --help but not in ntpclients.1")
        self.assertEqual(documented - self.help, set(), "in ntpclients.1 but not in --help")

    def test_zsh_completion_offers_every_option(self):
        offered = zsh_options(os.path.join(SOURCE, "completions", "_ntpclients"))
        self.assertEqual(self.help, offered)

    def test_fish_completion_offers_every_option(self):
        offered = fish_options(os.path.join(SOURCE, "completions", "ntpclients.fish"))
        self.assertEqual(self.help, offered)


class MonitorDocsAgreeWithHelp(unittest.TestCase):
    """The same for ntpmon-query: --help, man/ntpmon-query.1 and its completions."""

    def setUp(self):
        self.help = help_options(os.path.join(BUILD, "apps", "ntpmon-query"))
        self.assertIn("--nagios", self.help)

    def test_man_page_documents_every_option_and_no_other(self):
        documented = man_options(os.path.join(SOURCE, "man", "ntpmon-query.1"))
        self.assertEqual(self.help - documented, set(), "in --help but not in ntpmon-query.1")
        self.assertEqual(documented - self.help, set(), "in ntpmon-query.1 but not in --help")

    def test_completions_offer_every_option(self):
        self.assertEqual(bash_options(os.path.join(SOURCE, "completions", "ntpmon-query.bash")),
                         self.help)
        self.assertEqual(zsh_options(os.path.join(SOURCE, "completions", "_ntpmon-query")),
                         self.help)
        self.assertEqual(fish_options(os.path.join(SOURCE, "completions", "ntpmon-query.fish")),
                         self.help)


if __name__ == "__main__":
    unittest.main()
