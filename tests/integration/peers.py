"""Real NTP servers on loopback, each in a network namespace of its own, for tests.

chronyd (from Debian's chrony package, unpacked by scripts/fetch-chrony) and NTPsec's ntpd run
inside a namespace that only the test that made it uses, so tests run in parallel without
sharing a port, and ntpd's wildcard port 123 collides with nothing. Neither server can touch
the clock: chronyd runs with -x, ntpd without CAP_SYS_TIME. Every wait is bounded; every
process started here is stopped by its PID; every namespace and temp dir is removed.

    with Namespace() as ns, Chronyd(ns, port=11123) as chrony:
        print(chrony.tracking()["stratum"])
        ns.run([binary("ntpprobe"), "127.0.0.1:11123"])

The facts behind the configurations are in PEERS.md of the project's notes (chrony 4.3 and
NTPsec 1.2.2 on Debian 12).
"""

import ctypes
import fcntl
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

# Seconds a server may take to answer after start; chronyd needs about 0.1 s, ntpd about 1.5 s
# (it serves leap=11 until its orphan code runs, one second after start).
START_TIMEOUT = 15.0
# Seconds a server may take to exit after SIGTERM before it gets SIGKILL.
STOP_TIMEOUT = 5.0
# Seconds any helper command (ip, chronyc, ntpq, openssl) may run.
COMMAND_TIMEOUT = 20.0

_namespace_numbers = itertools.count()
_PR_SET_PDEATHSIG = 1


def source_dir():
    """The repository (NTPKIT_SOURCE_DIR, else two levels above this file)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("NTPKIT_SOURCE_DIR") or os.path.dirname(os.path.dirname(here))


def build_dir():
    """The build directory (NTPKIT_BUILD_DIR, else SOURCE/build)."""
    return os.environ.get("NTPKIT_BUILD_DIR") or os.path.join(source_dir(), "build")


def binary(name):
    """Path of one of the project's binaries, e.g. binary("ntpprobe")."""
    path = os.path.join(build_dir(), "apps", name)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is not built (NTPKIT_BUILD_DIR={build_dir()})")
    return path


