"""contrib/icinga2/ntpkit.conf and contrib/nagios/ntpkit.cfg: valid, complete, and working.

Icinga 2: the CheckCommand "ntpprobe" uses every variable of the ITL's "ntp_time" (read from
Debian's /usr/share/icinga2/include/command-plugins.conf), each argument is an option of
ntpprobe, and `icinga2 daemon -C` validates it together with the ITL, in a temporary
directory (its own -c config, cache and state paths, run as root: the system's /etc/icinga2
and /var are not used, and no daemon starts). The command line Icinga would build from a
service's variables is rendered here and run against a real chronyd.

Nagios: every command_line names options that exist, and runs against the same chronyd with
exit 0 and an OK line.

The semantics the ITL variables carry over: ntp_timeoffset (--time-offset) shifts the judged
offset, and without ntp_quiet no reply is CRITICAL, as with check_ntp_time.
"""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

from local_chronyd import LocalChronyd, free_udp_port

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "")
NTPPROBE = os.path.join(BUILD, "apps", "ntpprobe")
CHECK_NTP_TIME = os.path.join(BUILD, "apps", "check_ntp_time")
ITL = "/usr/share/icinga2/include/command-plugins.conf"
OURS = os.path.join(SOURCE, "contrib", "icinga2", "ntpkit.conf")
NAGIOS = os.path.join(SOURCE, "contrib", "nagios", "ntpkit.cfg")

# The ITL's ntp_time arguments (icinga2 2.13 in Debian 12).
ITL_NTP_TIME_VARS = {"ntp_address", "ntp_port", "ntp_quiet", "ntp_warning", "ntp_critical",
                     "ntp_timeoffset", "ntp_timeout", "ntp_ipv4", "ntp_ipv6"}


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def help_options(text):
    """Options in the option column of --help (up to the first run of two spaces)."""
    found = set()
    for line in text.splitlines():
        if re.match(r"^\s+-", line):
            column = re.split(r"(?<=\S)\s{2,}", line.strip(), maxsplit=1)[0]
            found.update(re.findall(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)", column))
    return found


def ntpprobe_options():
    return help_options(run([NTPPROBE, "--help"]).stdout)


def check_command_block(text, name):
    """The body of `object CheckCommand "name" { ... }`, braces balanced."""
    start = text.index(f'object CheckCommand "{name}"')
    depth, i = 0, text.index("{", start)
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j]
    raise AssertionError(f"unbalanced CheckCommand {name}")


def arguments(block):
    """The `arguments` dictionary: key -> dict of its attributes (value, set_if, ...)."""
    body = block[block.index("arguments = {"):]
    args = {}
    for m in re.finditer(r'^\t\t"([^"]+)" = \{(.*?)^\t\t\}', body, re.S | re.M):
        attrs = {}
        for line in m.group(2).splitlines():
            kv = re.match(r"\s*(\w+) = (.*)$", line)
            if kv:
                attrs[kv.group(1)] = kv.group(2).strip()
        args[m.group(1)] = attrs
    return args


def default_vars(block):
    return {m.group(1): m.group(2) for m in re.finditer(r'^\tvars\.(\w+) = (.*)$', block, re.M)}


def render(block, service_vars):
    """The command line Icinga 2 builds for a service with `service_vars` (strings, lists and
    booleans), for the constructs ntpkit.conf uses: value, set_if (a macro, or a negated one
    in a function), skip_key, repeat_key, order. Unset macros leave the argument out."""
    vars = {}
    for k, v in default_vars(block).items():
        vars[k] = {"true": True, "false": False}.get(v, v.strip('"'))
    vars.update(service_vars)

    def macro(text):
        m = re.fullmatch(r'"\$(\w+)\$"', text)
        return vars.get(m.group(1)) if m else text.strip('"')

    command = [macro(c.strip()) for c in re.search(r"command = \[(.*)\]", block).group(1)
               .split(",")]
    rendered = []
    for key, a in arguments(block).items():
        if "set_if" in a:
            negated = re.fullmatch(r'\{\{ !macro\("\$(\w+)\$"\) \}\}', a["set_if"])
            on = not vars.get(negated.group(1)) if negated else bool(macro(a["set_if"]))
            if on:
                rendered.append((int(a.get("order", 0)), [key]))
            continue
        value = macro(a["value"])
        if value is None or value == "":
            continue
        values = value if isinstance(value, list) else [value]
        words = []
        for v in values:
            words += ([] if a.get("skip_key") == "true" else [key]) + [str(v)]
            if a.get("repeat_key") != "true" and len(values) > 1:
                raise AssertionError("arrays need repeat_key here")
        rendered.append((int(a.get("order", 0)), words))
    rendered.sort(key=lambda x: x[0])  # stable: same order keeps file order
    return command + [w for _, ws in rendered for w in ws]


