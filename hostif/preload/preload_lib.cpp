// libmesim-preload.so: routes a program's libc calls on /dev/mei0 to the mesim daemon
// (hostif/preload/README.md). The fd the program gets is a SOCK_SEQPACKET socket connected to
// PreloadServer; calls on it become packets (preload_protocol.h) and errno follows the kernel
// driver (spec/mei.md §1.2). Every other fd goes straight to libc after one atomic load.
//
// No C++ runtime: no exceptions, no operator new, no function-local statics (linked with libc only).

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "hostif/preload/libc_real.h"
#include "hostif/preload/preload_channel.h"
#include "hostif/preload/preload_protocol.h"

#define MESIM_EXPORT extern "C" __attribute__((visibility("default")))

// Fortified entry points glibc headers declare only under _FORTIFY_SOURCE.
extern "C" {
int __open_2(const char*, int);
int __open64_2(const char*, int);
int __openat_2(int, const char*, int);
int __openat64_2(int, const char*, int);
ssize_t __read_chk(int, void*, size_t, size_t);
int __poll_chk(pollfd*, nfds_t, int, size_t);
int __ppoll_chk(pollfd*, nfds_t, const timespec*, const sigset_t*, size_t);
}

namespace mesim::preload {
namespace {

constexpr const char* kDefaultDevice = "/dev/mei0";
constexpr int kMaxFd = 1 << 16;  // fds above this are never handed out for the device
constexpr short kAlwaysReported = POLLERR | POLLHUP | POLLNVAL;

template <class T, class... Args>
T* create(Args&&... args) {
  void* memory = std::malloc(sizeof(T));
  return memory ? new (memory) T(std::forward<Args>(args)...) : nullptr;
}

template <class T>
void destroy(T* object) {
  object->~T();
  std::free(object);
}

// ---- the fd table ----
// An entry per fd number that is (or, while a call still runs on it, was) a device fd. The fd
// number is really closed only when no call uses it any more, so it cannot be reused under one.

struct FdEntry {
  Channel* channel;
  int fd;    // -1 once something else (dup2, close_range) closed the number for us
  int refs;  // 1 while in the table, +1 per call in progress
};

std::atomic<FdEntry*> g_fds[kMaxFd];
std::atomic<int> g_tracked{0};
pthread_mutex_t g_tableMu = PTHREAD_MUTEX_INITIALIZER;

class TableLock {
 public:
  TableLock() { pthread_mutex_lock(&g_tableMu); }
  ~TableLock() { pthread_mutex_unlock(&g_tableMu); }
};

bool mayBeTracked(int fd) {
  return g_tracked.load(std::memory_order_acquire) != 0 && fd >= 0 && fd < kMaxFd &&
         g_fds[fd].load(std::memory_order_acquire) != nullptr;
}

FdEntry* acquire(int fd) {
  if (!mayBeTracked(fd)) return nullptr;
  TableLock lock;
  FdEntry* entry = g_fds[fd].load(std::memory_order_relaxed);
  if (entry) ++entry->refs;
  return entry;
}

void release(FdEntry* entry) {
  if (!entry) return;
  Channel* orphan = nullptr;
  bool last;
  {
    TableLock lock;
    last = --entry->refs == 0;
    if (last && --entry->channel->entries == 0) orphan = entry->channel;
  }
  if (!last) return;
  int saved = errno;
  if (entry->fd >= 0) libc().close(entry->fd);
  errno = saved;
  destroy(entry);
  if (orphan) destroy(orphan);
}

// A call in progress on a device fd holds its entry.
class Tracked {
 public:
  explicit Tracked(int fd) : entry_(acquire(fd)) {}
  ~Tracked() { release(entry_); }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
  explicit operator bool() const { return entry_ != nullptr; }
  Channel& channel() const { return *entry_->channel; }
  FdEntry* entry() const { return entry_; }

