#!/usr/bin/env python3
# AMTHI GetProvisioningState through /dev/mei0, as any host program does it.
import fcntl, os, struct, sys, uuid

IOCTL_MEI_CONNECT_CLIENT = 0xC0104801                      # _IOWR('H', 0x01, 16)
AMTHI = uuid.UUID("12F80028-B4B7-4B2D-ACA8-46E0FF65814C")

fd = os.open(sys.argv[1] if len(sys.argv) > 1 else "/dev/mei0", os.O_RDWR)
data = bytearray(AMTHI.bytes_le)                           # uuid_le: the kernel's byte order
fcntl.ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, data)            # answer overwrites the first 8 bytes
max_len, version = struct.unpack_from("<IB", data)
print(f"connected: max_msg_length={max_len} protocol_version={version}")

os.write(fd, struct.pack("<BBHII", 1, 1, 0, 0x04000011, 0))   # header: 1.1, command, length 0
answer = os.read(fd, max_len)
_, _, _, command, length, status, state = struct.unpack("<BBHIIII", answer)
print(f"answer 0x{command:08X} status={status} provisioning_state={state}")
