// The host side of SOL as a pseudo-terminal (--sol-host pty): a program on the machine running mesim opens the
// slave (its path is in /status and the log) as if it were the host's serial port, e.g. `getty`, `picocom` or a
// test. The slave starts raw (no echo, no line editing), as a UART passes bytes; a program may set it otherwise.
// mesim keeps the slave open itself, so the master never reads EIO while no program has it open; what the host
// writes while no SOL session is open is read and dropped, as a UART with nobody listening drops it. What the
// console types waits in a bounded queue for the host to read it; a full queue holds the console back (full(),
// serial_port_host.h): a program that never reads the slave stalls the console, as hardware flow control would.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "common/log.h"
#include "common/result.h"
#include "wsman/redirection/serial_host_queue.h"
#include "wsman/redirection/serial_port_host.h"

namespace mesim::wsman::redirection {

class PtySerialHost final : public SerialPortHost {
 public:
  static Result<std::unique_ptr<PtySerialHost>> open(boost::asio::io_context& io, log::Context log = {});
  ~PtySerialHost() override;

  void toHost(std::string_view bytes) override;
  void setFromHost(Sink sink) override { sink_ = std::move(sink); }
  bool full() const override { return queue_.full(); }
  void setOnDrained(std::function<void()> callback) override { queue_.setOnDrained(std::move(callback)); }
  std::string describe() const override { return "pty " + slavePath_; }
  const std::string& slavePath() const { return slavePath_; }
  const log::Context& logContext() const { return log_; }

 private:
  PtySerialHost(boost::asio::io_context& io, int master, int slave, std::string slavePath, log::Context log);
  void read();
  void writeNext();

  boost::asio::posix::stream_descriptor master_;
  int slave_ = -1;
  std::string slavePath_;
  log::Context log_;
  Sink sink_;
  SerialHostQueue queue_;  // to the host, in order
  bool writing_ = false;
  char readBuffer_[4096];
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::wsman::redirection
