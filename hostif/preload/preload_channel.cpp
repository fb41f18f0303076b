#include "hostif/preload/preload_channel.h"

#include <linux/futex.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "hostif/preload/libc_real.h"

namespace mesim::preload {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

// 0, or -1 with errno (EINTR on a signal, EAGAIN when the word already changed).
// With a timeout, so a signal handler ends the wait with EINTR even under SA_RESTART (signal(7)), as the
// kernel's mei_read ends with EINTR whenever a signal is pending. ETIMEDOUT just means "look again".
long futexWait(std::atomic<std::uint32_t>* word, std::uint32_t seen) {
  const timespec oneHour{3600, 0};
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_PRIVATE, seen, &oneHour, nullptr, 0);
}

void futexWakeAll(std::atomic<std::uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

class Locked {
 public:
  explicit Locked(pthread_mutex_t& mu) : mu_(mu) { pthread_mutex_lock(&mu_); }
  ~Locked() { pthread_mutex_unlock(&mu_); }
  void unlock() { pthread_mutex_unlock(&mu_); }
  void lock() { pthread_mutex_lock(&mu_); }

 private:
  pthread_mutex_t& mu_;
};

}  // namespace

Channel::Channel(bool nonblocking, pid_t opener) : nonblocking_(nonblocking), opener_(opener) {}

Channel::~Channel() { pthread_mutex_destroy(&mu_); }

void Channel::add(Waiter& waiter) {
  Locked lock(mu_);
  waiter.next = waiters_;
  waiters_ = &waiter;
}

void Channel::remove(Waiter& waiter) {
  Locked lock(mu_);
  for (Waiter** link = &waiters_; *link; link = &(*link)->next) {
    if (*link == &waiter) {
      *link = waiter.next;
      break;
    }
  }
  wakeAllLocked();  // a packet left queued for this waiter may now be taken (and dropped) by others
}

Waiter* Channel::findLocked(std::uint32_t seq) const {
  for (Waiter* w = waiters_; w; w = w->next) {
    if (w->seq == seq) return w;
  }
  return nullptr;
}

void Channel::wakeAllLocked() {
  generation_.fetch_add(1, std::memory_order_release);
  futexWakeAll(&generation_);
}

void Channel::markDeadLocked() {
  if (!dead_) debugLine("the daemon closed the connection");
  dead_ = true;
}

