#include "wsman/redirection/pty_serial_host.h"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "sol-pty";
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
    : master_(io, master), slave_(slave), slavePath_(std::move(slavePath)), log_(std::move(log)),
      queue_(io.get_executor()) {
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
  if (!queue_.push(bytes)) {
    MESIM_LOG(Debug, kLog, "the host reads nothing: " << bytes.size() << " byte(s) from the console dropped");
    return;
  }
  if (!writing_) writeNext();
}

void PtySerialHost::writeNext() {
  if (queue_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  const auto batch = queue_.batch();
  boost::asio::async_write(master_, batch,
                           [this, alive = alive_, count = batch.size()](boost::system::error_code ec, std::size_t) {
                             if (!*alive || ec == boost::asio::error::operation_aborted) return;
                             queue_.written(count);
                             if (ec) MESIM_LOG(Warn, kLog, "writing the PTY failed: " << ec.message());
                             writeNext();
                           });
}
}  // namespace mesim::wsman::redirection