 private:
  FdEntry* entry_;
};

// Adds `fd` as another number for `channel` (open, dup). False if the table cannot hold it.
bool track(int fd, Channel* channel) {
  if (fd < 0 || fd >= kMaxFd) return false;
  FdEntry* entry = create<FdEntry>(FdEntry{channel, fd, 1});
  if (!entry) return false;
  FdEntry* stale;
  {
    TableLock lock;
    ++channel->entries;
    ++channel->fdRefs;
    stale = g_fds[fd].exchange(entry, std::memory_order_acq_rel);
    if (stale) {
      // The program closed this number behind our back (a raw syscall): it is not ours to close.
      stale->fd = -1;
      --stale->channel->fdRefs;
    } else {
      g_tracked.fetch_add(1, std::memory_order_release);
    }
  }
  release(stale);
  return true;
}

// Removes `fd` from the table; the caller owns the table's reference (release it).
// `lastNumber` tells whether it was the channel's last fd number in this process.
FdEntry* untrack(int fd, bool& lastNumber) {
  lastNumber = false;
  if (!mayBeTracked(fd)) return nullptr;
  TableLock lock;
  FdEntry* entry = g_fds[fd].exchange(nullptr, std::memory_order_acq_rel);
  if (!entry) return nullptr;
  g_tracked.fetch_sub(1, std::memory_order_release);
  lastNumber = --entry->channel->fdRefs == 0;
  return entry;
}

// The kernel's release(): the last close of the open file in the process that opened it tells
// the daemon and waits until the host disconnected (so an immediate re-open can connect again).
// A forked child closing its copy does not end the parent's file.
void closeTracked(FdEntry* entry, bool lastNumber, bool closeNumber) {
  Channel& channel = *entry->channel;
  if (lastNumber && channel.opener() == getpid()) {
    Reply reply;
    channel.call(entry->fd, Channel::Request{Op::Close}, reply);
  }
  if (!closeNumber) {
    TableLock lock;
    entry->fd = -1;
  }
  release(entry);
}

int pollNative(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  return libc().ppoll(fds, count, timeout, mask);
}

// ---- open ----

bool isDevicePath(const char* path) {
  if (!path) return false;
  const char* device = std::getenv("MESIM_PRELOAD_DEVICE");
  if (!device || !*device) device = kDefaultDevice;
  return std::strcmp(path, device) == 0;
}

// MESIM_PRELOAD_SOCKET, else $MESIM_RUNTIME_DIR/preload.sock, else $XDG_RUNTIME_DIR/mesim/preload.sock,
// else /run/mesim/preload.sock.
bool socketAddress(sockaddr_un& addr, socklen_t& length) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  const char* value;
  int n;
  if ((value = std::getenv("MESIM_PRELOAD_SOCKET")) && *value) {
    n = std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", value);
  } else if ((value = std::getenv("MESIM_RUNTIME_DIR")) && *value) {
    n = std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/preload.sock", value);
  } else if ((value = std::getenv("XDG_RUNTIME_DIR")) && *value) {
    n = std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/mesim/preload.sock", value);
  } else {
    n = std::snprintf(addr.sun_path, sizeof addr.sun_path, "/run/mesim/preload.sock");
  }
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof addr.sun_path) return false;
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + static_cast<std::size_t>(n) + 1);
  return true;
}

int openDevice(const char* path, int flags) {
  sockaddr_un addr;
  socklen_t length = 0;
  if (!socketAddress(addr, length)) {
    debugLine("%s: daemon socket path too long; reporting ENOENT", path);
    errno = ENOENT;
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
  if (fd < 0) return -1;  // EMFILE/ENFILE as open would report them
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    debugLine("%s: cannot reach the mesim daemon at %s (%s); reporting ENOENT", path, addr.sun_path,
              std::strerror(errno));
    libc().close(fd);
    errno = ENOENT;  // as if the device node were missing
    return -1;
  }
  Channel* channel = create<Channel>((flags & O_NONBLOCK) != 0, getpid());
  if (!channel || !track(fd, channel)) {
    if (channel) destroy(channel);
    libc().close(fd);
    errno = channel ? EMFILE : ENOMEM;
    return -1;
  }

  int err;
  {
    Tracked call(fd);
    Reply reply;
    err = channel->call(fd, Channel::Request{Op::Open, 0, kProtocolVersion}, reply);
    if (err == 0 && reply.result < 0) err = -reply.result;
  }
  if (err != 0) {
    debugLine("%s: the daemon refused the open: %s", path, std::strerror(err));
    bool lastNumber;
    release(untrack(fd, lastNumber));  // no CLOSE: nothing was opened
    errno = err;
    return -1;
  }
  debugLine("%s: opened as fd %d via %s", path, fd, addr.sun_path);
  return fd;
}

