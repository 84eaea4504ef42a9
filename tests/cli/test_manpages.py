"""The man pages are clean roff with the sections users look for, and their examples work.

- `mandoc -T lint` reports nothing for any page in man/.
- ntpprobe(1) has EXIT STATUS, EXAMPLES (with jq pipelines, plugin use and a key file) and
  SEE ALSO, and documents the check_ntp_time compatibility mode.
- The two example key files in ntpkit-keys(5) are accepted by ntpprobe as they are printed.
"""

import glob
import os
import re
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "../../build")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "../..")
MAN = os.path.join(SOURCE, "man")


def rendered(page):
    """The page as man(1) would show it, plain text."""
    out = subprocess.run(["mandoc", "-T", "utf8", "-O", "width=200", page], check=True,
                         capture_output=True, text=True).stdout
    # Drop the overstrike that renders bold and underline ("N\bN", "_\bx").
    return re.sub(r".\x08", "", out).replace("\u2010", "-").replace("\u2212", "-")


def section(text, title):
    """The body of a top-level section of rendered text."""
    m = re.search(rf"^{title}\n(.*?)(?=^[A-Z][A-Z _-]+\n|\Z)", text, re.S | re.M)
    return m.group(1) if m else ""


class ManPages(unittest.TestCase):
    def test_every_page_is_lint_clean(self):
        pages = sorted(glob.glob(os.path.join(MAN, "*.[0-9]")))
        self.assertIn(os.path.join(MAN, "ntpprobe.1"), pages)
        self.assertIn(os.path.join(MAN, "ntpkit-keys.5"), pages)
        for page in pages:
            with self.subTest(page=os.path.basename(page)):
                run = subprocess.run(["mandoc", "-T", "lint", "-W", "style", page],
                                     capture_output=True, text=True)
                self.assertEqual((run.returncode, run.stdout + run.stderr), (0, ""))

    def test_ntpprobe_has_the_sections_users_look_for(self):
        text = rendered(os.path.join(MAN, "ntpprobe.1"))
        for title in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES",
                      "SEE ALSO", "CHECK_NTP_TIME COMPATIBILITY", "JSON OUTPUT"):
            self.assertTrue(section(text, title).strip(), f"no {title} section")
        examples = section(text, "EXAMPLES")
        self.assertIn("| jq", examples)
        self.assertIn("--nagios", examples)
        self.assertRegex(examples, r"-a \d+ -k \S+")
        self.assertIn("check_ntp_time -H", examples)
        exit_status = section(text, "EXIT STATUS")
        for code in ("0", "1", "2", "3"):
            self.assertRegex(exit_status, rf"(?m)^\s+{code}\b|{code} WARNING|{code} UNKNOWN|, {code} ")
        self.assertIn("ntpkit-keys(5)", section(text, "SEE ALSO"))

    def test_compatibility_section_names_every_plugin_option(self):
        text = section(rendered(os.path.join(MAN, "ntpprobe.1")), "CHECK_NTP_TIME COMPATIBILITY")
        for option in ("-H", "--hostname", "-p", "--port", "-4", "--use-ipv4", "-6",
                       "--use-ipv6", "-w", "--warning", "-c", "--critical", "-q", "--quiet",
                       "-o", "--time-offset", "-t", "--timeout", "-v", "--verbose", "-V", "-h"):
            self.assertRegex(text, rf"(?<![\w-]){re.escape(option)}(?![\w-])", option)
        self.assertIn("Deliberate differences", text)

    def test_ntpmon_query_has_the_sections_and_the_plugin_options(self):
        text = rendered(os.path.join(MAN, "ntpmon-query.1"))
        for title in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES",
                      "SEE ALSO", "CHECK_NTP_PEER COMPATIBILITY", "JSON OUTPUT",
                      "PROMETHEUS OUTPUT"):
            self.assertTrue(section(text, title).strip(), f"no {title} section")
        compat = section(text, "CHECK_NTP_PEER COMPATIBILITY")
        for option in ("-H", "--hostname", "-p", "--port", "-4", "--use-ipv4", "-6",
                       "--use-ipv6", "-q", "--quiet", "-w", "--warning", "-c", "--critical",
                       "-W", "--swarn", "-C", "--scrit", "-j", "--jwarn", "-k", "--jcrit",
                       "-m", "--twarn", "-n", "--tcrit", "-t", "--timeout", "-v", "-V", "-h"):
            self.assertRegex(compat, rf"(?<![\w-]){re.escape(option)}(?![\w-])", option)
        examples = section(text, "EXAMPLES")
        for needle in ("| jq", "--nagios", "check_ntp_peer -H", "peers"):
            self.assertIn(needle, examples)

    def test_see_also_names_only_pages_that_exist(self):
        """A page named in SEE ALSO is one of man/ or one a Debian package the project uses
        installs (ntpsec's, chrony's as unpacked by scripts/fetch-chrony)."""
        ours = {os.path.basename(p) for p in glob.glob(os.path.join(MAN, "*.[1-8]"))}
        # scripts/test unpacks chrony into SOURCE/build for every build directory it tests.
        system = [os.path.join(root, "usr", "share", "man") for root in
                  ("/", os.path.join(BUILD, "peers", "chrony", "root"),
                   os.path.join(SOURCE, "build", "peers", "chrony", "root"))]
        for page in glob.glob(os.path.join(MAN, "*.[1-8]")):
            with open(page) as f:
                text = f.read()
            see_also = text.split(".SH SEE ALSO", 1)[1]
            for name, sect in re.findall(r"^\.BR ([\w\\.-]+) \((\d)\)", see_also, re.M):
                name = name.replace("\\-", "-")
                with self.subTest(page=os.path.basename(page), names=f"{name}({sect})"):
                    found = f"{name}.{sect}" in ours or any(
                        glob.glob(os.path.join(d, f"man{sect}", f"{name}.{sect}*"))
                        for d in system)
                    self.assertTrue(found, f"no page {name}({sect})")

    def test_example_key_files_are_accepted(self):
        text = rendered(os.path.join(MAN, "ntpkit-keys.5"))
        examples = section(text, "EXAMPLES")
        blocks = re.findall(r"((?:^ {4,}\S.*\n)+)", examples, re.M)
        key_blocks = [b for b in blocks if re.search(r"^\s*(#|\d+\s)", b, re.M)][:2]
        self.assertEqual(len(key_blocks), 2, examples)
        probe = os.path.join(BUILD, "apps", "ntpprobe")
        with tempfile.TemporaryDirectory() as tmp:
            for n, block in enumerate(key_blocks):
                path = os.path.join(tmp, f"example{n}.keys")
                with open(path, "w") as f:
                    f.write("\n".join(line.strip() for line in block.splitlines()) + "\n")
                os.chmod(path, 0o600)
                for key_id in ("1", "2", "3"):
                    # The key file is read before any packet is sent: exit 2 would mean the
                    # example was refused; a dead port then fails the target with exit 1.
                    run = subprocess.run([probe, "-a", key_id, "-k", path, "-t", "0.2",
                                          "127.0.0.1:9"], capture_output=True, text=True)
                    self.assertEqual(run.returncode, 1, run.stderr)
                    self.assertEqual(run.stderr, "")


if __name__ == "__main__":
    unittest.main()
