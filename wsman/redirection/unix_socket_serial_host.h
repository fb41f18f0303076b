// The host side of SOL as a Unix stream socket (--sol-host unix:PATH or unix-connect:PATH), so that a virtual
// machine's serial port is the host: QEMU `-serial unix:PATH` connects to mesim listening on PATH, QEMU
// `-serial unix:PATH,server=on,wait=off` listens and mesim connects (again every second while it cannot).
// One peer at a time, as a UART has one cable: a second connection to a listening mesim is closed at once, and a
// peer that goes away leaves the port dark until the next one comes. What the console types while no peer is
// there is dropped; so is what a peer writes while no SOL session is open. A peer that reads slowly holds the
// console back (full(), serial_port_host.h) instead of losing its bytes.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.h"
#include "common/result.h"
#include "wsman/redirection/serial_host_queue.h"
#include "wsman/redirection/serial_port_host.h"

namespace mesim::wsman::redirection {

class UnixSocketSerialHost final : public SerialPortHost {
 public:
  enum class Role { Listen, Connect };
  struct Stats {
    std::uint64_t connections = 0;  // peers that came (Listen) or connects that succeeded (Connect)
    std::uint64_t refused = 0;      // a second peer while one is connected (Listen)
    std::uint64_t dropped = 0;      // bytes from the console lost: no peer (or one gone with bytes unread)
  };

  // Listen: PATH must not exist, or be a socket (a stale one from an earlier run is replaced); it is removed when
  // the host is destroyed. Connect: the first attempt is made at once, failures are retried every second.
  static Result<std::unique_ptr<UnixSocketSerialHost>> open(boost::asio::io_context& io, Role role, std::string path,
                                                            log::Context log = {});
  ~UnixSocketSerialHost() override;

  void toHost(std::string_view bytes) override;
  void setFromHost(Sink sink) override { sink_ = std::move(sink); }
  bool full() const override { return peer_.is_open() && queue_.full(); }
  void setOnDrained(std::function<void()> callback) override { queue_.setOnDrained(std::move(callback)); }
  std::string describe() const override;
  bool connected() const { return peer_.is_open(); }
  const std::string& path() const { return path_; }
  Role role() const { return role_; }
  const Stats& stats() const { return stats_; }
  const log::Context& logContext() const { return log_; }

 private:
  UnixSocketSerialHost(boost::asio::io_context& io, Role role, std::string path, log::Context log);
  void announce();
  void accept();
  void connect();
  void retryConnect();
  void attached();
  void detach(const std::string& why);
  void read();
  void writeNext();

  Role role_;
  std::string path_;
  log::Context log_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  boost::asio::local::stream_protocol::socket peer_;
  boost::asio::steady_timer retry_;  // real time: a socket's reconnect, not the firmware's
  Sink sink_;
  SerialHostQueue queue_;  // to the peer, in order
  bool writing_ = false;
  char readBuffer_[4096];
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::wsman::redirection
