"""ntpmon-query against NTPsec's NMEA and PARSE (Meinberg) reference clock drivers, each fed
through a pseudo-terminal.

The test opens a pty pair, links its slave side into ntpd's directory as the driver's device
(`refclock nmea unit 0 path DIR/gps0`) and writes, once a second, $GPRMC and $GPGGA sentences
with the current UTC time and correct checksums on the master side. Within seconds the
driver decodes them: the clock's variables (name "NMEA", the last sentence as timecode, its
counters) and its association (NMEA(0), refid GPS, type l) are real driver output, and
ntpmon-query's clockvars and peers must say what ntpq says of them (snapshot compare, as in
test_ntpmon_query). The PARSE driver (`refclock generic subtype 0`, Meinberg PZF5xx) gets
the Meinberg standard time string in CET/CEST once a second; its refclock_status and
refclock_states must decode in JSON to the words ntpq prints. Every wait is bounded; the
feeders stop with the test.
"""

import contextlib
import datetime
import json
import os
import pty
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import zoneinfo

import peers
from test_ntpmon_query import ATTEMPTS, SCHEMA, ntpq_raw

CLOCK_TIMEOUT = 40.0


def nmea(sentence):
    """The sentence with its $ and *checksum."""
    checksum = 0
    for c in sentence.encode("ascii"):
        checksum ^= c
    return f"${sentence}*{checksum:02X}\r\n".encode("ascii")


def nmea_burst():
    """$GPRMC and $GPGGA for now (UTC)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    hms = now.strftime("%H%M%S") + ".00"
    date = now.strftime("%d%m%y")
    return (nmea(f"GPRMC,{hms},A,4807.038,N,01131.000,E,0.0,0.0,{date},,,A") +
            nmea(f"GPGGA,{hms},4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"))


def gps_burst():
    """A 3D fix with 5 of 8 satellites used and known dilutions (what gpsd reports from it is
    compared with gpspipe, not with these numbers)."""
    return (nmea_burst() + nmea("GPGSA,A,3,04,05,09,12,24,,,,,,,,2.5,1.3,2.1") +
            nmea("GPGSV,2,1,08,04,40,083,46,05,17,308,41,09,07,344,39,12,62,213,42") +
            nmea("GPGSV,2,2,08,24,10,115,38,25,01,018,,29,42,222,,31,25,056,"))


def meinberg_burst():
    """The Meinberg standard time string for now in CET/CEST, status characters all normal:
    STX D:dd.mm.yy;T:w;U:hh.mm.ss;uvxy ETX (w: ISO weekday)."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Berlin"))
    text = now.strftime(f"D:%d.%m.%y;T:{now.isoweekday()};U:%H.%M.%S;    ")
    return b"\x02" + text.encode("ascii") + b"\x03"


class Feeder:
    """Writes one burst a second (just after the second turns) to the pty master until
    stopped (at most 10 minutes)."""

    def __init__(self, master, burst=nmea_burst):
        self.master = master
        self.burst = burst
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        deadline = time.monotonic() + 600
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                os.write(self.master, self.burst())
            except OSError:
                return
            # The next burst at the start of the next second.
            self.stop.wait(1.02 - (time.time() % 1.0))


class NmeaClockTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        master, slave = pty.openpty()
        stack.callback(os.close, master)
        stack.callback(os.close, slave)
        cls.ns = stack.enter_context(peers.Namespace())
        ntpd = peers.Ntpd(cls.ns, config_extra="")
        device = ntpd.path("gps0")
        os.symlink(os.ttyname(slave), device)
        ntpd.config_extra = f"tos minsane 1\nrefclock nmea unit 0 path {device} baud 4800 prefer"
        cls.ntpd = stack.enter_context(ntpd)
        feeder = Feeder(master)
        feeder.thread.start()
        stack.callback(feeder.thread.join, 5)
        stack.callback(feeder.stop.set)
        cls.assoc = peers.wait_until(cls.nmea_association, CLOCK_TIMEOUT, interval=0.5,
                                     what="the NMEA clock decoding sentences")

    @classmethod
    def nmea_association(cls):
        for assoc in re.findall(r"(?m)^\s*\d+\s+(\d+)\s", cls.ntpd.ntpq("-c", "as")):
            cv = dict(ntpq_raw(cls.ntpd.ntpq("-c", "raw", "-c", f"cv {assoc}"))[1])
            if cv.get("name") == '"NMEA"' and cv.get("timecode", '""') != '""':
                return int(assoc)
        return None

    def mon_json(self, *args):
        p = self.ns.run([peers.binary("ntpmon-query"), "-j", "127.0.0.1", *args])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        doc = json.loads(p.stdout)
        SCHEMA.validate(doc)
        return doc

    def test_clockvars_equal_ntpq_cv(self):
        for _ in range(ATTEMPTS):
            before = ntpq_raw(self.ntpd.ntpq("-c", "raw", "-c", f"cv {self.assoc}"))
            doc = self.mon_json("cv", str(self.assoc))
            after = ntpq_raw(self.ntpd.ntpq("-c", "raw", "-c", f"cv {self.assoc}"))
            if before == after:
                break
        self.assertEqual(before, after, "the clock's variables never held still")
        (read,) = doc["reads"]
        self.assertEqual(read["status"]["word"], before[0])
        self.assertEqual([(v["name"], v["raw"]) for v in read["variables"]], before[1])
        v = {x["name"]: x for x in read["variables"]}
        self.assertEqual(v["name"]["value"], "NMEA")
        self.assertTrue(v["timecode"]["value"].startswith("$GP"), v["timecode"])
        self.assertEqual(v["noreply"]["type"], "integer")

    def test_peers_row_of_the_clock(self):
        doc = self.mon_json("-n", "peers")
        (row,) = [p for p in doc["peers"] if p["association_id"] == self.assoc]
        self.assertEqual((row["remote"], row["refid"], row["type"]), ("NMEA(0)", ".GPS.", "l"))
        self.assertTrue(row["reference_clock"])
        line = [l for l in self.ntpd.ntpq("-n", "-p").splitlines() if "NMEA(0)" in l][0]
        self.assertEqual(line[1:36].split(), ["NMEA(0)", ".GPS.", str(row["stratum"])])


GPSD_PORT = 12947