int modeArg(int flags, va_list args) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(args, int) : 0;
}

// ---- read / write / ioctl ----

ssize_t fail(int err) {
  errno = err;
  return -1;
}

ssize_t deviceRead(int fd, Channel& channel, void* buffer, std::size_t length) {
  if (length != 0 && !buffer) return fail(EMSGSIZE);
  Channel::Request request{Op::Read, static_cast<std::uint16_t>(channel.nonblocking() ? kNonBlocking : 0),
                           static_cast<std::uint32_t>(length > UINT32_MAX ? UINT32_MAX : length)};
  request.out = buffer;
  request.outCapacity = length;
  request.interruptible = true;
  Reply reply;
  if (int err = channel.call(fd, request, reply)) return fail(err);
  if (reply.result < 0) return fail(-reply.result);
  return static_cast<ssize_t>(reply.payloadLength);
}

ssize_t deviceWrite(int fd, Channel& channel, const void* buffer, std::size_t length) {
  if (length > kMaxData) return fail(EFBIG);  // beyond any client's max_msg_length
  if (length != 0 && !buffer) return fail(EFAULT);
  Channel::Request request{Op::Write, static_cast<std::uint16_t>(channel.nonblocking() ? kNonBlocking : 0)};
  request.data = buffer;
  request.length = length;
  request.interruptible = true;
  Reply reply;
  if (int err = channel.call(fd, request, reply)) return fail(err);
  if (reply.result < 0) return fail(-reply.result);
  return reply.result;
}

int deviceConnect(int fd, Channel& channel, void* arg, bool vtag) {
  if (!arg) return static_cast<int>(fail(EFAULT));
  Channel::Request request{vtag ? Op::ConnectVtag : Op::Connect};
  request.data = arg;
  request.length = vtag ? sizeof(mei_connect_client_vtag) : sizeof(mei_connect_client_data::in_client_uuid);
  mei_client client;
  request.out = &client;
  request.outCapacity = sizeof client;
  Reply reply;
  if (int err = channel.call(fd, request, reply)) return static_cast<int>(fail(err));
  if (reply.result < 0) return static_cast<int>(fail(-reply.result));
  if (reply.payloadLength != sizeof client) return static_cast<int>(fail(EIO));
  std::memcpy(arg, &client, sizeof client);  // the union's out_client_properties; the rest stays
  return 0;
}

int deviceIoctl(int fd, Channel& channel, unsigned long request, void* arg) {
  switch (request) {
    case FIONBIO:  // handled by the VFS for every file
      if (!arg) return static_cast<int>(fail(EFAULT));
      channel.setNonblocking(*static_cast<int*>(arg) != 0);
      return 0;
    case FIOCLEX:
    case FIONCLEX:
      return libc().ioctl(fd, request, arg);
    case IOCTL_MEI_CONNECT_CLIENT:
      return deviceConnect(fd, channel, arg, false);
    case IOCTL_MEI_CONNECT_CLIENT_VTAG:
      return deviceConnect(fd, channel, arg, true);
    case IOCTL_MEI_NOTIFY_SET: {
      if (!arg) return static_cast<int>(fail(EFAULT));
      std::uint32_t enable;
      std::memcpy(&enable, arg, sizeof enable);
      Reply reply;
      if (int err = channel.call(fd, Channel::Request{Op::NotifySet, 0, enable}, reply))
        return static_cast<int>(fail(err));
      if (reply.result < 0) return static_cast<int>(fail(-reply.result));
      return 0;
    }
    case IOCTL_MEI_NOTIFY_GET: {
      if (!arg) return static_cast<int>(fail(EFAULT));
      Channel::Request call{Op::NotifyGet, static_cast<std::uint16_t>(channel.nonblocking() ? kNonBlocking : 0)};
      call.interruptible = true;
      Reply reply;
      if (int err = channel.call(fd, call, reply)) return static_cast<int>(fail(err));
      if (reply.result < 0) return static_cast<int>(fail(-reply.result));
      std::memcpy(arg, &reply.arg, sizeof reply.arg);
      return 0;
    }
    default:
      return static_cast<int>(fail(ENOTTY));  // -ENOIOCTLCMD, as the VFS reports it
  }
}

