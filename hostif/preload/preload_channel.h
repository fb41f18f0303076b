// One open file of the device as the program sees it: requests and replies over its socket.
//
// Several threads may use one fd at once (LMS keeps a read blocked while another thread writes),
// so replies are matched to waiting calls by seq. Packets are only consumed under the channel's
// mutex. One waiting thread, the receiver, blocks in recv(MSG_PEEK); the others wait on a futex.
// The receiver takes the head packet and hands it to whoever waits for it; the others take only
// their own packets, so none is taken from under the receiver's recv. A PollEvent for a thread
// blocked in poll() stays in the socket for that thread, whose poll() it wakes.
// Both waits end on a signal even under SA_RESTART, as the kernel's mei_read returns EINTR whenever a signal is
// pending.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "hostif/preload/preload_protocol.h"

namespace mesim::preload {

struct Reply {
  std::int32_t result = 0;
  std::uint32_t arg = 0;
  std::size_t payloadLength = 0;  // bytes stored in the caller's buffer
};

// A call waiting for its reply (and, for poll, its PollEvent). Lives on the waiting thread's stack.
struct Waiter {
  std::uint32_t seq = 0;
  const void* owner = nullptr;  // the waiting call; packets for other owners' poll() stay queued
  bool wantsEvent = false;      // a PollArm
  bool replied = false;
  bool evented = false;
  Reply reply;
  std::int32_t event = 0;
  void* out = nullptr;  // where the reply payload goes
  std::size_t outCapacity = 0;
  Waiter* next = nullptr;
};

class Channel {
 public:
  Channel(bool nonblocking, pid_t opener);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  struct Request {
    Op op;
    std::uint16_t flags = 0;
    std::uint32_t arg = 0;
    const void* data = nullptr;
    std::size_t length = 0;
    void* out = nullptr;  // reply payload destination
    std::size_t outCapacity = 0;
    bool interruptible = false;  // a signal sends CANCEL (the daemon then answers EINTR)
  };
  // Sends `request` on `fd` and waits for the reply. 0, or ENODEV when the daemon is gone.
  int call(int fd, const Request& request, Reply& reply);

  // ---- the pieces poll() is made of ----
  std::uint32_t nextSeq() { return seq_.fetch_add(1, std::memory_order_relaxed); }
  void add(Waiter& waiter);
  void remove(Waiter& waiter);  // wakes threads that left a packet for it
  int send(int fd, Op op, std::uint16_t flags, std::uint32_t seq, std::uint32_t arg, const void* data,
           std::size_t length);
  int waitReply(int fd, Waiter& waiter, bool interruptible);
  enum class Head { Empty, Consumed, Deferred, Dead };
  // Takes the queued packets for `owner` (and stale ones); Deferred when one for another call heads the queue.
  Head drain(int fd, const void* owner);
  // Under the mutex: the waiter's PollEvent, or POLLERR|POLLHUP if the daemon is gone; 0 if neither.
  short takeEvent(const Waiter& waiter);

  bool nonblocking() const { return nonblocking_.load(std::memory_order_relaxed); }
  void setNonblocking(bool on) { nonblocking_.store(on, std::memory_order_relaxed); }
  pid_t opener() const { return opener_; }

  // Guarded by the fd table's lock (preload_lib.cpp).
  int entries = 0;  // fd table entries (tracked or closing) pointing here
  int fdRefs = 0;   // tracked fd numbers: the last close sends CLOSE

 private:
  Head consumeHeadLocked(int fd, const void* owner, bool receiver);
  Waiter* findLocked(std::uint32_t seq) const;
  void wakeAllLocked();
  void markDeadLocked();

  pthread_mutex_t mu_ = PTHREAD_MUTEX_INITIALIZER;
  std::atomic<std::uint32_t> generation_{0};  // futex word: bumped whenever a waiter should look again
  bool receiving_ = false;                    // a thread is blocked in recv(MSG_PEEK)
  bool dead_ = false;                         // the daemon closed the connection
  Waiter* waiters_ = nullptr;
  std::atomic<bool> nonblocking_;
  std::atomic<std::uint32_t> seq_{1};
  pid_t opener_;
};

}  // namespace mesim::preload