class GpsdTest(unittest.TestCase):
    """gpsd (Debian's) reading the NMEA feed from a pty in a namespace of its own; gps must
    say what gpspipe -w reads from the same gpsd."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which("gpsd") or not shutil.which("gpspipe"):
            raise AssertionError("gpsd and gpspipe are missing: run scripts/setup-deps")
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        master, slave = pty.openpty()
        stack.callback(os.close, master)
        stack.callback(os.close, slave)
        cls.ns = stack.enter_context(peers.Namespace())
        cls.tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ntpkit-gpsd-"))
        feeder = Feeder(master, gps_burst)
        feeder.thread.start()
        stack.callback(feeder.thread.join, 5)
        stack.callback(feeder.stop.set)
        with open(os.path.join(cls.tmp, "stderr"), "w") as err:
            cls.gpsd = cls.ns.popen(["gpsd", "-N", "-n", "-S", str(GPSD_PORT), "-F",
                                     os.path.join(cls.tmp, "sock"), os.ttyname(slave)],
                                    stdout=subprocess.DEVNULL, stderr=err)
        stack.callback(cls.stop_gpsd)
        cls.device = os.ttyname(slave)

    @classmethod
    def stop_gpsd(cls):
        cls.gpsd.terminate()
        try:
            cls.gpsd.wait(timeout=5)
        except subprocess.TimeoutExpired:
            cls.gpsd.kill()
            cls.gpsd.wait(timeout=5)

    def gpspipe(self):
        """The last TPV and SKY of `gpspipe -w -n 12`."""
        out = self.ns.run(["gpspipe", "-w", "-n", "12", f"127.0.0.1:{GPSD_PORT}"],
                          timeout=30).stdout
        last = {}
        for line in out.splitlines():
            obj = json.loads(line)
            last[obj.get("class")] = obj
        return last

    def test_gps_agrees_with_gpspipe(self):
        truth = peers.wait_until(lambda: (lambda t: t if "TPV" in t and "SKY" in t else None)(
            self.gpspipe()), 30, interval=0.5, what="gpsd reporting a fix")
        p = self.ns.run([peers.binary("ntpmon-query"), "-j", "-t", "5", "gps",
                         f"127.0.0.1:{GPSD_PORT}"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        doc = json.loads(p.stdout)
        SCHEMA.validate(doc)
        g = doc["gps"]
        tpv, sky = truth["TPV"], truth["SKY"]
        self.assertEqual(g["device"], tpv["device"])
        self.assertEqual(g["device"], self.device)
        self.assertEqual(g["mode"], tpv["mode"])
        self.assertEqual(g["satellites_used"], sky["uSat"])
        self.assertEqual(g["satellites_visible"], sky["nSat"])
        for key in ("hdop", "vdop", "pdop", "tdop", "gdop"):
            self.assertEqual(g[key], sky[key], key)
        self.assertEqual((g["lat"], g["lon"]), (tpv["lat"], tpv["lon"]))
        # gpsd names the driver once it has recognised the sentences (not yet in the DEVICES
        # of a first connection).
        driver = truth["DEVICES"]["devices"][0].get("driver")
        if driver:
            self.assertEqual(g["driver"], driver)
        self.assertEqual(g["release"], truth["VERSION"]["release"])
        text = self.ns.run([peers.binary("ntpmon-query"), "-t", "5", "gps",
                            f"127.0.0.1:{GPSD_PORT}"]).stdout
        self.assertIn(f"satellites:  {sky['uSat']} used, {sky['nSat']} visible", text)

    def test_no_gpsd_is_a_clear_error(self):
        p = self.ns.run([peers.binary("ntpmon-query"), "-j", "-t", "1", "gps", "127.0.0.1:12948"])
        self.assertEqual(p.returncode, 1)
        doc = json.loads(p.stdout)
        SCHEMA.validate(doc)
        self.assertEqual(doc["error"]["kind"], "gpsd")
        self.assertIn("cannot connect", doc["error"]["message"])


class ParseMeinbergClockTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        master, slave = pty.openpty()
        stack.callback(os.close, master)
        stack.callback(os.close, slave)
        cls.ns = stack.enter_context(peers.Namespace())
        ntpd = peers.Ntpd(cls.ns, config_extra="")
        device = ntpd.path("dcf0")
        os.symlink(os.ttyname(slave), device)
        ntpd.config_extra = f"tos minsane 1\nrefclock generic unit 0 subtype 0 path {device}"
        cls.ntpd = stack.enter_context(ntpd)
        feeder = Feeder(master, meinberg_burst)
        feeder.thread.start()
        stack.callback(feeder.thread.join, 5)
        stack.callback(feeder.stop.set)
        cls.assoc = peers.wait_until(cls.parse_association, CLOCK_TIMEOUT, interval=0.5,
                                     what="the PARSE clock decoding time strings")

    @classmethod
    def parse_association(cls):
        for assoc in re.findall(r"(?m)^\s*\d+\s+(\d+)\s", cls.ntpd.ntpq("-c", "as")):
            cv = dict(ntpq_raw(cls.ntpd.ntpq("-c", "raw", "-c", f"cv {assoc}"))[1])
            if "TIME CODE" in cv.get("refclock_status", ""):
                return int(assoc)
        return None

    def test_clockvars_equal_ntpq_and_decode_the_parse_words(self):
        for _ in range(ATTEMPTS):
            before = ntpq_raw(self.ntpd.ntpq("-c", "raw", "-c", f"cv {self.assoc}"))
            p = self.ns.run([peers.binary("ntpmon-query"), "-j", "127.0.0.1", "cv",
                             str(self.assoc)])
            after = ntpq_raw(self.ntpd.ntpq("-c", "raw", "-c", f"cv {self.assoc}"))
            if before == after:
                break
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        doc = json.loads(p.stdout)
        SCHEMA.validate(doc)
        (read,) = doc["reads"]
        self.assertEqual(before, after, "the clock's variables never held still")
        self.assertEqual([(v["name"], v["raw"]) for v in read["variables"]], before[1])
        truth = dict(before[1])
        clock = read["clock"]
        # ntpq's refclock_status words, "TIME CODE; (LEAP INDICATION)" and the like.
        words = truth["refclock_status"].strip('"')
        inside = re.findall(r"\(([^)]*)\)", words)
        outside = re.sub(r"\([^)]*\)", "", words)
        self.assertEqual(clock["parse_status"]["flags"],
                         [w.strip() for w in outside.split(";") if w.strip()])
        self.assertEqual(clock["parse_status"]["capabilities"],
                         [w.strip() for w in inside[0].split(";")] if inside else [])
        self.assertIn("TIME CODE", clock["parse_status"]["flags"])
        states = truth["refclock_states"].strip('"')
        current = re.search(r"\*([A-Z ]+):", states).group(1)
        self.assertEqual(clock["parse_states"]["current"], current)
        self.assertEqual(clock["name"], truth["name"].strip('"') if "name" in truth else None)
        self.assertEqual(clock["device"], truth["device"].strip('"'))


if __name__ == "__main__":
    unittest.main()
