#!/usr/bin/env python3
"""Feeds reference clocks for tests/tools/mode6-capture; runs for a bounded time, then exits.

  mode6_feed.py DIR SECONDS SHM_UNIT

- makes two pseudo-terminal pairs and links their driver ends as DIR/tty-nmea and
  DIR/tty-parse (the driver opens those; we write to the other end);
- once a second, just after the second turns: NMEA 0183 sentences ($GPRMC, $GPGGA, $GPGSA)
  with the current UTC time on tty-nmea, and a Meinberg standard time string
  (STX "D:dd.mm.yy;T:w;U:hh.mm.ss;uvxy" ETX) on tty-parse, whose four status characters
  come from DIR/parse-status when that file exists (so the capture can change them), else
  four spaces;
- writes the current time into ntpd's SHM segment (key 0x4e545030 + unit, mode 1) each second.
Never sets or reads anything but the system clock and its own ptys and segment.
"""
import ctypes
import datetime
import os
import pty
import struct
import sys
import time
import tty


def checksum(body: str) -> str:
    c = 0
    for ch in body:
        c ^= ord(ch)
    return "%02X" % c


def nmea(body: str) -> bytes:
    return ("$%s*%s\r\n" % (body, checksum(body))).encode()


def nmea_burst(t: datetime.datetime) -> bytes:
    hms = t.strftime("%H%M%S") + ".00"
    dmy = t.strftime("%d%m%y")
    return (nmea("GPRMC,%s,A,4807.038,N,01131.000,E,0.0,0.0,%s,,,A" % (hms, dmy)) +
            nmea("GPGGA,%s,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,," % hms) +
            nmea("GPGSA,A,3,04,05,09,12,24,,,,,,,,2.5,1.3,2.1"))


def meinberg(t: datetime.datetime, status: str) -> bytes:
    # The string carries local time: UTC with 'U', CEST (UTC+2) with 'S', else CET (UTC+1).
    if status[2] == "U":
        local = t
    elif status[2] == "S":
        local = t + datetime.timedelta(hours=2)
    else:
        local = t + datetime.timedelta(hours=1)
    s = "\x02D:%s;T:%d;U:%s;%s\x03" % (local.strftime("%d.%m.%y"), local.isoweekday(),
                                       local.strftime("%H.%M.%S"), status)
    return s.encode()


class Shm:
    """ntpd's struct shmTime on x86_64 (refclock_shm.c): 96 bytes."""
    FMT = "iiqiiqiiiiiII8i"

    def __init__(self, unit: int):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmget.restype = ctypes.c_int
        libc.shmat.restype = ctypes.c_void_p
        libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        self.addr = None
        key = 0x4E545030 + unit
        shmid = libc.shmget(key, 96, 0o666 | 0o1000)  # IPC_CREAT; sizeof(struct shmTime)
        if shmid >= 0:
            addr = libc.shmat(shmid, None, 0)
            if addr not in (None, ctypes.c_void_p(-1).value):
                self.addr = addr
        self.count = 0

    def write(self, now_ns: int):
        if self.addr is None:
            return
        sec, nsec = divmod(now_ns, 1_000_000_000)
        self.count += 1
        data = struct.pack(self.FMT, 1, self.count, sec, nsec // 1000, 0, sec, nsec // 1000, 0,
                           -20, 3, 1, nsec, nsec, *([0] * 8))
        ctypes.memmove(self.addr, data, len(data))


def main():
    state, seconds, unit = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    ptys = {}
    for name in ("nmea", "parse"):
        master, slave = pty.openpty()
        tty.setraw(master)
        link = os.path.join(state, "tty-" + name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.ttyname(slave), link)
        ptys[name] = (master, slave)
    shm = Shm(unit)
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # bounded: one burst per second until `seconds` pass
        now = time.time()
        time.sleep(1.0 - (now % 1.0) + 0.01)
        utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        status = "    "
        try:
            with open(os.path.join(state, "parse-status")) as f:
                status = (f.read().rstrip("\n") + "    ")[:4]
        except OSError:
            pass
        for name, data in (("nmea", nmea_burst(utc)), ("parse", meinberg(utc, status))):
            try:
                os.write(ptys[name][0], data)
            except OSError:
                pass
        shm.write(time.time_ns())


if __name__ == "__main__":
    main()
