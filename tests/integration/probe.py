"""Running ntpprobe and reading what it prints, for the CLI and integration tests.

The parsers read ntpprobe's output; what it is compared with always comes from elsewhere (the
server's own report through chronyc or ntpq, or what an in-test server sent).
"""

import json
import re

import peers

# Seconds from the NTP epoch (1900) to the Unix epoch (1970).
NTP_UNIX_OFFSET = 2208988800
# One unit of the NTP short format (root delay, root dispersion): 2^-16 s.
SHORT_UNIT = 2.0 ** -16
# chronyc's leap status names and ntpq's `leap` bits, as LI values.
LEAP_FROM_NTPQ = {"00": 0, "01": 1, "10": 2, "11": 3}
LEAP_NAMES = {0: "none", 1: "add_second", 2: "del_second", 3: "unsynchronised"}


def run_probe(args, runner=peers.run, timeout=30):
    """Runs ntpprobe ARGS (through runner, e.g. a Namespace's run); the CompletedProcess."""
    return runner([peers.binary("ntpprobe")] + list(args), timeout=timeout)


def probe_json(testcase, args, runner=peers.run, expect_rc=0):
    """Runs `ntpprobe -j ARGS`, checks the exit code and that stdout is one JSON document
    with a schema; returns (document, CompletedProcess)."""
    result = run_probe(["-j"] + list(args), runner)
    testcase.assertEqual(result.returncode, expect_rc,
                         f"ntpprobe -j {' '.join(args)}\n{result.stdout}{result.stderr}")
    doc = json.loads(result.stdout)
    testcase.assertIsInstance(doc.get("schema"), int, "JSON document without a schema")
    return doc, result


def ntp_ns(text):
    """Nanoseconds since 1900 of an NTP timestamp in hex, `0xeeb23155.cda6a5f1` or ntpq's
    `eeb23155.cda6a5f1 2026-...`; exact integers, since a double cannot hold 1 ns of 2^32 s."""
    seconds, fraction = text.split()[0].removeprefix("0x").split(".")
    return int(seconds, 16) * 10**9 + (int(fraction, 16) * 10**9 >> 32)


def unix_text_ns(text):
    """Nanoseconds since 1900 of chronyc's `1795666645.803324100` (Unix seconds, 9 decimals)."""
    seconds, _, fraction = text.partition(".")
    return (int(seconds) + NTP_UNIX_OFFSET) * 10**9 + int(fraction.ljust(9, "0")[:9])


def dotted_to_hex(text):
    """`127.0.0.1` -> `0x7f000001` (ntpq prints an IPv4-looking refid dotted)."""
    return "0x" + "".join(f"{int(part):02x}" for part in text.split("."))


def refid_dotted(hex_text):
    """`7F7F0101` -> `127.127.1.1` (how ntpprobe's text shows an address-like refid)."""
    value = int(hex_text, 16)
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def refid_text(tracking):
    """How ntpprobe's text shows the refid chronyc tracking reports: the IPv6 upstream chronyc
    names (`CF404DC8 (::1)`) when the run knows that address, else the dotted quad."""
    if ":" in tracking.get("ref_name", ""):
        return f"{tracking['ref_name']} (IPv6 hash)"
    return refid_dotted(tracking["ref_id"])


# One summary line of ntpprobe's text output: a good answer, or an error.
_OK_LINE = re.compile(
    r"^(?P<time>\S+Z)  (?P<where>\S+(?: \([^)]*\))?)  offset (?P<offset>[-+]\d+\.\d+) "
    r"±(?P<error>\d+\.\d+) s  delay (?P<delay>-?\d+\.\d+) s  stratum (?P<stratum>\d+)  "
    r"refid (?P<refid>.+?)  leap (?P<leap>\S+)$")
_ERROR_LINE = re.compile(r"^(?P<where>\S+(?: \([^)]*\))?)  error (?P<kind>[a-z_]+): "
                         r"(?P<message>.+)$")


def parse_summary(text):
    """ntpprobe's text output as a list of dicts, one per line (ok or error lines)."""
    lines = []
    for line in text.splitlines():
        m = _OK_LINE.match(line) or _ERROR_LINE.match(line)
        if not m:
            raise ValueError(f"not a summary line: {line!r}")
        lines.append(m.groupdict())
    return lines


# Where values start in `ntpprobe -v` lines: two spaces and a 17-column name (text.cpp).
VERBOSE_VALUE_COLUMN = 19