// ---- poll ----

struct Armed {
  int fd;
  FdEntry* entry;
  short events;
  short revents = 0;
  bool armed = false;
  Waiter waiter;
};

timespec monotonicNow() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now;
}

long long nanosBetween(const timespec& from, const timespec& to) {
  return (to.tv_sec - from.tv_sec) * 1000000000LL + (to.tv_nsec - from.tv_nsec);
}

// poll/ppoll with device fds among `fds`: each device fd gets a PollArm (the daemon answers with
// its current readiness, later with a PollEvent), then the real ppoll waits on every fd, the
// device's socket standing for the device.
int pollDevices(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  Armed* armed = nullptr;
  std::size_t armedCount = 0;
  for (nfds_t i = 0; i < count; ++i) {
    if (fds[i].fd < 0 || !mayBeTracked(fds[i].fd)) continue;
    if (!armed) armed = static_cast<Armed*>(std::calloc(count, sizeof(Armed)));
    if (!armed) return static_cast<int>(fail(ENOMEM));
    std::size_t k = 0;
    while (k < armedCount && armed[k].fd != fds[i].fd) ++k;
    if (k < armedCount) {
      armed[k].events = static_cast<short>(armed[k].events | fds[i].events);
      continue;
    }
    FdEntry* entry = acquire(fds[i].fd);
    if (!entry) continue;
    Armed* added = new (&armed[armedCount++]) Armed{};
    added->fd = fds[i].fd;
    added->entry = entry;
    added->events = fds[i].events;
  }
  if (armedCount == 0) {
    std::free(armed);
    return pollNative(fds, count, timeout, mask);
  }

  pollfd* native = static_cast<pollfd*>(std::malloc(count * sizeof(pollfd)));
  if (!native) {
    for (std::size_t k = 0; k < armedCount; ++k) release(armed[k].entry);
    std::free(armed);
    return static_cast<int>(fail(ENOMEM));
  }
  const void* owner = native;  // this call; PollEvents for it are left for it by other threads

  for (std::size_t k = 0; k < armedCount; ++k) {
    Armed& a = armed[k];
    Channel& channel = *a.entry->channel;
    a.waiter.seq = channel.nextSeq();
    a.waiter.owner = owner;
    a.waiter.wantsEvent = true;
    channel.add(a.waiter);
    a.armed = channel.send(a.fd, Op::PollArm, 0, a.waiter.seq, static_cast<std::uint16_t>(a.events), nullptr, 0) == 0;
    if (!a.armed) a.revents = POLLERR | POLLHUP;
  }
  for (std::size_t k = 0; k < armedCount; ++k) {
    Armed& a = armed[k];
    if (!a.armed) continue;
    if (a.entry->channel->waitReply(a.fd, a.waiter, false) != 0) {
      a.revents = POLLERR | POLLHUP;
      a.armed = false;
    } else {
      a.revents = static_cast<short>(a.waiter.reply.result);
    }
  }

  timespec deadline{};
  if (timeout) {
    deadline = monotonicNow();
    deadline.tv_sec += timeout->tv_sec;
    deadline.tv_nsec += timeout->tv_nsec;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec += 1;
      deadline.tv_nsec -= 1000000000L;
    }
  }
  int result;
  for (;;) {
    bool deviceReady = false;
    for (std::size_t k = 0; k < armedCount; ++k) {
      Armed& a = armed[k];
      if (a.revents == 0 && a.armed) a.revents = a.entry->channel->takeEvent(a.waiter);
      deviceReady = deviceReady || a.revents != 0;
    }
    std::memcpy(native, fds, count * sizeof(pollfd));
    for (nfds_t i = 0; i < count; ++i) {
      for (std::size_t k = 0; k < armedCount; ++k) {
        if (armed[k].fd == native[i].fd) native[i].events = POLLIN;  // the socket: a packet arrived
      }
    }

    timespec slice{};
    const timespec* wait = &slice;  // zero: a device fd is ready, only collect the others
    if (!deviceReady) {
      if (timeout) {
        long long left = nanosBetween(monotonicNow(), deadline);
        if (left < 0) left = 0;
        slice.tv_sec = static_cast<time_t>(left / 1000000000LL);
        slice.tv_nsec = static_cast<long>(left % 1000000000LL);
      } else {
        wait = nullptr;
      }
    }
    int n = pollNative(native, count, wait, mask);
    if (n < 0) {
      result = -1;  // EINTR included: poll is never restarted
      break;
    }

    bool blockedByOther = false;
    for (std::size_t k = 0; k < armedCount; ++k) {
      Armed& a = armed[k];
      if (!a.armed || a.revents != 0) continue;
      bool socketActive = false;
      for (nfds_t i = 0; i < count; ++i) socketActive = socketActive || (native[i].fd == a.fd && native[i].revents);
      if (!socketActive) continue;
      if (a.entry->channel->drain(a.fd, owner) == Channel::Head::Deferred) blockedByOther = true;
      a.revents = a.entry->channel->takeEvent(a.waiter);
    }

    result = 0;
    for (nfds_t i = 0; i < count; ++i) {
      short revents = native[i].revents;
      for (std::size_t k = 0; k < armedCount; ++k) {
        if (armed[k].fd == fds[i].fd)
          revents = static_cast<short>(armed[k].revents & (fds[i].events | kAlwaysReported));
      }
      fds[i].revents = revents;
      if (revents) ++result;
    }
    if (result > 0 || deviceReady) break;
    if (timeout && nanosBetween(monotonicNow(), deadline) <= 0) break;
    if (blockedByOther) {
      // Another thread's reply or poll() event heads the socket; that thread takes it in a moment.
      timespec pause{0, 1000000};
      nanosleep(&pause, nullptr);
    }
  }

  int saved = errno;
  for (std::size_t k = 0; k < armedCount; ++k) {
    Armed& a = armed[k];
    Channel& channel = *a.entry->channel;
    // Still armed at the daemon (nothing ready yet): drop the arm so it sends no late event.
    if (a.armed && a.waiter.replied && a.waiter.reply.result == 0 && !a.waiter.evented) {
      channel.send(a.fd, Op::Cancel, 0, channel.nextSeq(), a.waiter.seq, nullptr, 0);
    }
    channel.remove(a.waiter);
    release(a.entry);
  }
  std::free(native);
  std::free(armed);
  errno = saved;
  return result;
}

