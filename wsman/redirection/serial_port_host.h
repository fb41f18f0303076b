// The host's side of the serial port that Serial-over-LAN carries: what the console types goes to it, what the host
// writes comes from it. Implementations: a PTY (pty_serial_host.h) and the simulated host OS's console
// (hostif/os/serial_console.h, adapted in app/device.cpp, since firmware-side code never includes hostif/).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace mesim::wsman::redirection {

class SerialPortHost {
 public:
  using Sink = std::function<void(std::string_view bytes)>;
  virtual ~SerialPortHost() = default;
  // Bytes from the console (SOL 0x28) to the host's receive line.
  virtual void toHost(std::string_view bytes) = 0;
  // Where the host's output goes while a SOL session is open (SOL 0x2A); an empty sink while none is: the UART
  // then drops what the host writes, as a real one does with nobody listening.
  virtual void setFromHost(Sink sink) = 0;
  // "console", "pty /dev/pts/7": for /status and the log.
  virtual std::string describe() const = 0;
};

}  // namespace mesim::wsman::redirection
