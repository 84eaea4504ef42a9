"""`cpack -G DEB` on the build tree: the .deb's control fields, contents, lintian, and the
installed ntpprobe run from a throwaway root (dpkg -x; never installed into the system).

lintian must report no error and no warning except those packaging/deb/lintian-overrides
accepts, each with its reason there. A sanitizer build is not packaged (its programs need
libasan): under NTPKIT_SANITIZE the test is skipped; the normal build's run covers it.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from build_tree import BUILD, SOURCE, cache_value, run


def control_fields(text):
    """dpkg-deb --field output as a dict (continuation lines joined with newlines)."""
    fields, key = {}, None
    for line in text.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line[1:]
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


class DebPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if cache_value("NTPKIT_SANITIZE") in ("ON", "TRUE", "1"):
            raise unittest.SkipTest("a sanitizer build is not packaged")
        cls.tmp = tempfile.mkdtemp(prefix="ntpkit-deb-")
        # -B keeps CPack's staging tree in the temporary directory, not in the build tree.
        run(["cpack", "-G", "DEB", "-B", cls.tmp, "--config",
             os.path.join(BUILD, "CPackConfig.cmake")], cwd=cls.tmp)
        debs = glob.glob(os.path.join(cls.tmp, "*.deb"))
        if len(debs) != 1:
            raise AssertionError(f"expected one .deb, got {debs}")
        cls.deb = debs[0]
        cls.version = run([os.path.join(BUILD, "apps", "ntpprobe"), "--version"]).stdout.split()[-1]
        cls.fields = control_fields(run(["dpkg-deb", "--field", cls.deb]).stdout)
        cls.contents = run(["dpkg-deb", "--contents", cls.deb]).stdout

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "tmp"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_file_name_and_control_fields(self):
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        self.assertEqual(os.path.basename(self.deb), f"ntpkit_{self.version}_{arch}.deb")
        f = self.fields
        self.assertEqual(f["Package"], "ntpkit")
        self.assertEqual(f["Version"], self.version)
        self.assertEqual(f["Architecture"], arch)
        self.assertEqual(f["Section"], "net")
        self.assertEqual(f["Priority"], "optional")
        self.assertRegex(f["Maintainer"], r"^[^<>]+ <[^@<>\s]+@[^@<>\s]+>$")
        synopsis, _, extended = f["Description"].partition("\n")
        self.assertLessEqual(len(synopsis), 80)
        self.assertIn("ntpprobe", extended)
        self.assertIn("never sets", extended)

    def test_depends_are_computed_and_name_no_dev_package(self):
        depends = [d.strip() for d in self.fields["Depends"].split(",")]
        names = {re.split(r"[\s(]", d)[0] for d in depends}
        # What dpkg-shlibdeps finds for ntpprobe and libntpkit (libcrypto is in libssl3).
        self.assertTrue({"libc6", "libstdc++6", "libgcc-s1", "libssl3"} <= names, names)
        self.assertIn("libpcap0.8", names)  # ntpclients reads captures through libpcap
        for d in depends:
            self.assertRegex(d, r"^[a-z0-9.+-]+ \(>= [^)]+\)$")  # versioned, from shlibs
        self.assertFalse([n for n in names if n.endswith("-dev")], names)
        self.assertNotIn("ntpkit", names)  # its own library is inside, not a dependency
        suggests = [s.strip() for s in self.fields["Suggests"].replace("|", ",").split(",")]
        self.assertIn("prometheus-node-exporter", suggests)
        self.assertFalse([s for s in suggests if s.endswith("-dev")], suggests)

    def test_contents_are_the_runtime_files(self):
        paths = {line.split()[5].lstrip(".") for line in self.contents.splitlines()}
        expected = ["/usr/bin/ntpprobe", f"/libntpkit.so.{self.version}", "/libntpkit.so.0",
                    "/usr/lib/ntpkit/plugins/check_ntp_time",
                    "/usr/share/man/man1/ntpprobe.1.gz", "/usr/share/man/man5/ntpkit-keys.5.gz",
                    "/usr/share/bash-completion/completions/ntpprobe",
                    "/usr/share/zsh/vendor-completions/_ntpprobe",
                    "/usr/share/fish/vendor_completions.d/ntpprobe.fish",
                    "/usr/share/icinga2/include/plugins-contrib.d/ntpkit.conf",
                    "/usr/share/ntpkit/nagios/ntpkit.cfg",
                    "/usr/share/ntpkit/ntpprobe.schema.json", "/usr/share/doc/ntpkit/json.md",
                    "/usr/bin/ntpclients", "/usr/share/man/man1/ntpclients.1.gz",
                    "/usr/share/bash-completion/completions/ntpclients",
                    "/usr/share/zsh/vendor-completions/_ntpclients",
                    "/usr/share/fish/vendor_completions.d/ntpclients.fish",
                    "/usr/share/ntpkit/ntpclients.schema.json",
                    "/usr/share/doc/ntpkit/copyright", "/usr/share/doc/ntpkit/changelog.gz",
                    "/usr/share/lintian/overrides/ntpkit",
                    "/usr/bin/ntpmon-query", "/usr/lib/ntpkit/plugins/check_ntp_peer",
                    "/usr/share/man/man1/ntpmon-query.1.gz",
                    "/usr/share/bash-completion/completions/ntpmon-query",
                    "/usr/share/zsh/vendor-completions/_ntpmon-query",
                    "/usr/share/fish/vendor_completions.d/ntpmon-query.fish",
                    "/usr/share/ntpkit/ntpmon-query.schema.json"]
        for e in expected:
            with self.subTest(e):
                self.assertTrue(any(p.endswith(e) for p in paths), e)
        # No development files, no stubs, nothing outside /usr.
        for p in paths:
            with self.subTest(p):
                self.assertTrue(p.startswith("/usr/"), p)
                self.assertFalse(p.startswith("/usr/include/"), p)
                self.assertFalse(p.endswith(("/libntpkit.so", ".pc", ".cmake")), p)
        link = [l for l in self.contents.splitlines() if "check_ntp_time" in l][0]
        self.assertTrue(link.endswith("-> ../../../bin/ntpprobe"), link)
        link = [l for l in self.contents.splitlines() if "check_ntp_peer" in l][0]
        self.assertTrue(link.endswith("-> ../../../bin/ntpmon-query"), link)

    def test_control_archive_has_shlibs_and_ldconfig_trigger(self):
        ctrl = os.path.join(self.tmp, "control")
        run(["dpkg-deb", "--control", self.deb, ctrl])
        with open(os.path.join(ctrl, "shlibs")) as f:
            self.assertEqual(f.read().strip(), f"libntpkit 0 ntpkit (= {self.version})")
        with open(os.path.join(ctrl, "triggers")) as f:
            self.assertEqual(f.read().strip(), "activate-noawait ldconfig")

    def test_lintian_reports_no_error_and_no_unexplained_warning(self):
        # Errors and warnings fail the run; the overrides file accepts some warnings (shown
        # as O: with its reasons by --show-overrides, which cannot be combined with
        # --fail-on: lintian then exits 2).
        r = subprocess.run(["lintian", "--fail-on", "error,warning", "--display-level",
                            ">=info", self.deb], capture_output=True, text=True, timeout=600)
        report = r.stdout + r.stderr
        print(report)  # shown by ctest --output-on-failure or -V
        problems = [l for l in report.splitlines() if re.match(r"^[EW]: ", l)]
        self.assertEqual(problems, [])
        self.assertEqual(r.returncode, 0, report)
        # Every override is still needed: lintian reports unused ones as unused-override.
        self.assertNotIn("unused-override", report)
        self.assertNotIn("mismatched-override", report)
        overridden = subprocess.run(["lintian", "--show-overrides", self.deb],
                                    capture_output=True, text=True, timeout=600).stdout
        print(overridden)
        self.assertIn("O: ntpkit: package-name-doesnt-match-sonames", overridden)

    def test_installed_ntpprobe_runs_from_a_throwaway_root(self):
        root = os.path.join(self.tmp, "root")
        run(["dpkg", "-x", self.deb, root])
        ntpprobe = os.path.join(root, "usr", "bin", "ntpprobe")
        self.assertNotIn("RUNPATH", run(["readelf", "-d", ntpprobe]).stdout)  # none under /usr
        self.assertNotIn("RPATH", run(["readelf", "-d", ntpprobe]).stdout)
        libdirs = sorted({os.path.dirname(p) for p in
                          glob.glob(os.path.join(root, "usr", "lib", "**", "libntpkit.so.0"),
                                    recursive=True)})
        self.assertEqual(len(libdirs), 1, libdirs)
        env = dict(os.environ, LD_LIBRARY_PATH=libdirs[0])
        self.assertEqual(run([ntpprobe, "--version"], env=env).stdout.strip(),
                         f"ntpprobe {self.version}")
        plugin = os.path.join(root, "usr", "lib", "ntpkit", "plugins", "check_ntp_time")
        r = subprocess.run([plugin, "-V"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual((r.returncode, r.stdout.strip()), (3, f"check_ntp_time (ntpkit "
                                                               f"{self.version})"))
        man = run(["man", "-l", "-Tutf8", os.path.join(root, "usr", "share", "man", "man1",
                                                       "ntpprobe.1.gz")],
                  env=dict(env, MANWIDTH="80")).stdout
        self.assertIn("--prometheus", man.replace("\u2010", "-"))
        clients = os.path.join(root, "usr", "bin", "ntpclients")
        self.assertNotIn("RPATH", run(["readelf", "-d", clients]).stdout)
        self.assertEqual(run([clients, "--version"], env=env).stdout.strip(),
                         f"ntpclients {self.version}")


if __name__ == "__main__":
    unittest.main()