bool anyTracked(const pollfd* fds, nfds_t count) {
  if (g_tracked.load(std::memory_order_acquire) == 0) return false;
  for (nfds_t i = 0; i < count; ++i) {
    if (mayBeTracked(fds[i].fd)) return true;
  }
  return false;
}

// select/pselect over pollDevices, with the kernel's POLLIN_SET/POLLOUT_SET/POLLEX_SET mapping.
// Returns false (leaving the call to libc) when no device fd is in the sets.
bool selectDevices(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, const timespec* timeout,
                   const sigset_t* mask, int& result) {
  if (g_tracked.load(std::memory_order_acquire) == 0 || nfds <= 0) return false;
  if (nfds > FD_SETSIZE) nfds = FD_SETSIZE;
  auto inSet = [](fd_set* set, int fd) { return set && FD_ISSET(fd, set); };
  bool involved = false;
  nfds_t count = 0;
  for (int fd = 0; fd < nfds; ++fd) {
    if (!inSet(readfds, fd) && !inSet(writefds, fd) && !inSet(exceptfds, fd)) continue;
    ++count;
    involved = involved || mayBeTracked(fd);
  }
  if (!involved) return false;

  pollfd* fds = static_cast<pollfd*>(std::calloc(count, sizeof(pollfd)));
  if (!fds) {
    result = static_cast<int>(fail(ENOMEM));
    return true;
  }
  nfds_t k = 0;
  for (int fd = 0; fd < nfds; ++fd) {
    short events = static_cast<short>((inSet(readfds, fd) ? POLLIN : 0) | (inSet(writefds, fd) ? POLLOUT : 0) |
                                      (inSet(exceptfds, fd) ? POLLPRI : 0));
    if (events) fds[k++] = pollfd{fd, events, 0};
  }
  int n = pollDevices(fds, count, timeout, mask);
  if (n >= 0) {
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents & POLLNVAL) {
        std::free(fds);
        result = static_cast<int>(fail(EBADF));
        return true;
      }
    }
    if (readfds) FD_ZERO(readfds);
    if (writefds) FD_ZERO(writefds);
    if (exceptfds) FD_ZERO(exceptfds);
    n = 0;
    for (nfds_t i = 0; i < count; ++i) {
      const pollfd& p = fds[i];
      if (readfds && (p.events & POLLIN) && (p.revents & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR))) {
        FD_SET(p.fd, readfds);
        ++n;
      }
      if (writefds && (p.events & POLLOUT) && (p.revents & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR))) {
        FD_SET(p.fd, writefds);
        ++n;
      }
      if (exceptfds && (p.events & POLLPRI) && (p.revents & POLLPRI)) {
        FD_SET(p.fd, exceptfds);
        ++n;
      }
    }
  }
  std::free(fds);
  result = n;
  return true;
}