int Channel::send(int fd, Op op, std::uint16_t flags, std::uint32_t seq, std::uint32_t arg, const void* data,
                  std::size_t length) {
  PacketHeader header;
  header.op = static_cast<std::uint16_t>(op);
  header.flags = flags;
  header.seq = seq;
  header.arg = arg;
  iovec parts[2] = {{&header, sizeof header}, {const_cast<void*>(data), length}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = length ? 2 : 1;
  for (;;) {
    ssize_t n = sendmsg(fd, &message, MSG_NOSIGNAL);
    if (n >= 0) return 0;
    if (errno == EINTR) continue;  // nothing was sent; a packet goes whole or not at all
    int err = errno;
    Locked lock(mu_);
    if (err != EMSGSIZE && err != ENOBUFS && err != ENOMEM) markDeadLocked();
    wakeAllLocked();
    return err == EMSGSIZE ? EFBIG : ENODEV;
  }
}

// Takes the packet at the head of the socket, if this thread may: a packet for nobody (stale) or
// for `owner` always; one for another waiting call only as the receiver (the one thread that
// blocks in recv), and never another poll()'s PollEvent, which wakes that poll() by staying queued.
// So a packet can never be taken away from under the thread blocked in recv waiting for it.
Channel::Head Channel::consumeHeadLocked(int fd, const void* owner, bool receiver) {
  if (dead_) return Head::Dead;
  PacketHeader header;
  ssize_t n;
  do {
    n = recv(fd, &header, sizeof header, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Head::Empty;
  if (n <= 0) {
    markDeadLocked();
    return Head::Dead;
  }

  Waiter* target = n == sizeof header ? findLocked(header.seq) : nullptr;
  const bool isEvent = header.op == static_cast<std::uint16_t>(Op::PollEvent);
  if (target && target->owner != owner) {
    const bool forOtherPoll = isEvent && target->wantsEvent && !target->evented;
    if (!receiver || forOtherPoll) return Head::Deferred;
  }

  // Take it whole: header, then the payload straight into the waiter's buffer (the rest is cut off).
  iovec parts[2] = {{&header, sizeof header}, {nullptr, 0}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = 1;
  if (target && !isEvent && !target->replied && target->outCapacity > 0) {
    parts[1] = {target->out, target->outCapacity};
    message.msg_iovlen = 2;
  }
  do {
    n = recvmsg(fd, &message, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {  // the head was there a moment ago and only we consume: the connection broke
    markDeadLocked();
    return Head::Dead;
  }
  if (static_cast<std::size_t>(n) < sizeof header || !target) return Head::Consumed;  // garbage or stale: dropped
  if (isEvent) {
    if (target->wantsEvent && !target->evented) {
      target->evented = true;
      target->event = header.result;
    }
  } else if (!target->replied) {
    target->replied = true;
    target->reply.result = header.result;
    target->reply.arg = header.arg;
    target->reply.payloadLength = static_cast<std::size_t>(n) - sizeof header;
  }
  return Head::Consumed;
}

int Channel::waitReply(int fd, Waiter& waiter, bool interruptible) {
  bool cancelled = !interruptible;
  Locked lock(mu_);
  while (!waiter.replied && !dead_) {
    std::uint32_t seen = generation_.load(std::memory_order_acquire);
    const bool receiver = !receiving_;
    Head head = consumeHeadLocked(fd, waiter.owner, receiver);
    if (head == Head::Consumed || head == Head::Dead) {
      wakeAllLocked();
      continue;
    }
    bool interrupted = false;
    if (receiver && head == Head::Empty) {
      receiving_ = true;
      lock.unlock();
      // poll, not a blocking recv: poll is never restarted, so a signal ends the wait with EINTR even under
      // SA_RESTART, as a signal does a blocking mei read.
      PacketHeader ignored;
      pollfd ready{fd, POLLIN, 0};
      ssize_t n = libc().poll(&ready, 1, -1) < 0 ? -1 : recv(fd, &ignored, sizeof ignored, MSG_PEEK | MSG_DONTWAIT);
      int err = errno;
      lock.lock();
      receiving_ = false;
      if (n < 0 && err == EINTR) {
        interrupted = true;
      } else if (n == 0 || (n < 0 && err != EAGAIN && err != EWOULDBLOCK)) {
        markDeadLocked();
      }
      wakeAllLocked();  // a packet is there for someone, or the receiver role is free again
    } else {
      // The receiver will take the head packet (or another poll() its event): wait until something changes.
      lock.unlock();
      long rc = futexWait(&generation_, seen);
      int err = errno;
      lock.lock();
      interrupted = rc != 0 && err == EINTR;
    }
    if (interrupted && !cancelled) {
      // Like a signal during a blocking mei read: the daemon ends the call with EINTR (unless it
      // completed meanwhile, then its result counts). Wait for that answer.
      cancelled = true;
      lock.unlock();
      send(fd, Op::Cancel, 0, nextSeq(), waiter.seq, nullptr, 0);
      lock.lock();
    }
  }
  return waiter.replied ? 0 : ENODEV;
}

Channel::Head Channel::drain(int fd, const void* owner) {
  Locked lock(mu_);
  Head head;
  bool consumed = false;
  while ((head = consumeHeadLocked(fd, owner, false)) == Head::Consumed) consumed = true;
  if (consumed || head == Head::Dead) wakeAllLocked();
  return head;
}

short Channel::takeEvent(const Waiter& waiter) {
  Locked lock(mu_);
  if (waiter.evented) return static_cast<short>(waiter.event);
  if (dead_) return POLLERR | POLLHUP;
  return 0;
}

int Channel::call(int fd, const Request& request, Reply& reply) {
  Waiter waiter;
  waiter.seq = nextSeq();
  waiter.owner = &waiter;
  waiter.out = request.out;
  waiter.outCapacity = request.outCapacity;
  {
    Locked lock(mu_);
    if (dead_) return ENODEV;
  }
  add(waiter);
  int err = send(fd, request.op, request.flags, waiter.seq, request.arg, request.data, request.length);
  if (err == 0) err = waitReply(fd, waiter, request.interruptible);
  remove(waiter);
  reply = waiter.reply;
  return err;
}

}  // namespace mesim::preload