def parse_verbose(text):
    """`ntpprobe -v` output as blocks: {"where", "fields": {...}, "samples": [{...}]}.

    A block starts with an unindented line; `  name   value` lines are address fields,
    `  sample N...` opens a sample whose `    name  value` lines are its fields. Names fill a
    fixed column: `    T4 destination` is followed by a single space.
    """
    blocks = []
    for line in text.splitlines():
        if not line.startswith(" "):
            blocks.append({"where": line, "fields": {}, "samples": []})
            continue
        if line.startswith("  sample "):
            blocks[-1]["samples"].append({"title": line.strip()})
            continue
        name = line[:VERBOSE_VALUE_COLUMN].strip()
        value = line[VERBOSE_VALUE_COLUMN:]
        if line.startswith("    "):
            blocks[-1]["samples"][-1][name] = value
        else:
            blocks[-1]["fields"][name] = value
    return blocks


class ServerSays:
    """What a server says of itself, as ntpprobe must report it.

    Exact: stratum, refid_raw (`0x7f7f0101`), leap (LI), reference_ns (ns since 1900, 0 for
    none) within reference_slack_ns. Ranges (lo, hi) in seconds: root_delay, root_dispersion,
    precision (log2), since a server's own report has other units or rounding.
    """

    def __init__(self, stratum, refid_raw, leap, reference_ns, root_delay, root_dispersion,
                 precision, reference_slack_ns=0):
        self.stratum = stratum
        self.refid_raw = refid_raw
        self.leap = leap
        self.reference_ns = reference_ns
        self.reference_slack_ns = reference_slack_ns
        self.root_delay = root_delay
        self.root_dispersion = root_dispersion
        self.precision = precision


def assert_in_range(testcase, value, bounds, what):
    """value within [lo, hi]."""
    lo, hi = bounds
    testcase.assertTrue(lo <= value <= hi, f"{what} {value!r} not in [{lo!r}, {hi!r}]")


def assert_sample_good(testcase, sample):
    """One JSON sample: verdict ok, every check that ran passed, both local stamps kernel's."""
    testcase.assertEqual(sample["verdict"], "ok")
    testcase.assertTrue(sample["checks"], "no checks ran")
    failed = [name for name, passed in sample["checks"].items() if passed is not True]
    testcase.assertEqual(failed, [], "failed checks")
    # Linux stamps loopback datagrams in software both ways (SO_TIMESTAMPING).
    testcase.assertEqual(sample["t1"]["source"], "kernel")
    testcase.assertEqual(sample["t4"]["source"], "kernel")
    for name in ("t2", "t3"):
        testcase.assertNotEqual(sample[name]["ntp"], "0x00000000.00000000", name)


def assert_address_matches(testcase, address, says):
    """One JSON address object of ntpprobe against what the server says of itself."""
    testcase.assertTrue(address["ok"], address["error"])
    testcase.assertIsNone(address["error"])
    server = address["server"]
    testcase.assertEqual(server["stratum"], says.stratum, "stratum")
    testcase.assertEqual(server["refid"]["raw"], says.refid_raw, "refid")
    testcase.assertEqual(server["leap"], says.leap, "leap")
    testcase.assertEqual(server["leap_name"], LEAP_NAMES[says.leap], "leap name")
    testcase.assertEqual(server["mode"], 4)
    assert_in_range(testcase, server["precision"], says.precision, "precision")
    assert_in_range(testcase, server["root_delay"], says.root_delay, "root delay")
    assert_in_range(testcase, server["root_dispersion"], says.root_dispersion, "root dispersion")
    reference = server["reference_time"]
    got_ns = ntp_ns(reference["ntp"])
    testcase.assertLessEqual(abs(got_ns - says.reference_ns), says.reference_slack_ns,
                             f"reference time {reference} vs {says.reference_ns} ns")
    testcase.assertEqual(reference["iso"] is None, says.reference_ns == 0)
    testcase.assertLess(abs(address["offset"]), 1e-3, "offset on loopback")
    testcase.assertGreater(address["delay"], 0, "delay")
    testcase.assertLess(address["delay"], 0.1, "delay on loopback")
    testcase.assertGreaterEqual(address["requests"], 1)
    testcase.assertEqual(address["replies"], len(address["samples"]))
    testcase.assertEqual(sum(1 for s in address["samples"] if s["selected"]), 1)
    for sample in address["samples"]:
        assert_sample_good(testcase, sample)