// dup and friends: the new number is one more name for the same open file.
int afterDup(int newFd, FdEntry* from) {
  if (newFd >= 0 && from && !track(newFd, from->channel)) {
    libc().close(newFd);
    return static_cast<int>(fail(EMFILE));
  }
  return newFd;
}

// A number that libc is about to close for us (dup2 target, close_range): end it our way first.
void forgetBeforeNativeClose(int fd) {
  bool lastNumber;
  if (FdEntry* entry = untrack(fd, lastNumber)) closeTracked(entry, lastNumber, false);
}

void atforkPrepare() { pthread_mutex_lock(&g_tableMu); }
void atforkRelease() { pthread_mutex_unlock(&g_tableMu); }

__attribute__((constructor)) void initialize() {
  libc();
  pthread_atfork(atforkPrepare, atforkRelease, atforkRelease);
}

}  // namespace
}  // namespace mesim::preload

using namespace mesim::preload;

// ---------------------------------------------------------------------------------------------
// The interposed libc functions. Each one costs an untracked fd a single atomic load.

MESIM_EXPORT int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  int mode = modeArg(flags, args);
  va_end(args);
  return isDevicePath(path) ? openDevice(path, flags) : libc().open(path, flags, mode);
}

MESIM_EXPORT int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  int mode = modeArg(flags, args);
  va_end(args);
  return isDevicePath(path) ? openDevice(path, flags) : libc().open64(path, flags, mode);
}

static bool isDeviceAt(int dirfd, const char* path) {
  return path && (path[0] == '/' || dirfd == AT_FDCWD) && isDevicePath(path);
}

MESIM_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  int mode = modeArg(flags, args);
  va_end(args);
  if (isDeviceAt(dirfd, path)) return openDevice(path, flags);
  return libc().openat(dirfd, path, flags, mode);
}

MESIM_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  int mode = modeArg(flags, args);
  va_end(args);
  if (isDeviceAt(dirfd, path)) return openDevice(path, flags);
  return libc().openat64(dirfd, path, flags, mode);
}

MESIM_EXPORT int __open_2(const char* path, int flags) {
  return isDevicePath(path) ? openDevice(path, flags) : libc().open_2(path, flags);
}
MESIM_EXPORT int __open64_2(const char* path, int flags) {
  return isDevicePath(path) ? openDevice(path, flags) : libc().open64_2(path, flags);
}
MESIM_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  return isDeviceAt(dirfd, path) ? openDevice(path, flags) : libc().openat_2(dirfd, path, flags);
}
MESIM_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  return isDeviceAt(dirfd, path) ? openDevice(path, flags) : libc().openat64_2(dirfd, path, flags);
}

