#!/usr/bin/env python3
# A watchdog daemon as on any Linux host: set the timeout, then ping dev/watchdog0 every second until killed.
# Usage: heartbeat.py DEVICE TIMEOUT_SECONDS
import fcntl, os, struct, sys, time

WDIOC_SETTIMEOUT = 0xC0045706                    # _IOWR('W', 6, int)
fd = os.open(sys.argv[1], os.O_WRONLY)
fcntl.ioctl(fd, WDIOC_SETTIMEOUT, struct.pack("<i", int(sys.argv[2])))
print("heartbeating", flush=True)
while True:
    os.write(fd, b"\0")                          # any write is a keepalive ping
    time.sleep(1)
