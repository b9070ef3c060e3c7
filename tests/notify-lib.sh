# SPDX-License-Identifier: MIT
# notify-lib.sh - sourced by the socket-activation tests (socket-activate.sh,
# echod.sh): wait_for, which waits for a log line without a fixed sleep,
# and receiver, a python3 service-manager notify socket.  The caller keeps
# the pids of background jobs in the array pids and kills them at exit.

# wait_for FILE REGEX [COUNT]: until COUNT lines of FILE match (10 s at
# most).
wait_for() {
  local _
  for _ in $(seq 200); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] && return 0
    sleep 0.05
  done
  return 1
}

# receiver ADDRESS OUT [COUNT]: a python3 notify receiver on the unix
# datagram ADDRESS (a path or @name) with SO_PASSCRED; it prints "ready",
# then "got MESSAGE PID UID GID" for each of the first COUNT (default 1)
# datagrams.
receiver() {
  timeout 60 python3 -c '
import socket, struct, sys
addr = sys.argv[1]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(addr)
s.settimeout(50)
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    msg, anc, flags, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = uid = gid = -1
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, uid, gid = struct.unpack("iII", data[:12])
    print("got %s %d %d %d" % (msg.decode(), pid, uid, gid), flush=True)
' "$1" "${3:-1}" >"$2" 2>&1 &
  pids+=($!)
  wait_for "$2" '^ready$'
}