MESIM_EXPORT int close(int fd) {
  bool lastNumber;
  FdEntry* entry = untrack(fd, lastNumber);
  if (!entry) return libc().close(fd);
  closeTracked(entry, lastNumber, true);
  return 0;
}

MESIM_EXPORT int close_range(unsigned first, unsigned last, int flags) __THROW {
  if (!libc().close_range) return static_cast<int>(fail(ENOSYS));
  if (!(flags & CLOSE_RANGE_CLOEXEC) && g_tracked.load(std::memory_order_acquire) != 0) {
    for (unsigned fd = first; fd <= last && fd < static_cast<unsigned>(kMaxFd); ++fd) {
      forgetBeforeNativeClose(static_cast<int>(fd));
    }
  }
  return libc().close_range(first, last, flags);
}

MESIM_EXPORT void closefrom(int lowest) __THROW {
  if (lowest < 0) lowest = 0;
  if (g_tracked.load(std::memory_order_acquire) != 0) {
    for (int fd = lowest; fd < kMaxFd; ++fd) forgetBeforeNativeClose(fd);
  }
  if (libc().closefrom) libc().closefrom(lowest);
}

MESIM_EXPORT int dup(int fd) __THROW {
  Tracked from(fd);
  return afterDup(libc().dup(fd), from.entry());
}

MESIM_EXPORT int dup2(int fd, int target) __THROW {
  if (fd == target || (!mayBeTracked(fd) && !mayBeTracked(target))) return libc().dup2(fd, target);
  Tracked from(fd);
  if (from || libc().fcntl(fd, F_GETFD) >= 0)
    forgetBeforeNativeClose(target);  // dup2 fails on a bad fd, closing nothing
  return afterDup(libc().dup2(fd, target), from.entry());
}

MESIM_EXPORT int dup3(int fd, int target, int flags) __THROW {
  if (fd == target || (!mayBeTracked(fd) && !mayBeTracked(target))) return libc().dup3(fd, target, flags);
  Tracked from(fd);
  if (from || libc().fcntl(fd, F_GETFD) >= 0) forgetBeforeNativeClose(target);
  return afterDup(libc().dup3(fd, target, flags), from.entry());
}

MESIM_EXPORT ssize_t read(int fd, void* buffer, size_t length) {
  Tracked device(fd);
  if (!device) return libc().read(fd, buffer, length);
  return deviceRead(fd, device.channel(), buffer, length);
}

MESIM_EXPORT ssize_t __read_chk(int fd, void* buffer, size_t length, size_t bufferLength) {
  if (length > bufferLength || !mayBeTracked(fd)) return libc().read_chk(fd, buffer, length, bufferLength);
  return read(fd, buffer, length);
}

MESIM_EXPORT ssize_t write(int fd, const void* buffer, size_t length) {
  Tracked device(fd);
  if (!device) return libc().write(fd, buffer, length);
  return deviceWrite(fd, device.channel(), buffer, length);
}

MESIM_EXPORT int fsync(int fd) {
  Tracked device(fd);
  if (!device) return libc().fsync(fd);
  Reply reply;
  if (int err = device.channel().call(fd, Channel::Request{Op::Fsync}, reply)) return static_cast<int>(fail(err));
  if (reply.result < 0) return static_cast<int>(fail(-reply.result));
  return 0;
}

MESIM_EXPORT int ioctl(int fd, unsigned long request, ...) __THROW {
  va_list args;
  va_start(args, request);
  void* arg = va_arg(args, void*);
  va_end(args);
  Tracked device(fd);
  if (!device) return libc().ioctl(fd, request, arg);
  return deviceIoctl(fd, device.channel(), request, arg);
}

