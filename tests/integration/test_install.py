"""`cmake --install` into a temporary prefix, and programs built against what it installed.

Checks the GNUInstallDirs layout (programs, libntpkit with its SONAME, headers, pkg-config
file, CMake package, man pages, completions, the check_ntp_time link, the monitoring
definitions), that installed programs run from any prefix (RPATH $ORIGIN/../lib), and that
two consumers build and run against the installed tree only: examples/ as a CMake project
with find_package(ntpkit), and a one-file program compiled with `pkg-config --cflags --libs
ntpkit`. Nothing is installed outside the temporary directory.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from build_tree import BUILD, SOURCE, cache_value, run

PKG_CONFIG_CONSUMER = r"""
#include <cstdio>
#include <vector>

#include <ntpkit/proto/packet.hpp>
#include <ntpkit/version.hpp>

int main() {
  ntpkit::proto::packet request;  // a client request, as ntpprobe sends it
  request.mode = ntpkit::proto::association_mode::client;
  const auto bytes = ntpkit::proto::serialize_packet(request);
  const auto back = ntpkit::proto::parse_packet(bytes);
  std::printf("libntpkit %s: %zu bytes, round trip %s\n", ntpkit::version_string, bytes.size(),
              back && *back == request ? "ok" : "broken");
  return back && *back == request ? 0 : 1;
}
"""


def readelf_dynamic(path):
    return run(["readelf", "-d", path]).stdout


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ntpkit-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        # All components: runtime, development and preview.
        run(["cmake", "--install", BUILD, "--prefix", cls.prefix])
        cls.libdir = cache_value("CMAKE_INSTALL_LIBDIR") or "lib"
        # An ASan+UBSan libntpkit needs its runtime loaded first: consumers link it too.
        cls.sanitize = (["-fsanitize=address,undefined"]
                        if cache_value("NTPKIT_SANITIZE") in ("ON", "TRUE", "1") else [])
        cls.version = run([os.path.join(BUILD, "apps", "ntpprobe"), "--version"]).stdout.split()[-1]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    def test_files_are_in_the_gnu_install_dirs(self):
        lib = self.libdir
        for rel in ["bin/ntpprobe", "bin/ntpmon-query", "bin/ntpclients",
                    f"{lib}/libntpkit.so.{self.version}", f"{lib}/libntpkit.so.0",
                    f"{lib}/libntpkit.so",
                    "include/ntpkit/version.hpp", "include/ntpkit/net/ntp_client.hpp",
                    "include/ntpkit/report/prometheus.hpp",
                    f"{lib}/pkgconfig/ntpkit.pc", f"{lib}/cmake/ntpkit/ntpkit-config.cmake",
                    f"{lib}/cmake/ntpkit/ntpkit-config-version.cmake",
                    f"{lib}/cmake/ntpkit/ntpkit-targets.cmake",
                    "share/man/man1/ntpprobe.1.gz", "share/man/man5/ntpkit-keys.5.gz",
                    "share/bash-completion/completions/ntpprobe",
                    "share/zsh/vendor-completions/_ntpprobe",
                    "share/fish/vendor_completions.d/ntpprobe.fish",
                    "share/icinga2/include/plugins-contrib.d/ntpkit.conf",
                    "share/ntpkit/nagios/ntpkit.cfg", "share/ntpkit/ntpprobe.schema.json",
                    "share/doc/ntpkit/json.md", "share/man/man1/ntpmon-query.1.gz",
                    "share/bash-completion/completions/ntpmon-query",
                    "share/zsh/vendor-completions/_ntpmon-query",
                    "share/fish/vendor_completions.d/ntpmon-query.fish",
                    "share/ntpkit/ntpmon-query.schema.json", "lib/ntpkit/plugins/check_ntp_peer",
                    "share/doc/ntpkit/copyright", "share/doc/ntpkit/changelog.gz"]:
            with self.subTest(rel):
                self.assertTrue(os.path.lexists(self.path(rel)), rel)

    def test_library_soname_is_major_version_and_links_are_right(self):
        lib = self.path(self.libdir, f"libntpkit.so.{self.version}")
        self.assertIn("Library soname: [libntpkit.so.0]", readelf_dynamic(lib))
        self.assertEqual(os.readlink(self.path(self.libdir, "libntpkit.so.0")),
                         f"libntpkit.so.{self.version}")
        self.assertEqual(os.readlink(self.path(self.libdir, "libntpkit.so")), "libntpkit.so.0")
        # OpenSSL is private and loaded when a key is first used (dlopen): neither the library
        # nor ntpprobe pays for libcrypto at start (test_keys_interop uses it through a key).
        self.assertNotIn("libcrypto.so", readelf_dynamic(lib))
        self.assertNotIn("libcrypto.so", readelf_dynamic(self.path("bin", "ntpprobe")))

    def test_installed_programs_run_without_library_path(self):
        dynamic = readelf_dynamic(self.path("bin", "ntpprobe"))
        if "libntpkit.so.0" in dynamic:
            self.assertIn(f"[$ORIGIN/../{self.libdir}]", dynamic)
        else:  # NTPKIT_STATIC_PROGRAMS: the library and libstdc++ are inside; no RUNPATH
            self.assertEqual(cache_value("NTPKIT_STATIC_PROGRAMS"), "ON")
            self.assertNotIn("RUNPATH", dynamic)
            self.assertNotIn("libstdc++", dynamic)
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        out = run([self.path("bin", "ntpprobe"), "--version"], env=env).stdout
        self.assertEqual(out.strip(), f"ntpprobe {self.version}")
        link = self.path("lib", "ntpkit", "plugins", "check_ntp_time")
        self.assertEqual(os.readlink(link), "../../../bin/ntpprobe")
        self.assertEqual(os.readlink(self.path("lib", "ntpkit", "plugins", "check_ntp_peer")),
                         "../../../bin/ntpmon-query")
        r = subprocess.run([link, "-V"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 3)  # as the monitoring-plugins' -V
        self.assertIn(self.version, r.stdout)

    def test_pkg_config_file_names_the_install_prefix(self):
        env = dict(os.environ, PKG_CONFIG_PATH=self.path(self.libdir, "pkgconfig"))
        self.assertEqual(run(["pkg-config", "--modversion", "ntpkit"], env=env).stdout.strip(),
                         self.version)
        cflags = run(["pkg-config", "--cflags", "ntpkit"], env=env).stdout
        self.assertIn(f"-I{self.path('include')}", cflags)
        libs = run(["pkg-config", "--libs", "ntpkit"], env=env).stdout
        self.assertIn(f"-L{self.path(self.libdir)}", libs)
        self.assertIn("-lntpkit", libs)

    def test_pkg_config_consumer_builds_and_runs(self):
        env = dict(os.environ, PKG_CONFIG_PATH=self.path(self.libdir, "pkgconfig"))
        src = os.path.join(self.tmp, "consumer.cpp")
        exe = os.path.join(self.tmp, "consumer")
        with open(src, "w") as f:
            f.write(PKG_CONFIG_CONSUMER)
        flags = run(["pkg-config", "--cflags", "--libs", "ntpkit"], env=env).stdout.split()
        run(["c++", "-std=c++20", *self.sanitize, "-o", exe, src] + flags)
        out = run([exe], env=dict(env, LD_LIBRARY_PATH=self.path(self.libdir))).stdout
        self.assertEqual(out.strip(), f"libntpkit {self.version}: 48 bytes, round trip ok")

    def test_cmake_consumer_builds_against_the_installed_package_only(self):
        # examples/ is a project of its own when configured alone: find_package(ntpkit).
        build = os.path.join(self.tmp, "examples-build")
        run(["cmake", "-S", os.path.join(SOURCE, "examples"), "-B", build, "-G", "Ninja",
                 f"-DCMAKE_PREFIX_PATH={self.prefix}", "-DCMAKE_BUILD_TYPE=Release",
                 f"-DCMAKE_CXX_FLAGS={' '.join(self.sanitize)}"])
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            cache = f.read()
        self.assertIn(f"ntpkit_DIR:PATH={self.path(self.libdir, 'cmake', 'ntpkit')}", cache)
        run(["cmake", "--build", build, "-j", "2"])
        # Compiled with the installed headers, not the source tree's.
        commands = run(["ninja", "-C", build, "-t", "commands"]).stdout
        self.assertIn(f"-isystem {self.path('include')}", commands)
        self.assertNotIn(os.path.join(SOURCE, "include"), commands)
        self.assertIn("-std=", commands)  # cxx_std_20 comes from ntpkit::ntpkit
        out = run([os.path.join(build, "ntpkit-decode")]).stdout
        self.assertIn("refid 192.0.2.1", out)
        self.assertIn("re-encoded: identical", out)

    def test_cmake_package_refuses_an_incompatible_version(self):
        proj = os.path.join(self.tmp, "wants-v9")
        os.makedirs(proj, exist_ok=True)
        with open(os.path.join(proj, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.25)\nproject(v9 LANGUAGES CXX)\n"
                    "find_package(ntpkit 9 REQUIRED)\n")
        r = subprocess.run(["cmake", "-S", proj, "-B", os.path.join(proj, "build"),
                            f"-DCMAKE_PREFIX_PATH={self.prefix}"],
                           capture_output=True, text=True, timeout=300)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("compatible with requested version", " ".join(r.stderr.split()))
        self.assertIn(f"version: {self.version}", r.stderr)


if __name__ == "__main__":
    unittest.main()
