// The process's open-file descriptors as a budget the network may not exhaust (docs/architecture.md, "Connection
// limits"). Network listeners refuse a connection that would eat into the last `reserve` descriptors below the
// limit, so the firmware (state files, FUSE, the preload and HBM sockets, event delivery) always finds some.
#pragma once

#include <cstddef>

namespace mesim::descriptors {

// The soft RLIMIT_NOFILE now (it may change while the process runs: the shell raises it, tests lower it), or a
// very large number when unlimited or unknown.
std::size_t limit();

// True if a connection that was given descriptor `fd` eats into the last `reserve` descriptors. The kernel hands
// out the lowest free number, so every descriptor below `fd` is in use and at most limit() - fd - 1 are free.
// Refusing such connections keeps the network out of the top `reserve` numbers for good: whatever else the
// process opens can always land there.
bool intoReserve(int fd, std::size_t reserve);

}  // namespace mesim::descriptors
