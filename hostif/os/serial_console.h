// The simulated host OS's serial console (COM1), what SOL shows with --sol-host console: the BIOS's POST text and
// the kernel's boot messages when the OS boots, then a getty's `login:` prompt. Any user name logs in (no password:
// the simulated OS has no accounts); the shell echoes what is typed and answers `uname [-a]`, `uptime`,
// `echo ...`, `hostname`, `whoami`, `exit`/`logout`; anything else is "command not found". It writes nothing while the OS
// is off, and what it writes with no listener is lost, as on a UART.
//
// Threading: the device's loop. Time comes from the caller (the firmware clock in the daemon).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "hostif/os/simulated_os.h"

namespace mesim::hostos {

struct SerialConsoleOptions {
  std::string hostname = "mesim-host";
  std::string biosVersion = "mesim BIOS";
  std::function<std::int64_t()> nowSeconds;  // for `uptime`; unset: uptime 0
  // What the host booted instead of its own OS (a One Click Recovery image: "NAME VERSION"); "" or unset: its own.
  std::function<std::string()> runningImage;
};

class SerialConsole {
 public:
  using Output = std::function<void(std::string_view bytes)>;
  explicit SerialConsole(SerialConsoleOptions options = {});

  // The transmit line; empty: what the console writes is lost.
  void setOutput(Output output) { output_ = std::move(output); }
  // The receive line: keys typed on the console (SOL 0x28).
  void input(std::string_view bytes);
  // The OS's state (SimulatedOs::onStateChange): boot text, the prompt, shutdown and panic lines.
  void osStateChanged(SimulatedOs::State state);

  bool loggedIn() const { return mode_ == Mode::Shell; }
  std::uint64_t linesAnswered() const { return linesAnswered_; }

 private:
  enum class Mode { Silent, Login, Shell };
  void write(std::string_view text);
  void prompt();
  void line(const std::string& text);
  std::string run(const std::string& command);

  SerialConsoleOptions options_;
  Output output_;
  Mode mode_ = Mode::Silent;
  std::string user_;
  std::string typed_;
  std::int64_t bootedAt_ = 0;
  std::uint64_t linesAnswered_ = 0;
  bool lastWasCr_ = false;
};

}  // namespace mesim::hostos
