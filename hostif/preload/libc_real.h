// The libc functions the preload library interposes, as found behind it (dlsym RTLD_NEXT).
// Library code must call these, never the plain names, which resolve back to the interposers.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/types.h>

namespace mesim::preload {

struct LibcReal {
  int (*open)(const char*, int, ...);
  int (*open64)(const char*, int, ...);
  int (*openat)(int, const char*, int, ...);
  int (*openat64)(int, const char*, int, ...);
  int (*open_2)(const char*, int);
  int (*open64_2)(const char*, int);
  int (*openat_2)(int, const char*, int);
  int (*openat64_2)(int, const char*, int);
  int (*close)(int);
  int (*close_range)(unsigned, unsigned, int);
  void (*closefrom)(int);
  int (*dup)(int);
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  ssize_t (*read)(int, void*, size_t);
  ssize_t (*read_chk)(int, void*, size_t, size_t);
  ssize_t (*write)(int, const void*, size_t);
  int (*ioctl)(int, unsigned long, ...);
  int (*fcntl)(int, int, ...);
  int (*fcntl64)(int, int, ...);
  int (*fsync)(int);
  int (*poll)(pollfd*, nfds_t, int);
  int (*poll_chk)(pollfd*, nfds_t, int, size_t);
  int (*ppoll)(pollfd*, nfds_t, const timespec*, const sigset_t*);
  int (*ppoll_chk)(pollfd*, nfds_t, const timespec*, const sigset_t*, size_t);
  int (*select)(int, fd_set*, fd_set*, fd_set*, timeval*);
  int (*pselect)(int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*);
};

// Resolved once (thread-safe); usable from constructors of other libraries that run before ours.
const LibcReal& libc();

// One line on stderr when MESIM_PRELOAD_DEBUG is set (and not "0").
void debugLine(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace mesim::preload