def run(cmd, timeout=COMMAND_TIMEOUT, check=False, **kwargs):
    """Runs cmd with text output captured; raises on timeout, and on failure if check."""
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def chronyd_path():
    """chronyd to test against: NTPKIT_CHRONYD, else the one scripts/fetch-chrony unpacked into
    BUILD/peers/chrony (or SOURCE/build/peers/chrony, where scripts/test puts it for every
    build), fetched into BUILD/peers/chrony if neither exists.

    Parallel tests may both find it missing; a lock file lets only one of them unpack it.
    """
    if os.environ.get("NTPKIT_CHRONYD"):
        return os.environ["NTPKIT_CHRONYD"]
    relative = os.path.join("peers", "chrony", "root", "usr", "sbin", "chronyd")
    candidates = [os.path.join(build_dir(), relative),
                  os.path.join(source_dir(), "build", relative)]
    peers = os.path.join(build_dir(), "peers")
    os.makedirs(peers, exist_ok=True)
    with open(os.path.join(peers, ".fetch-chrony.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for path in candidates:
            if os.access(path, os.X_OK):
                return path
        script = os.path.join(source_dir(), "scripts", "fetch-chrony")
        out = run([script, os.path.join(peers, "chrony")], timeout=600, check=True)
        return out.stdout.strip().splitlines()[-1]


def chronyc_path(chronyd):
    """chronyc next to chronyd: DIR/usr/sbin/chronyd -> DIR/usr/bin/chronyc."""
    return os.path.normpath(os.path.join(os.path.dirname(chronyd), "..", "..", "usr", "bin",
                                         "chronyc"))


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Calls predicate until it returns a true value, which is returned; bounded by timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(interval)


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test process dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def netns_available():
    """True when this process may create network namespaces (root, `ip` present)."""
    return os.geteuid() == 0 and shutil.which("ip") is not None


def require_netns():
    """Fails the test without namespaces, or skips it when NTPKIT_SKIP_NETNS=1 says so.

    Real peers run by default and in CI; a silent skip there would hide every failure.
    """
    if netns_available():
        return
    message = "needs root and iproute2 to create network namespaces"
    if os.environ.get("NTPKIT_SKIP_NETNS") == "1":
        raise unittest.SkipTest(message)
    raise RuntimeError(message + " (set NTPKIT_SKIP_NETNS=1 to skip)")


def remove_stale_namespaces():
    """Deletes `ntpkit-<pid>-<n>` namespaces whose creating process is gone (a test run that
    was killed could not delete its own); the servers in them already got SIGTERM."""
    for line in run(["ip", "netns", "list"]).stdout.splitlines():
        m = re.match(r"(ntpkit-(\d+)-\d+)\b", line)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            run(["ip", "netns", "delete", m.group(1)])


class Namespace:
    """A network namespace `ntpkit-<pid>-<n>` with lo up; deleted on exit.

    run() and popen() execute a command inside it. On exit, any process still inside (only
    this test can have started one) is killed by its PID before the namespace is deleted.
    """

    def __init__(self):
        self.name = f"ntpkit-{os.getpid()}-{next(_namespace_numbers)}"
        self._created = False

    def __enter__(self):
        require_netns()
        remove_stale_namespaces()
        run(["ip", "netns", "add", self.name], check=True)
        self._created = True
        try:
            run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def prefix(self):
        """The argv prefix that runs a command inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def run(self, cmd, timeout=COMMAND_TIMEOUT, check=False, **kwargs):
        """Runs cmd inside the namespace, output captured as text (see run())."""
        return run(self.prefix() + list(cmd), timeout=timeout, check=check, **kwargs)

    def popen(self, cmd, **kwargs):
        """Starts cmd inside the namespace; it gets SIGTERM if the test process dies."""
        return subprocess.Popen(self.prefix() + list(cmd), preexec_fn=_die_with_parent, **kwargs)

    def add_address(self, address, device="lo"):
        """Adds ADDRESS (e.g. `127.0.0.3/8`) to a device of the namespace."""
        run(["ip", "-n", self.name, "addr", "add", address, "dev", device], check=True)

    def pids(self):
        """PIDs of the processes inside the namespace."""
        out = run(["ip", "netns", "pids", self.name])
        return [int(p) for p in out.stdout.split()]

    def close(self):
        """Kills what is left inside (by PID) and deletes the namespace; idempotent."""
        if not self._created:
            return
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run(["ip", "netns", "delete", self.name])
        self._created = False


class _Server:
    """A server process inside a namespace, with a temp dir for its files and a log."""

    name = "server"

    def __init__(self, ns):
        self.ns = ns
        self.proc = None
        self._tmp = tempfile.TemporaryDirectory(prefix=f"ntpkit-{self.name}-")
        self.dir = self._tmp.name
        self.pidfile = os.path.join(self.dir, f"{self.name}.pid")
        self.logfile = os.path.join(self.dir, f"{self.name}.log")

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def path(self, name):
        """A file in the server's temp dir."""
        return os.path.join(self.dir, name)

    def write(self, name, text):
        """Writes a file into the temp dir and returns its absolute path."""
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def log(self):
        """The server's log so far (for failure messages)."""
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return "(no log)"

    def _spawn(self, argv):
        """Starts argv (a foreground server) inside the namespace."""
        with open(self.path("stderr"), "w") as err:
            self.proc = self.ns.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=err)

    def _check_alive(self):
        """Raises with the log when the server has exited."""
        if self.proc.poll() is not None:
            with open(self.path("stderr"), errors="replace") as f:
                err = f.read()
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{err}\n"
                               f"{self.log()}")

    def pid(self):
        """The PID in the server's pidfile, or None before it wrote one."""
        try:
            with open(self.pidfile) as f:
                return int(f.read().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def stop(self):
        """SIGTERM to the PID in the pidfile (else our child's PID), SIGKILL after a while."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self.pid() or self.proc.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                continue

    def close(self):
        """Stops the server and removes its temp dir."""
        try:
            self.stop()
        finally:
            self._tmp.cleanup()


# `chronyc -c tracking` fields, chrony 4.3 (`chronyc tracking` names them).
TRACKING_FIELDS = ("ref_id", "ref_name", "stratum", "ref_time", "system_time", "last_offset",
                   "rms_offset", "frequency", "residual_freq", "skew", "root_delay",
                   "root_dispersion", "update_interval", "leap_status")
# `chronyc -c ntpdata ADDRESS` fields, chrony 4.3: what chronyd's client read from a server.
NTPDATA_FIELDS = ("remote_address", "remote_address_hex", "remote_port", "local_address",
                  "local_address_hex", "leap_status", "version", "mode", "stratum", "poll",
                  "poll_seconds", "precision", "precision_seconds", "root_delay",
                  "root_dispersion", "ref_id", "ref_name", "ref_time", "offset", "peer_delay",
                  "peer_dispersion", "response_time", "jitter_asymmetry", "tests_1_3",
                  "tests_5_7", "tests_a_d", "interleaved", "authenticated", "tx_timestamping",
                  "rx_timestamping", "total_tx", "total_rx", "total_valid_rx", "total_good_rx")
# chronyc's leap status names and the LI values they stand for.
CHRONY_LEAP = {"Normal": 0, "Insert second": 1, "Delete second": 2, "Not synchronised": 3}


def _csv_record(text, fields, what):
    """One `chronyc -c` line as a dict of the named fields (checks the count)."""
    values = text.strip().split(",")
    if len(values) != len(fields):
        raise ValueError(f"{what}: expected {len(fields)} fields, got {len(values)}: {text!r}")
    return dict(zip(fields, values))


class Chronyd(_Server):
    """chronyd -x serving NTP on 127.0.0.1 and ::1 port `port` of a namespace.

    local_stratum: `local stratum N` (None: no local reference, e.g. with a `server` line in
    config_extra). keys: chrony.keys text ("1 SHA1 HEX:..." lines) for `keyfile`. nts: True
    gives it a test CA, a certificate for 127.0.0.1/::1/localhost and NTS-KE on `ntsport`
    (ca_cert is the CA file a client needs). Commands go through the Unix socket in the temp
    dir (every command is allowed there); UDP `cmdport` on 127.0.0.1 is open too.
    bind: the `bindaddress` lines (empty: the wildcard address, which answers on every local
    address); allow: the `allow` lines (chronyd opens an NTP socket only for the families some
    `allow` covers).
    """

    name = "chronyd"

    def __init__(self, ns, port=11123, cmdport=None, local_stratum=3, config_extra="",
                 keys=None, nts=False, ntsport=11460, bind=("127.0.0.1", "::1"),
                 allow=("127.0.0.0/8", "::1")):
        super().__init__(ns)
        self.port = port
        self.bind = tuple(bind)
        self.allow = tuple(allow)
        self.cmdport = cmdport if cmdport is not None else port + 200
        self.local_stratum = local_stratum
        self.config_extra = config_extra
        self.keys = keys
        self.nts = nts
        self.ntsport = ntsport
        self.socket = self.path("chronyd.sock")
        self.ca_cert = None
        self.chronyd = chronyd_path()

    def config(self):
        """The chrony.conf text."""
        lines = [f"port {self.port}"]
        lines += [f"bindaddress {address}" for address in self.bind]
        lines += [f"allow {subnet}" for subnet in self.allow]
        lines += [f"cmdport {self.cmdport}",
                  "bindcmdaddress 127.0.0.1",
                  f"bindcmdaddress {self.socket}",
                  "cmdallow 127.0.0.1",
                  f"pidfile {self.pidfile}",
                  f"driftfile {self.path('chrony.drift')}"]
        if self.local_stratum is not None:
            lines.append(f"local stratum {self.local_stratum}")
        if self.keys is not None:
            lines.append(f"keyfile {self.write('chrony.keys', self.keys)}")
        if self.nts:
            tls = make_test_certificates(os.path.join(self.dir, "tls"))
            self.ca_cert = tls["ca_cert"]
            os.makedirs(self.path("nts"))
            lines += [f"ntsport {self.ntsport}",
                      f"ntsservercert {tls['server_cert']}",
                      f"ntsserverkey {tls['server_key']}",
                      f"ntsdumpdir {self.path('nts')}",
                      "ntsprocesses 0"]
        return "\n".join(lines + [self.config_extra, ""])

    def start(self):
        """Starts chronyd in the foreground (-n, so it is our child) and waits until it answers."""
        conf = self.write("chrony.conf", self.config())
        self._spawn([self.chronyd, "-n", "-x", "-u", "root", "-l", self.logfile, "-f", conf])

        def answers():
            self._check_alive()
            return self.pid() and self.chronyc_result("tracking").returncode == 0

        wait_until(answers, START_TIMEOUT, what=f"chronyd on port {self.port} answering")

    def chronyc_result(self, *args):
        """Runs chronyc ARGS inside the namespace through the Unix socket; the CompletedProcess."""
        return self.ns.run([chronyc_path(self.chronyd), "-n", "-h", self.socket] + list(args))

    def chronyc(self, *args):
        """chronyc ARGS's output; raises when it fails."""
        result = self.chronyc_result(*args)
        if result.returncode != 0 or result.stdout.startswith("506"):
            raise RuntimeError(f"chronyc {' '.join(args)}: {result.stdout}{result.stderr}")
        return result.stdout

    def tracking(self):
        """`chronyc -c tracking` as a dict (TRACKING_FIELDS), numbers as strings."""
        return _csv_record(self.chronyc("-c", "tracking"), TRACKING_FIELDS, "tracking")

    def ntpdata(self, address):
        """`chronyc -c ntpdata ADDRESS`: what this chronyd's client last read from a server."""
        return _csv_record(self.chronyc("-c", "ntpdata", address), NTPDATA_FIELDS, "ntpdata")

    def serverstats(self):
        """`chronyc serverstats` as {label: count}, e.g. {"NTP packets received": 5, ...}: what
        chronyd counted of the requests it got (chrony 4.3 labels)."""
        stats = {}
        for line in self.chronyc("serverstats").splitlines():
            label, _, value = line.partition(":")
            if value.strip().isdigit():
                stats[label.strip()] = int(value)
        return stats

    def wait_stratum(self, stratum, timeout=START_TIMEOUT):
        """Waits until tracking shows `stratum` (e.g. synchronised to an upstream)."""
        wait_until(lambda: self.tracking()["stratum"] == str(stratum), timeout, interval=0.1,
                   what=f"chronyd stratum {stratum}")


def make_test_certificates(directory):
    """A throw-away CA and a server certificate for 127.0.0.1, ::1 and localhost (openssl).

    Returns the paths: ca_cert, server_cert, server_key.
    """
    os.makedirs(directory, exist_ok=True)
    p = {name: os.path.join(directory, name) for name in
         ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt", "ext")}
    with open(p["ext"], "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509"] + ec + ["-keyout", p["ca.key"], "-out", p["ca.crt"],
        "-days", "2", "-subj", "/CN=ntpkit test CA"], check=True)
    run(["openssl", "req"] + ec + ["-keyout", p["server.key"], "-out", p["server.csr"],
        "-subj", "/CN=127.0.0.1"], check=True)
    run(["openssl", "x509", "-req", "-in", p["server.csr"], "-CA", p["ca.crt"], "-CAkey",
         p["ca.key"], "-CAcreateserial", "-out", p["server.crt"], "-days", "2", "-extfile",
         p["ext"]], check=True)
    return {"ca_cert": p["ca.crt"], "server_cert": p["server.crt"], "server_key": p["server.key"]}


def parse_ntpq_variables(text):
    """ntpq's `rv`/`cv` output as a dict of strings.

    The status line (`associd=0 status=0016 leap_none, sync_unspec, ...`) is left out; values
    are split at commas outside double quotes, quotes are kept off string values.
    """
    lines = [line for line in text.splitlines() if "=" in line and
             not line.startswith(("associd=", "server="))]
    items = re.findall(r'\s*([\w.]+)=("[^"]*"|[^,]*)(?:,|$)', " ".join(lines))
    return {key: value.strip().strip('"') for key, value in items}


class Ntpd(_Server):
    """NTPsec ntpd serving NTP on 127.0.0.1:123 and [::1]:123 of a namespace, no CAP_SYS_TIME.

    `disable ntp` keeps its clock discipline off; `tos orphan ORPHAN orphanwait 0` makes it
    serve leap=00 (not 11) one second after start, with no source at all (pure orphan, stratum
    ORPHAN, reference time 0). config_extra adds lines (servers, `trustedkey 1`, `controlkey
    1`, `tos minsane 1`, ...); keys is ntp.keys text ("1 sha1 HEX" lines) for `keys`.
    start() waits until ntpq shows leap=00.
    """

    name = "ntpd"

    def __init__(self, ns, config_extra="", orphan=10, keys=None, ntpd="/usr/sbin/ntpd"):
        super().__init__(ns)
        self.config_extra = config_extra
        self.orphan = orphan
        self.keys = keys
        self.ntpd = ntpd
        self.keyfile = self.path("ntp.keys")

    def config(self):
        """The ntp.conf text."""
        os.makedirs(self.path("stats"), exist_ok=True)
        return "\n".join([
            "interface ignore all",
            "interface listen 127.0.0.1",
            "interface listen ::1",
            "disable ntp",
            f"tos orphan {self.orphan} orphanwait 0",
            "restrict default kod limited nomodify noquery",
            "restrict 127.0.0.1",
            "restrict ::1",
            f"driftfile {self.path('ntp.drift')}",
            f"statsdir {self.path('stats')}/",
            f"keys {self.write('ntp.keys', self.keys)}" if self.keys is not None else "",
            self.config_extra,
            ""])

    def start(self):
        """Starts ntpd in the foreground (-n) without CAP_SYS_TIME; waits for leap=00."""
        if not os.access(self.ntpd, os.X_OK):
            raise unittest.SkipTest(f"{self.ntpd} missing (Debian package ntpsec)")
        conf = self.write("ntp.conf", self.config())
        self._spawn(["setpriv", "--bounding-set=-sys_time", "--inh-caps=-sys_time", self.ntpd,
                     "-n", "-c", conf, "-p", self.pidfile, "-l", self.logfile])

        def leap_ok():
            self._check_alive()
            return self.variables().get("leap") == "00"

        wait_until(leap_ok, START_TIMEOUT, interval=0.1, what="ntpd serving leap=00")

    def ntpq(self, *args, host="127.0.0.1"):
        """Runs `ntpq ARGS HOST` inside the namespace; its stdout (ntpq exits 0 even on errors)."""
        return self.ns.run(["ntpq"] + list(args) + [host]).stdout

    def variables(self, host="127.0.0.1"):
        """The system variables (`ntpq -c rv`), units as ntpq gives them (rootdelay in ms)."""
        return parse_ntpq_variables(self.ntpq("-c", "rv", host=host))

    def wait_variable(self, name, value, timeout=START_TIMEOUT):
        """Waits until the system variable `name` reads `value` (e.g. stratum 4 once synced)."""
        wait_until(lambda: self.variables().get(name) == value, timeout, interval=0.2,
                   what=f"ntpd {name}={value}")

    def counters(self, *commands):
        """The statistics of ntpq commands such as `sysstats`, `authinfo`, `iostats`, read in
        one ntpq run, as {label: count}: e.g. {"KoD responses": 3, "encryptions": 1, ...}.
        Labels whose value ntpsec does not know (`?`) are left out."""
        args = [arg for command in commands for arg in ("-c", command)]
        return _ntpq_counters(self.ntpq(*args))

    def sysstats(self):
        """`ntpq -c sysstats` as {label: count since start}, e.g. {"KoD responses": 3, ...}."""
        return self.counters("sysstats")

    def authinfo(self):
        """`ntpq -c authinfo` as {label: count}, e.g. {"digest encryptions": 1, ...}."""
        return self.counters("authinfo")

    def mrulist(self):
        """`ntpq -n -c mrulist`: {client address: {"count", "drop", "mode", "version", "rport",
        "restrictions", "kod"}}; ntpd keeps one entry per address (the latest port and mode)."""
        clients = {}
        for line in self.ntpq("-n", "-c", "mrulist").splitlines():
            fields = line.split()
            if len(fields) != 11 or not fields[6].isdigit():
                continue
            _, _, restrictions, kod, mode, version, count, _, drop, rport, address = fields
            clients[address] = {"count": int(count), "drop": int(drop), "mode": int(mode),
                                "version": int(version), "rport": int(rport),
                                "restrictions": restrictions, "kod": kod == "K"}
        return clients


def _ntpq_counters(text):
    """ntpq's `label:   N   ...` statistics lines as {label: N} (the first number only)."""
    counters = {}
    for line in text.splitlines():
        m = re.match(r"^([^:]+):\s+(\d+)(?:\s|$)", line)
        if m:
            counters[m.group(1).strip()] = int(m.group(2))
    return counters
