"""contrib/ for ntpmon-query: the Icinga 2 CheckCommands "ntpkit_ntp_peer" and "ntpmon_query"
and the Nagios commands check_ntpkit_peer and check_ntpmon_query.

Icinga 2: both take every variable of the ITL's "ntp_peer" (Debian's command-plugins.conf),
"ntpkit_ntp_peer" with the ITL's very option letters; every argument is an option of the
program; `icinga2 daemon -C` validates them with the ITL and services using them. The command
lines Icinga 2 would build (rendered by test_monitoring.render) run against an NTPsec ntpd
synchronised to a chronyd, side by side with the ITL's own ntp_peer command line running the
real check_ntp_peer: same exit code. Nagios: the command lines run against the same ntpd.
"""

import contextlib
import os
import re
import shlex
import shutil
import tempfile
import unittest

import peers
from test_monitoring import (ITL, NAGIOS, OURS, arguments, check_command_block, help_options,
                             render, run)

REAL = "/usr/lib/nagios/plugins/check_ntp_peer"
NTPMON = os.path.join(os.environ.get("NTPKIT_BUILD_DIR", ""), "apps", "ntpmon-query")
CHECK_NTP_PEER = os.path.join(os.environ.get("NTPKIT_BUILD_DIR", ""), "apps", "check_ntp_peer")


class IcingaPeerCommands(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not shutil.which("icinga2") or not os.path.exists(ITL):
            raise AssertionError("icinga2 and its ITL are missing: run scripts/setup-deps")
        with open(ITL) as f:
            cls.itl = check_command_block(f.read(), "ntp_peer")
        with open(OURS) as f:
            text = f.read()
        cls.peer = check_command_block(text, "ntpkit_ntp_peer")
        cls.mon = check_command_block(text, "ntpmon_query")
        cls.tmp = tempfile.mkdtemp(prefix="ntpkit-icinga2-peer-")
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.chronyd = stack.enter_context(peers.Chronyd(cls.ns, port=11123, local_stratum=3,
                                                        nts=True, ntsport=11460))
        cls.ntpd = stack.enter_context(peers.Ntpd(cls.ns, config_extra="\n".join([
            "tos minsane 1",
            f"server 127.0.0.1:{cls.chronyd.ntsport} nts ca {cls.chronyd.ca_cert} "
            "iburst minpoll 3 maxpoll 4 prefer"])))
        cls.ntpd.wait_variable("stratum", "4", timeout=40)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_both_take_every_itl_ntp_peer_variable(self):
        itl_vars = set(re.findall(r"\$(ntp_\w+)\$", self.itl))
        self.assertGreaterEqual(len(itl_vars), 14)
        for block in (self.peer, self.mon):
            self.assertEqual(itl_vars - set(re.findall(r"\$(ntp_\w+)\$", block)), set())
        # ntpkit_ntp_peer: the ITL's keys bound to the same variables.
        self.assertEqual({k: a.get("value", a.get("set_if")) for k, a in arguments(self.peer).items()},
                         {k: a.get("value", a.get("set_if")) for k, a in arguments(self.itl).items()})

    def test_every_argument_is_an_option(self):
        plugin = help_options(run([CHECK_NTP_PEER, "--help"]).stdout)
        mon = help_options(run([NTPMON, "--help"]).stdout)
        for key in arguments(self.peer):
            self.assertIn(key, plugin)
        for key, attrs in arguments(self.mon).items():
            if attrs.get("skip_key") != "true":
                self.assertIn(key, mon)

    def test_icinga2_validates_them_with_the_itl(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        os.makedirs(os.path.join(d, "cache"))
        conf = os.path.join(d, "icinga2.conf")
        with open(conf, "w") as f:
            f.write(f"""
const PluginDir = "/usr/lib/nagios/plugins"
const NodeName = "ntpkit-test"
const ZoneName = "ntpkit-test"
include <itl>
include <plugins>
include "{os.path.abspath(OURS)}"
object Host "ntp1" {{
  address = "127.0.0.1"
  check_command = "dummy"
}}
template Service "peer-vars" {{
  vars.ntp_warning = "0.5"
  vars.ntp_critical = "1"
  vars.ntp_wstratum = "1:4"
  vars.ntp_csource = "1:"
}}
object Service "ntp_peer" {{ import "peer-vars"
  host_name = "ntp1"
  check_command = "ntp_peer" }}
object Service "ntpkit_ntp_peer" {{ import "peer-vars"
  host_name = "ntp1"
  check_command = "ntpkit_ntp_peer" }}
object Service "ntpmon_query" {{ import "peer-vars"
  host_name = "ntp1"
  check_command = "ntpmon_query" }}
""")
        defines = {"ObjectsPath": f"{d}/cache/icinga2.debug", "VarsPath": f"{d}/cache/vars",
                   "CacheDir": f"{d}/cache", "DataDir": f"{d}/data", "LogDir": f"{d}/log",
                   "InitRunDir": f"{d}/run", "PidPath": f"{d}/run/icinga2.pid",
                   "RunAsUser": "root", "RunAsGroup": "root"}
        r = run(["icinga2", "daemon", "-C", "-c", conf] +
                [f"-DConfiguration.{k}={v}" for k, v in defines.items()])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Instantiated 3 Services", r.stdout)

    def test_rendered_commands_agree_with_the_itl_ntp_peer(self):
        cases = [{"ntp_warning": "0.5", "ntp_critical": "1"},
                 {"ntp_wstratum": "1:2", "ntp_cstratum": "1:4"},
                 {"ntp_wjitter": "0.0000001", "ntp_cjitter": "1000", "ntp_quiet": True},
                 {"ntp_wsource": "2:", "ntp_csource": "1:"}]
        for service_vars in cases:
            v = {"ntp_address": "127.0.0.1", "ntp_ipv4": True, **service_vars}
            real = render(self.itl, v)
            real[0] = REAL  # PluginDir + "/check_ntp_peer"
            ours = render(self.peer, v | {"ntpkit_check_ntp_peer_path": CHECK_NTP_PEER})
            mon = render(self.mon, v | {"ntpmon_query_path": NTPMON})
            self.assertEqual(ours[1:], real[1:])
            with self.subTest(vars=service_vars):
                r, o, m = (self.ns.run(c) for c in (real, ours, mon))
                self.assertEqual((o.returncode, m.returncode), (r.returncode, r.returncode),
                                 (r.stdout, o.stdout, m.stdout))

    def test_nagios_commands_run_against_ntpd(self):
        with open(NAGIOS) as f:
            text = f.read()
        binaries = {"/usr/lib/ntpkit/plugins/check_ntp_peer": CHECK_NTP_PEER,
                    "/usr/bin/ntpmon-query": NTPMON}
        for name in ("check_ntpkit_peer", "check_ntpmon_query"):
            line = re.search(rf"command_name\s+{name}\n\s+command_line\s+(.+)", text).group(1)
            line = (line.replace("$ARG1$", "0.5").replace("$ARG2$", "1").replace("$ARG3$", "")
                    .replace("$HOSTADDRESS$", "127.0.0.1"))
            words = shlex.split(line)
            words[0] = binaries[words[0]]
            with self.subTest(name):
                r = self.ns.run(words)
                self.assertEqual(r.returncode, 0, (words, r.stdout, r.stderr))
                self.assertTrue(r.stdout.startswith("NTP OK: Offset "), r.stdout)


if __name__ == "__main__":
    unittest.main()