class IcingaCheckCommand(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("icinga2") or not os.path.exists(ITL):
            raise AssertionError("icinga2 and its ITL are missing: run scripts/setup-deps")
        with open(ITL) as f:
            cls.itl = check_command_block(f.read(), "ntp_time")
        with open(OURS) as f:
            cls.text = f.read()
        cls.ours = check_command_block(cls.text, "ntpprobe")
        cls.tmp = tempfile.mkdtemp(prefix="ntpkit-icinga2-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_takes_every_variable_of_the_itl_ntp_time(self):
        itl_vars = set(re.findall(r"\$(ntp_\w+)\$", self.itl))
        self.assertEqual(itl_vars, ITL_NTP_TIME_VARS)  # the ITL we compare against
        self.assertEqual(ITL_NTP_TIME_VARS - set(re.findall(r"\$(ntp_\w+)\$", self.ours)), set())
        # ntp_address defaults to the host's address as in the ITL, IPv4/IPv6 chosen the same way.
        self.assertIn('import "ipv4-or-ipv6"', self.ours)
        self.assertEqual({k: v for k, v in default_vars(self.ours).items()
                          if k in ("ntp_address", "check_ipv4", "check_ipv6")},
                         default_vars(self.itl))

    def test_every_argument_is_an_ntpprobe_option(self):
        options = ntpprobe_options()
        args = arguments(self.ours)
        self.assertGreater(len(args), 20)
        for key, attrs in args.items():
            with self.subTest(key):
                if attrs.get("skip_key") == "true":
                    continue
                self.assertIn(key, options)
        # Only ntp_* (ITL) and ntpprobe_* variables.
        for var in set(re.findall(r"\$(\w+)\$", self.ours)):
            self.assertRegex(var, r"^(ntp|ntpprobe|check)_[a-z0-9_]+$")

    def validate(self, conf_text):
        """`icinga2 daemon -C` on a config of our own; returns (exit code, output)."""
        d = tempfile.mkdtemp(dir=self.tmp)
        os.makedirs(os.path.join(d, "cache"))
        conf = os.path.join(d, "icinga2.conf")
        with open(conf, "w") as f:
            f.write(conf_text)
        defines = {"ObjectsPath": f"{d}/cache/icinga2.debug", "VarsPath": f"{d}/cache/vars",
                   "CacheDir": f"{d}/cache", "DataDir": f"{d}/data", "LogDir": f"{d}/log",
                   "InitRunDir": f"{d}/run", "PidPath": f"{d}/run/icinga2.pid",
                   "RunAsUser": "root", "RunAsGroup": "root"}
        r = run(["icinga2", "daemon", "-C", "-c", conf] +
                [f"-DConfiguration.{k}={v}" for k, v in defines.items()])
        return r.returncode, r.stdout + r.stderr

    def config(self, ours_path):
        return f"""
const PluginDir = "/usr/lib/nagios/plugins"
const NodeName = "ntpkit-test"
const ZoneName = "ntpkit-test"
include <itl>
include <plugins>
include "{ours_path}"
object Host "ntp1" {{
  address = "127.0.0.1"
  address6 = "::1"
  check_command = "dummy"
}}
/* The same variables drive the ITL's ntp_time and ntpprobe: switching is one line. */
template Service "ntp-vars" {{
  vars.ntp_port = 11123
  vars.ntp_warning = "0.5"
  vars.ntp_critical = "1"
  vars.ntp_timeoffset = 0
  vars.ntp_timeout = 5
  vars.ntp_quiet = true
  vars.ntp_ipv4 = true
}}
object Service "ntp_time" {{
  import "ntp-vars"
  host_name = "ntp1"
  check_command = "ntp_time"
}}
object Service "ntpprobe" {{
  import "ntp-vars"
  host_name = "ntp1"
  check_command = "ntpprobe"
  vars.ntpprobe_crit_stratum = "1:4"
  vars.ntpprobe_expect_refid = [ "GPS", "127.127.1.1" ]
  vars.ntpprobe_samples = 4
  vars.ntpprobe_warn_jitter = "0.01"
  vars.ntpprobe_leap_ok = true
  vars.ntpprobe_path = "{NTPPROBE}"
}}
"""

    def test_icinga2_validates_it_with_the_itl(self):
        rc, out = self.validate(self.config(OURS))
        self.assertEqual(rc, 0, out)
        self.assertIn("Instantiated 2 Services", out)
        self.assertIn("Finished validating the configuration", out)

    def test_icinga2_validation_would_catch_a_broken_definition(self):
        broken = os.path.join(self.tmp, "broken.conf")
        with open(broken, "w") as f:
            f.write(self.text.replace('"--leap-ok" = {', '"--leap-ok" = {{', 1))
        rc, out = self.validate(self.config(broken))
        self.assertNotEqual(rc, 0, out)
        self.assertIn("broken.conf", out)

    def test_rendered_command_runs_against_chronyd(self):
        with LocalChronyd() as chronyd:
            line = render(self.ours, {"ntp_address": "127.0.0.1", "ntp_port": str(chronyd.port),
                                      "ntp_warning": "0.5", "ntp_critical": "1",
                                      "ntp_ipv4": True,
                                      "ntpprobe_crit_stratum": "1:4",
                                      "ntpprobe_expect_refid": ["GPS", "127.127.1.1"],
                                      "ntpprobe_path": NTPPROBE})
            self.assertEqual(line[:2], [NTPPROBE, "--nagios"])
            self.assertEqual(line[-1], "127.0.0.1")  # the address last (order 100)
            self.assertIn("--no-reply-critical", line)  # ntp_quiet defaults to false
            self.assertEqual(line.count("--expect-refid"), 2)
            r = run(line)
            self.assertEqual(r.returncode, 0, (line, r.stdout, r.stderr))
            self.assertTrue(r.stdout.startswith("NTP OK: "), r.stdout)
            # Without an override, check_ntp_time's thresholds apply: 60 and 120 s.
            line = render(self.ours, {"ntp_address": chronyd.server, "ntp_timeoffset": "90",
                                      "ntpprobe_path": NTPPROBE})
            self.assertEqual(line[line.index("--warning") + 1], "60")
            r = run(line)
            self.assertEqual(r.returncode, 1, (line, r.stdout))
            self.assertTrue(r.stdout.startswith("NTP WARNING: "), r.stdout)


class ItlSemantics(unittest.TestCase):
    """What the mapped variables mean, compared with check_ntp_time itself (ntpkit's)."""

    def test_no_reply_is_critical_unless_quiet_as_with_check_ntp_time(self):
        dead = str(free_udp_port())
        plugin = run([CHECK_NTP_TIME, "-H", "127.0.0.1", "-p", dead, "-t", "2"])
        probe = run([NTPPROBE, "--nagios", "--no-reply-critical", "-t", "1", "-p", dead,
                     "127.0.0.1"])
        self.assertEqual((plugin.returncode, probe.returncode), (2, 2), (plugin, probe))
        plugin_q = run([CHECK_NTP_TIME, "-q", "-H", "127.0.0.1", "-p", dead, "-t", "2"])
        probe_q = run([NTPPROBE, "--nagios", "-t", "1", "-p", dead, "127.0.0.1"])
        self.assertEqual((plugin_q.returncode, probe_q.returncode), (3, 3), (plugin_q, probe_q))

    def test_time_offset_is_added_before_judging_as_with_check_ntp_time(self):
        with LocalChronyd() as chronyd:
            port = str(chronyd.port)
            plugin = run([CHECK_NTP_TIME, "-H", "127.0.0.1", "-p", port, "-o", "100", "-w",
                          "50", "-c", "200"])
            probe = run([NTPPROBE, "--nagios", "--time-offset", "100", "-w", "50", "-c", "200",
                         chronyd.server])
            self.assertEqual((plugin.returncode, probe.returncode), (1, 1), (plugin, probe))
            self.assertRegex(probe.stdout, r"'offset'=(99\.9|100\.0)\d*s;50;200;")
            probe = run([NTPPROBE, "--nagios", "--time-offset", "-300", "-w", "50", "-c", "200",
                         chronyd.server])
            self.assertEqual(probe.returncode, 2, probe.stdout)
            self.assertEqual(run([NTPPROBE, "--time-offset", "1", chronyd.server]).returncode, 2)


# ntpmon-query's commands (mode 6, which chronyd does not speak) are tested by
# test_monitoring_peer.py against ntpd.
MODE6_COMMANDS = {"check_ntpkit_peer", "check_ntpmon_query"}


def nagios_commands():
    with open(NAGIOS) as f:
        text = f.read()
    commands = {}
    for block in re.findall(r"define command \{(.*?)\}", text, re.S):
        fields = dict(re.findall(r"^\s*(\w+)\s+(.+?)\s*$", block, re.M))
        if fields["command_name"] not in MODE6_COMMANDS:
            commands[fields["command_name"]] = fields["command_line"]
    return commands


class NagiosCommands(unittest.TestCase):
    BINARIES = {"/usr/bin/ntpprobe": NTPPROBE,
                "/usr/lib/ntpkit/plugins/check_ntp_time": CHECK_NTP_TIME}

    def args_for(self, name, port):
        return {"check_ntpprobe": ["0.5", "1", f"--port {port}"],
                "check_ntpprobe_full": ["0.5", "1", "1:4", "0.01", "0.05", "0.1", "0.5",
                                        f"--port {port} --interval 0.2 --allow-fast"],
                "check_ntpkit_time": ["0.5", "1", f"-p {port}"]}[name]

    def expand(self, line, args):
        for i, a in enumerate(args, start=1):
            line = line.replace(f"${'ARG'}{i}$", a)
        line = line.replace("$HOSTADDRESS$", "127.0.0.1")
        self.assertNotIn("$", line)
        words = shlex.split(line)
        words[0] = self.BINARIES[words[0]]
        return words

    def test_definitions_name_existing_options(self):
        commands = nagios_commands()
        self.assertEqual(set(commands), {"check_ntpprobe", "check_ntpprobe_full",
                                         "check_ntpkit_time"})
        known = {NTPPROBE: ntpprobe_options(),
                 CHECK_NTP_TIME: help_options(run([CHECK_NTP_TIME, "--help"]).stdout)}
        self.assertIn("--time-offset", known[CHECK_NTP_TIME])
        for name, line in commands.items():
            words = self.expand(line, self.args_for(name, 123))
            for w in words[1:]:
                if w.startswith("-") and not re.fullmatch(r"-?[\d.:~@]+", w):
                    with self.subTest(command=name, option=w):
                        self.assertIn(w, known[words[0]])

    def test_definitions_run_ok_against_chronyd(self):
        with LocalChronyd() as chronyd:
            for name, line in nagios_commands().items():
                with self.subTest(name):
                    words = self.expand(line, self.args_for(name, chronyd.port))
                    r = run(words)
                    self.assertEqual(r.returncode, 0, (words, r.stdout, r.stderr))
                    self.assertTrue(r.stdout.startswith("NTP OK: "), r.stdout)


if __name__ == "__main__":
    unittest.main()
