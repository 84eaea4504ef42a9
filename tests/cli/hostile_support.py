"""Helpers shared by the tests that set ntpprobe against tests/tools/ntpkit-hostile.

Responder starts the hostile server on an ephemeral port (optionally inside a network
namespace), reads the port it printed and, when stopped, how many requests it saw. probe()
runs ntpprobe with a deadline and returns its exit code, output and wall time.
"""

import collections
import json
import os
import signal
import subprocess
import time

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "../../build")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "../..")
HOSTILE = os.path.join(BUILD, "tests", "ntpkit-hostile")
NTPPROBE = os.path.join(BUILD, "apps", "ntpprobe")
CHECK_NTP_TIME = os.path.join(BUILD, "apps", "check_ntp_time")

# Plugin exit codes.
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3

Run = collections.namedtuple("Run", "rc out err seconds")


class Responder:
    """ntpkit-hostile with one scenario; use as a context manager."""

    def __init__(self, scenario, *args, listen="127.0.0.1:0", netns=None):
        cmd = [HOSTILE, "--listen", listen, "--scenario", scenario, "--print-port",
               "--lifetime", "600", *args]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        first = self.proc.stdout.readline().split()
        if not first:
            err = self.proc.stderr.read()
            self.proc.wait(timeout=10)
            raise AssertionError(f"ntpkit-hostile did not start: {err}")
        fields = dict(f.split("=", 1) for f in first)
        self.port = int(fields["port"])
        self.offset = float(fields["offset"])
        self.requests = None

    def stop(self):
        """Stops the responder (SIGTERM) and returns the number of requests it received."""
        if self.requests is None:
            self.proc.send_signal(signal.SIGTERM)
            out, _ = self.proc.communicate(timeout=30)
            self.requests = int(out.split("requests=", 1)[1].split()[0])
        return self.requests

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


def sanitized_build():
    """True for a build with NTPKIT_SANITIZE=ON, whose memory figures mean nothing."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            return "NTPKIT_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


def probe(*args, binary=NTPPROBE, timeout=120, wrapper=(), **kw):
    """Runs ntpprobe (or `binary`) with `args`; a run longer than `timeout` fails the test."""
    start = time.monotonic()
    p = subprocess.run([*wrapper, binary, *args], capture_output=True, text=True,
                       timeout=timeout, **kw)
    return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - start)


def probe_json(*args, **kw):
    """probe() with --json; returns the run and the parsed document."""
    run = probe("--json", *args, **kw)
    return run, json.loads(run.out)


def first_address(doc, target=0):
    return doc["targets"][target]["addresses"][0]
