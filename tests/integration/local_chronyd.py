"""A chronyd of the test's own on 127.0.0.1, for tests that need a real NTP server.

chronyd comes from Debian's package, unpacked by scripts/fetch-chrony (it conflicts with
ntpsec). It runs with -x, so it can never touch the clock, on a free UDP port, with its
command socket, pid file and drift file in a temporary directory, and is stopped by its PID.
`local stratum 3` makes it answer at once, without sources.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD = os.environ.get("NTPKIT_BUILD_DIR", "")
SOURCE = os.environ.get("NTPKIT_SOURCE_DIR", "")


def free_udp_port():
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_chronyd():
    out = subprocess.run(
        ["bash", os.path.join(SOURCE, "scripts", "fetch-chrony"),
         os.path.join(BUILD, "peers", "chrony")],
        check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


class LocalChronyd:
    """Starts on enter, stops on exit: `with LocalChronyd() as c: ... c.port ...`."""

    def __init__(self, keys=None):
        """`keys`: the text of a chrony.keys file for chronyd's `keyfile`, or None."""
        self.keys = keys
        self.dir = None
        self.pid = None
        self.port = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def server(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        """Starts chronyd; a port taken between choosing and binding it gets two more tries."""
        for attempt in range(3):
            try:
                self.start_once()
                return
            except AssertionError:
                if attempt == 2:
                    raise

    def start_once(self):
        chronyd = fetch_chronyd()
        self.dir = tempfile.mkdtemp(prefix="ntpkit-chronyd-")
        os.makedirs(os.path.join(self.dir, "sock"), mode=0o700)
        self.port = free_udp_port()
        conf = os.path.join(self.dir, "chrony.conf")
        extra = []
        if self.keys is not None:
            with open(os.path.join(self.dir, "chrony.keys"), "w") as f:
                f.write(self.keys)
            extra.append(f"keyfile {self.dir}/chrony.keys")
        with open(conf, "w") as f:
            f.write("\n".join(extra + [
                f"port {self.port}", "bindaddress 127.0.0.1", "allow 127.0.0.0/8",
                "local stratum 3", "cmdport 0",
                f"bindcmdaddress {self.dir}/sock/chronyd.sock",
                f"pidfile {self.dir}/chronyd.pid", f"driftfile {self.dir}/chrony.drift", ""]))
        try:
            # -x: never touch the clock. chronyd forks into the background and writes its PID.
            subprocess.run([chronyd, "-x", "-u", "root", "-f", conf,
                            "-l", os.path.join(self.dir, "chronyd.log")],
                           check=True, capture_output=True, timeout=30)
            pidfile = os.path.join(self.dir, "chronyd.pid")
            for _ in range(100):
                if os.path.exists(pidfile):
                    with open(pidfile) as f:
                        text = f.read().strip()
                    if text:
                        self.pid = int(text)
                        break
                time.sleep(0.1)
            if self.pid is None:
                raise AssertionError("chronyd wrote no pid file")
            self.wait_answering()
        except BaseException:
            self.stop()
            raise

    def wait_answering(self):
        """Polls until chronyd answers one request (at most 20 tries, 0.25 s apart)."""
        probe = os.path.join(BUILD, "apps", "ntpprobe")
        for _ in range(20):
            r = subprocess.run([probe, "-t", "0.5", self.server], capture_output=True,
                               timeout=30)
            if r.returncode == 0:
                return
            time.sleep(0.25)
        raise AssertionError(f"chronyd on {self.server} does not answer")

    def stop(self):
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                for _ in range(50):
                    os.kill(self.pid, 0)
                    time.sleep(0.1)
            except ProcessLookupError:
                pass
            self.pid = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
