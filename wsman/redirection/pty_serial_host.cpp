#include "wsman/redirection/pty_serial_host.h"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "sol-pty";
constexpr std::size_t kMaxWriteBatch = 64;  // chunks per write (writev takes up to 1024)
}  // namespace

Result<std::unique_ptr<PtySerialHost>> PtySerialHost::open(boost::asio::io_context& io, log::Context log) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return fail(std::string("posix_openpt: ") + std::strerror(errno));
  char name[128];
  if (::grantpt(master) != 0 || ::unlockpt(master) != 0 || ::ptsname_r(master, name, sizeof name) != 0) {
    const std::string why = std::strerror(errno);
    ::close(master);
    return fail("cannot set up the PTY: " + why);
  }
  const int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    const std::string why = std::strerror(errno);
    ::close(master);
    return fail(std::string("cannot open ") + name + ": " + why);
  }
  termios raw{};
  if (::tcgetattr(slave, &raw) == 0) {
    ::cfmakeraw(&raw);
    ::tcsetattr(slave, TCSANOW, &raw);
  }
  return std::unique_ptr<PtySerialHost>(new PtySerialHost(io, master, slave, name, std::move(log)));
}

PtySerialHost::PtySerialHost(boost::asio::io_context& io, int master, int slave, std::string slavePath,
                             log::Context log)
    : master_(io, master), slave_(slave), slavePath_(std::move(slavePath)), log_(std::move(log)) {
  MESIM_LOG(Info, kLog, "SOL host serial port: " << slavePath_);
  read();
}

PtySerialHost::~PtySerialHost() {
  *alive_ = false;
  boost::system::error_code ignored;
  master_.close(ignored);
  if (slave_ >= 0) ::close(slave_);
}

void PtySerialHost::read() {
  master_.async_read_some(boost::asio::buffer(readBuffer_),
                          [this, alive = alive_](boost::system::error_code ec, std::size_t n) {
                            if (!*alive || ec == boost::asio::error::operation_aborted) return;
                            if (ec) {
                              MESIM_LOG(Warn, kLog, "reading the PTY failed: " << ec.message());
                              return;
                            }
                            if (sink_) sink_(std::string_view(readBuffer_, n));
                            read();
                          });
}

void PtySerialHost::toHost(std::string_view bytes) {
  if (bytes.empty()) return;
  if (pendingBytes_ + bytes.size() > kHostQueueLimit) {
    MESIM_LOG(Debug, kLog, "the host reads nothing: " << bytes.size() << " byte(s) from the console dropped");
    return;
  }
  pending_.emplace_back(bytes);
  pendingBytes_ += bytes.size();
  if (full()) wasFull_ = true;
  if (!writing_) writeNext();
}

bool PtySerialHost::full() const { return pendingBytes_ >= kHostQueueHighWater; }

void PtySerialHost::checkDrained() {
  if (!wasFull_ || pendingBytes_ > kHostQueueLowWater) return;
  wasFull_ = false;
  if (onDrained_) boost::asio::post(master_.get_executor(), [this, alive = alive_] {
      if (*alive && onDrained_) onDrained_();
    });
}

void PtySerialHost::writeNext() {
  if (pending_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  // What is queued goes in one gathered write: a paste comes as many small 0x28 messages, and a write per message
  // made the PTY the bottleneck (bench_redirection). The chunks stay put meanwhile (a deque's push_back does not
  // move its elements).
  std::vector<boost::asio::const_buffer> batch;
  for (const auto& chunk : pending_) {
    batch.push_back(boost::asio::buffer(chunk));
    if (batch.size() == kMaxWriteBatch) break;
  }
  boost::asio::async_write(master_, batch,
                           [this, alive = alive_, count = batch.size()](boost::system::error_code ec, std::size_t) {
                             if (!*alive || ec == boost::asio::error::operation_aborted) return;
                             for (std::size_t i = 0; i < count; ++i) {
                               pendingBytes_ -= pending_.front().size();
                               pending_.pop_front();
                             }
                             if (ec) MESIM_LOG(Warn, kLog, "writing the PTY failed: " << ec.message());
                             writeNext();
                             checkDrained();
                           });
}

}  // namespace mesim::wsman::redirection