static int fcntlCommon(int (*real)(int, int, ...), int fd, int command, void* arg) {
  Tracked device(fd);
  if (!device) return real(fd, command, arg);
  switch (command) {
    case F_GETFL: {
      int flags = real(fd, F_GETFL);
      if (flags < 0) return flags;
      return (flags & ~O_NONBLOCK) | (device.channel().nonblocking() ? O_NONBLOCK : 0);
    }
    case F_SETFL: {
      // O_NONBLOCK is the device's (read/write/NOTIFY_GET decide EAGAIN on it); the socket stays blocking.
      int flags = static_cast<int>(reinterpret_cast<std::intptr_t>(arg));
      int rc = real(fd, F_SETFL, flags & ~O_NONBLOCK);
      if (rc == 0) device.channel().setNonblocking((flags & O_NONBLOCK) != 0);
      return rc;
    }
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return afterDup(real(fd, command, arg), device.entry());
    default:
      return real(fd, command, arg);
  }
}

MESIM_EXPORT int fcntl(int fd, int command, ...) {
  va_list args;
  va_start(args, command);
  void* arg = va_arg(args, void*);
  va_end(args);
  return fcntlCommon(libc().fcntl, fd, command, arg);
}

MESIM_EXPORT int fcntl64(int fd, int command, ...) {
  va_list args;
  va_start(args, command);
  void* arg = va_arg(args, void*);
  va_end(args);
  return fcntlCommon(libc().fcntl64, fd, command, arg);
}

// glibc marks poll's array write-only (__attr_access), yet `events` is input: GCC -O0 warns on reading it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

MESIM_EXPORT int poll(pollfd* fds, nfds_t count, int timeoutMs) {
  if (!anyTracked(fds, count)) return libc().poll(fds, count, timeoutMs);
  timespec timeout{timeoutMs / 1000, (timeoutMs % 1000) * 1000000L};
  return pollDevices(fds, count, timeoutMs < 0 ? nullptr : &timeout, nullptr);
}

MESIM_EXPORT int __poll_chk(pollfd* fds, nfds_t count, int timeoutMs, size_t fdsLength) {
  if (fdsLength / sizeof(pollfd) < count) return libc().poll_chk(fds, count, timeoutMs, fdsLength);
  return poll(fds, count, timeoutMs);
}

MESIM_EXPORT int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  if (!anyTracked(fds, count)) return libc().ppoll(fds, count, timeout, mask);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L)) {
    return static_cast<int>(fail(EINVAL));
  }
  return pollDevices(fds, count, timeout, mask);
}

#pragma GCC diagnostic pop

MESIM_EXPORT int __ppoll_chk(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask,
                             size_t fdsLength) {
  if (fdsLength / sizeof(pollfd) < count) return libc().ppoll_chk(fds, count, timeout, mask, fdsLength);
  return ppoll(fds, count, timeout, mask);
}

MESIM_EXPORT int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout) {
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_usec < 0)) return static_cast<int>(fail(EINVAL));
  timespec limit{};
  if (timeout) {
    limit.tv_sec = timeout->tv_sec + timeout->tv_usec / 1000000;
    limit.tv_nsec = (timeout->tv_usec % 1000000) * 1000L;
  }
  timespec started = monotonicNow();
  int result;
  if (!selectDevices(nfds, readfds, writefds, exceptfds, timeout ? &limit : nullptr, nullptr, result)) {
    return libc().select(nfds, readfds, writefds, exceptfds, timeout);
  }
  if (timeout) {  // Linux reports the time left
    long long left = nanosBetween(started, monotonicNow());
    left = limit.tv_sec * 1000000000LL + limit.tv_nsec - left;
    if (left < 0) left = 0;
    timeout->tv_sec = static_cast<time_t>(left / 1000000000LL);
    timeout->tv_usec = static_cast<suseconds_t>((left % 1000000000LL) / 1000);
  }
  return result;
}

MESIM_EXPORT int pselect(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, const timespec* timeout,
                         const sigset_t* mask) {
  int result;
  if (!selectDevices(nfds, readfds, writefds, exceptfds, timeout, mask, result)) {
    return libc().pselect(nfds, readfds, writefds, exceptfds, timeout, mask);
  }
  return result;
}
