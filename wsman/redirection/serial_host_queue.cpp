#include "wsman/redirection/serial_host_queue.h"

#include <boost/asio/post.hpp>

namespace mesim::wsman::redirection {

namespace {
constexpr std::size_t kMaxWriteBatch = 64;  // chunks per write (writev takes up to 1024)
}  // namespace

bool SerialHostQueue::push(std::string_view bytes) {
  if (bytes_ + bytes.size() > kHostQueueLimit) return false;
  chunks_.emplace_back(bytes);
  bytes_ += bytes.size();
  if (full()) wasFull_ = true;
  return true;
}

std::vector<boost::asio::const_buffer> SerialHostQueue::batch() const {
  std::vector<boost::asio::const_buffer> buffers;
  for (const auto& chunk : chunks_) {
    buffers.push_back(boost::asio::buffer(chunk));
    if (buffers.size() == kMaxWriteBatch) break;
  }
  return buffers;
}

void SerialHostQueue::written(std::size_t count) {
  for (std::size_t i = 0; i < count && !chunks_.empty(); ++i) {
    bytes_ -= chunks_.front().size();
    chunks_.pop_front();
  }
  checkDrained();
}

std::size_t SerialHostQueue::clear() {
  const std::size_t dropped = bytes_;
  chunks_.clear();
  bytes_ = 0;
  checkDrained();  // a console held back for this host goes on
  return dropped;
}

void SerialHostQueue::checkDrained() {
  if (!wasFull_ || bytes_ > kHostQueueLowWater) return;
  wasFull_ = false;
  if (onDrained_) boost::asio::post(executor_, [this, alive = alive_] {
      if (*alive && onDrained_) onDrained_();
    });
}

}  // namespace mesim::wsman::redirection
