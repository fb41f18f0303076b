#include "hostif/preload/libc_real.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mesim::preload {
namespace {

LibcReal g_libc;
pthread_once_t g_once = PTHREAD_ONCE_INIT;

template <class F>
void resolve(F& slot, const char* name) {
  slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

void resolveAll() {
  resolve(g_libc.open, "open");
  resolve(g_libc.open64, "open64");
  resolve(g_libc.openat, "openat");
  resolve(g_libc.openat64, "openat64");
  resolve(g_libc.open_2, "__open_2");
  resolve(g_libc.open64_2, "__open64_2");
  resolve(g_libc.openat_2, "__openat_2");
  resolve(g_libc.openat64_2, "__openat64_2");
  resolve(g_libc.close, "close");
  resolve(g_libc.close_range, "close_range");
  resolve(g_libc.closefrom, "closefrom");
  resolve(g_libc.dup, "dup");
  resolve(g_libc.dup2, "dup2");
  resolve(g_libc.dup3, "dup3");
  resolve(g_libc.read, "read");
  resolve(g_libc.read_chk, "__read_chk");
  resolve(g_libc.write, "write");
  resolve(g_libc.ioctl, "ioctl");
  resolve(g_libc.fcntl, "fcntl");
  resolve(g_libc.fcntl64, "fcntl64");
  resolve(g_libc.fsync, "fsync");
  resolve(g_libc.poll, "poll");
  resolve(g_libc.poll_chk, "__poll_chk");
  resolve(g_libc.ppoll, "ppoll");
  resolve(g_libc.ppoll_chk, "__ppoll_chk");
  resolve(g_libc.select, "select");
  resolve(g_libc.pselect, "pselect");
  if (!g_libc.fcntl64) g_libc.fcntl64 = g_libc.fcntl;  // glibc < 2.28
}

}  // namespace

const LibcReal& libc() {
  pthread_once(&g_once, resolveAll);
  return g_libc;
}

void debugLine(const char* format, ...) {
  const char* setting = std::getenv("MESIM_PRELOAD_DEBUG");
  if (!setting || std::strcmp(setting, "0") == 0) return;
  char line[512];
  int used = std::snprintf(line, sizeof line, "mesim-preload[%d]: ", static_cast<int>(getpid()));
  va_list args;
  va_start(args, format);
  int more = std::vsnprintf(line + used, sizeof line - used - 1, format, args);
  va_end(args);
  std::size_t length = static_cast<std::size_t>(used) + (more > 0 ? static_cast<std::size_t>(more) : 0u);
  if (length > sizeof line - 2) length = sizeof line - 2;
  line[length++] = '\n';
  int saved = errno;
  libc().write(2, line, length);
  errno = saved;
}

}  // namespace mesim::preload
