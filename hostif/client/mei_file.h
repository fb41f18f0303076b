// Blocking, file-like access to the host model from threads other than its event loop: the
// in-process HostDevice API that tests, benchmarks and tools use instead of a device node.
#pragma once

#include <chrono>
#include <optional>
#include <span>

#include <boost/asio/io_context.hpp>

#include "hostif/host/mei_host.h"

namespace mesim::client {

class MeiFile {
 public:
  MeiFile(boost::asio::io_context& io, host::MeiHost& host) : io_(io), host_(host) {}
  ~MeiFile();
  MeiFile(const MeiFile&) = delete;
  MeiFile& operator=(const MeiFile&) = delete;

  int open();  // 0 or an errno
  int connect(const hbm::Guid& guid, hbm::ClientProperties* props = nullptr);
  int notifySet(std::uint32_t enable);
  int notifyGet(std::uint32_t& event, bool nonblocking);
  // Bytes written or -errno.
  ssize_t write(hbm::ByteView message, bool nonblocking = false);
  // Bytes read or -errno; with a timeout the read is cancelled and -ETIME returned.
  ssize_t read(std::span<std::uint8_t> buffer, bool nonblocking = false,
               std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Waits until queued writes went out (fsync(2)); 0 or an errno.
  int fsync();
  // poll(2)-style events, waiting up to `timeout` for any of `events`.
  short poll(short events, std::chrono::milliseconds timeout);
  void close();
  bool isOpen() const { return open_; }

 private:
  template <typename F>
  auto onLoop(F&& f);

  boost::asio::io_context& io_;
  host::MeiHost& host_;
  host::FileId file_ = 0;
  bool open_ = false;
};

}  // namespace mesim::client
