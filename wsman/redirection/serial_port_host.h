// The host's side of the serial port that Serial-over-LAN carries: what the console types goes to it, what the host
// writes comes from it. Implementations: a PTY (pty_serial_host.h) and the simulated host OS's console
// (hostif/os/serial_console.h, adapted in app/device.cpp, since firmware-side code never includes hostif/).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mesim::wsman::redirection {

// The queue toward a host that reads at its own pace (PTY, Unix socket): full() from the high-water mark on, the
// drained callback at the low-water mark. A session stops decoding the moment the host is full, so the queue
// exceeds the high-water mark by one SOL message at most (< 64 KiB); the limit drops beyond that only for a caller
// that ignores full(), so the daemon's memory stays bounded whatever a console does.
inline constexpr std::size_t kHostQueueHighWater = 64 * 1024;
inline constexpr std::size_t kHostQueueLowWater = 16 * 1024;
inline constexpr std::size_t kHostQueueLimit = kHostQueueHighWater + 64 * 1024;

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
  // Flow control toward the host, as a UART's RTS/CTS: true while the host has left so much unread that it takes
  // no more (its queue is at the high-water mark). The SOL session then stops reading the console's connection
  // until the drained callback runs, rather than dropping bytes. A host that takes every byte at once (the
  // simulated OS's console) is never full.
  virtual bool full() const { return false; }
  // Runs (on the loop, never inside toHost) when a full queue has drained to its low-water mark, or was emptied
  // because the host went away. An empty function while no SOL session listens.
  virtual void setOnDrained(std::function<void()> callback) { (void)callback; }
};

}  // namespace mesim::wsman::redirection
