#!/usr/bin/env python3
# The first steps of a host driver on mesim's raw HBM link (docs/hbm-link.md): reset handshake, HOST_START,
# enumeration of the ME clients. Usage: hbm_hello.py SOCKET
import socket, struct, sys, uuid

def header(me, host, length, internal=False, complete=True):
    return struct.pack("<I", me | host << 8 | length << 16 | internal << 30 | complete << 31)

def send(sock, payload, me=0, host=0, internal=False):
    sock.sendall(header(me, host, len(payload), internal) + payload)

def receive(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk: raise EOFError("the firmware closed the link")
            data += chunk
        return data
    raw, = struct.unpack("<I", exactly(4))
    me, host, length, internal = raw & 0xFF, raw >> 8 & 0xFF, raw >> 16 & 0x1FF, raw >> 30 & 1
    return me, host, internal, exactly(length)

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
send(sock, bytes([1, 0, 0, 0]), internal=True)                 # link control RESET (the host's H_RST)
_, _, internal, ready = receive(sock)
assert internal and ready[0] == 2, ready                         # READY: HFSTS1..6 and TRC follow
print("READY fw_status", " ".join(f"{v:08X}" for v in struct.unpack_from("<6I", ready, 4)))

send(sock, bytes([0x01, 0, 2, 2]))                               # HOST_START: minor 2, major 2
_, _, _, start = receive(sock)
print(f"HOST_START supported={start[1]} ME max {start[3]}.{start[2]}")

send(sock, bytes([0x04, 0, 0, 0]))                               # HOST_ENUM
_, _, _, enum = receive(sock)
bitmap = int.from_bytes(enum[4:36], "little")
for address in (a for a in range(256) if bitmap >> a & 1):
    send(sock, bytes([0x05, address, 0, 0]))                     # CLIENT_PROPERTIES
    _, _, _, props = receive(sock)
    guid = uuid.UUID(bytes_le=props[4:20])
    version, max_conn, fixed, flags, max_len = struct.unpack_from("<BBBBI", props, 20)
    print(f"ME client {address}: {str(guid).upper()} protocol {version} max_conn {max_conn} "
          f"fixed {fixed} max_msg_length {max_len}")
