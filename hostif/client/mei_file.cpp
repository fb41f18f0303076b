#include "hostif/client/mei_file.h"

#include <cerrno>
#include <condition_variable>
#include <future>
#include <mutex>

#include <boost/asio/post.hpp>

namespace mesim::client {

namespace {
// Replies from the loop usually come within microseconds; spinning that long before sleeping saves
// the cost of a futex sleep and wake-up on each call, which dominates a blocking round trip.
template <typename T>
bool spinUntilReady(const std::future<T>& future) {
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() >= until) return false;
  }
  return true;
}
template <typename T>
T getSoon(std::future<T>& future) {
  spinUntilReady(future);
  return future.get();
}
}  // namespace

template <typename F>
auto MeiFile::onLoop(F&& f) {
  using R = decltype(f());
  // The promise is shared so the loop thread never touches a promise this thread already dropped.
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  boost::asio::post(io_, [&f, promise] { promise->set_value(f()); });
  return getSoon(future);
}

MeiFile::~MeiFile() { close(); }

int MeiFile::open() {
  if (open_) return EBUSY;
  int err = onLoop([&] { return host_.open(file_); });
  open_ = err == 0;
  return err;
}

void MeiFile::close() {
  if (!open_) return;
  auto closed = std::make_shared<std::promise<void>>();
  auto future = closed->get_future();
  boost::asio::post(io_, [this, closed] { host_.close(file_, [closed] { closed->set_value(); }); });
  future.wait();
  open_ = false;
}

int MeiFile::connect(const hbm::Guid& guid, hbm::ClientProperties* props) {
  auto result = std::make_shared<std::promise<std::pair<int, hbm::ClientProperties>>>();
  auto future = result->get_future();
  boost::asio::post(io_, [this, guid, result] {
    host_.connect(file_, guid, [result](int err, const hbm::ClientProperties& p) { result->set_value({err, p}); });
  });
  auto [err, p] = getSoon(future);
  if (props) *props = p;
  return err;
}

int MeiFile::notifySet(std::uint32_t enable) {
  auto result = std::make_shared<std::promise<int>>();
  auto future = result->get_future();
  boost::asio::post(io_, [this, enable, result] {
    host_.notifySet(file_, enable, [result](int err) { result->set_value(err); });
  });
  return future.get();
}

int MeiFile::notifyGet(std::uint32_t& event, bool nonblocking) {
  auto result = std::make_shared<std::promise<std::pair<int, std::uint32_t>>>();
  auto future = result->get_future();
  boost::asio::post(io_, [this, nonblocking, result] {
    host_.notifyGet(file_, nonblocking, [result](int err, std::uint32_t e) { result->set_value({err, e}); });
  });
  auto [err, e] = future.get();
  event = e;
  return err;
}

int MeiFile::fsync() {
  auto result = std::make_shared<std::promise<int>>();
  auto future = result->get_future();
  boost::asio::post(io_, [this, result] { host_.fsync(file_, [result](int err) { result->set_value(err); }); });
  return getSoon(future);
}

ssize_t MeiFile::write(hbm::ByteView message, bool nonblocking) {
  auto result = std::make_shared<std::promise<ssize_t>>();
  auto future = result->get_future();
  boost::asio::post(io_, [this, bytes = hbm::Bytes(message.begin(), message.end()), nonblocking, result]() mutable {
    host_.write(file_, std::move(bytes), nonblocking, [result](ssize_t r) { result->set_value(r); });
  });
  return getSoon(future);
}

ssize_t MeiFile::read(std::span<std::uint8_t> buffer, bool nonblocking, std::optional<std::chrono::milliseconds> timeout) {
  auto result = std::make_shared<std::promise<std::pair<int, hbm::Bytes>>>();
  auto future = result->get_future();
  // The ticket stays on the loop: a cancel posted later runs after the read was queued (FIFO), so
  // this thread waits only for the data, not for the ticket too.
  auto ticket = std::make_shared<host::Ticket>(0);
  boost::asio::post(io_, [this, length = buffer.size(), nonblocking, result, ticket] {
    *ticket = host_.read(file_, length, nonblocking,
                         [result](int err, hbm::Bytes data) { result->set_value({err, std::move(data)}); });
  });
  bool timedOut = false;
  if (timeout && !spinUntilReady(future) && future.wait_for(*timeout) == std::future_status::timeout) {
    timedOut = true;
    boost::asio::post(io_, [this, ticket] { host_.cancel(*ticket); });
  }
  auto [err, data] = getSoon(future);
  if (timedOut && err == EINTR) return -ETIME;
  if (err) return -err;
  std::copy(data.begin(), data.end(), buffer.begin());
  return static_cast<ssize_t>(data.size());
}

short MeiFile::poll(short events, std::chrono::milliseconds timeout) {
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto woken = std::make_shared<bool>(false);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(state->first);
      *woken = false;
    }
    short revents = onLoop([&] {
      return host_.poll(file_, events, [state, woken] {
        std::lock_guard lock(state->first);
        *woken = true;
        state->second.notify_all();
      });
    });
    if (revents & (events | POLLERR | POLLHUP)) return revents;
    std::unique_lock lock(state->first);
    if (!state->second.wait_until(lock, deadline, [&] { return *woken; })) return 0;
  }
}

}  // namespace mesim::client
