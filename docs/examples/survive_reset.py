#!/usr/bin/env python3
# Blocks in read() on an AMTHI connection; a firmware reset ends it with ENODEV, and the same fd connects again.
import errno, fcntl, os, sys, time, uuid

IOCTL_MEI_CONNECT_CLIENT = 0xC0104801
AMTHI = uuid.UUID("12F80028-B4B7-4B2D-ACA8-46E0FF65814C").bytes_le

def connect(fd):
    while True:
        try:
            return fcntl.ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, bytearray(AMTHI))
        except OSError as e:                     # ENODEV while the bus re-enumerates
            print("connect:", errno.errorcode[e.errno]); time.sleep(0.1)

fd = os.open(sys.argv[1] if len(sys.argv) > 1 else "/dev/mei0", os.O_RDWR)
connect(fd)
print("connected; waiting in read()", flush=True)
try:
    os.read(fd, 4096)
except OSError as e:
    print("read:", errno.errorcode[e.errno])
connect(fd)
print("connected again on the same fd")
