// What the console typed and a host that reads at its own pace (PTY, Unix socket) has not taken yet: the bytes in
// order, the flow-control marks of serial_port_host.h, the gathered writes, and the drained callback. One queue
// for both hosts, so that they hold the console back alike; each keeps only its descriptor and its write loop.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>

#include "wsman/redirection/serial_port_host.h"

namespace mesim::wsman::redirection {

class SerialHostQueue {
 public:
  explicit SerialHostQueue(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  ~SerialHostQueue() { *alive_ = false; }
  SerialHostQueue(const SerialHostQueue&) = delete;
  SerialHostQueue& operator=(const SerialHostQueue&) = delete;

  // Queues `bytes`; false (nothing queued) past kHostQueueLimit, for a caller that ignored full().
  bool push(std::string_view bytes);
  // From the high-water mark on (serial_port_host.h).
  bool full() const { return bytes_ >= kHostQueueHighWater; }
  bool empty() const { return chunks_.empty(); }
  std::size_t bytes() const { return bytes_; }
  // The first chunks as one gathered write: a paste comes as many small 0x28 messages, and a write per message made
  // the host's descriptor the bottleneck (bench_redirection). They stay in place until written().
  std::vector<boost::asio::const_buffer> batch() const;
  // The first `count` chunks are written.
  void written(std::size_t count);
  // The host went away: everything queued is dropped (returned: how many bytes).
  std::size_t clear();
  // Posted on the executor, never run inside push/written/clear, when a full queue is down to its low-water mark.
  void setOnDrained(std::function<void()> callback) { onDrained_ = std::move(callback); }

 private:
  void checkDrained();

  boost::asio::any_io_executor executor_;
  std::deque<std::string> chunks_;  // a deque's push_back leaves the chunks of a batch in place
  std::size_t bytes_ = 0;
  bool wasFull_ = false;  // the drained callback is owed once the queue is down to its low-water mark
  std::function<void()> onDrained_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::wsman::redirection
