#include "hostif/os/serial_console.h"

#include <sstream>

namespace mesim::hostos {

SerialConsole::SerialConsole(SerialConsoleOptions options) : options_(std::move(options)) {}

void SerialConsole::write(std::string_view text) {
  if (output_) output_(text);
}

void SerialConsole::osStateChanged(SimulatedOs::State state) {
  using State = SimulatedOs::State;
  const std::int64_t now = options_.nowSeconds ? options_.nowSeconds() : 0;
  switch (state) {
    case State::Booting:
      mode_ = Mode::Silent;
      typed_.clear();
      bootedAt_ = now;
      write("\r\n" + options_.biosVersion + "\r\nIntel(R) Active Management Technology\r\nPress <CTRL-P> to enter MEBx "
            "setup\r\n\r\nBooting from Hard Disk...\r\n[    0.000000] Linux version 6.1.0-mesim (mesim simulated host)\r\n"
            "[    0.000000] Command line: console=tty0 console=ttyS0,115200n8\r\n[    1.204113] mei_me 0000:00:16.0: "
            "enabling device\r\n[    2.318530] iTCO_wdt: Found a TCO device\r\n");
      break;
    case State::Running:
      if (mode_ != Mode::Silent) break;  // resumed: the session goes on
      if (const std::string image = options_.runningImage ? options_.runningImage() : std::string(); !image.empty())
        write("\r\n" + image + " (One Click Recovery) " + options_.hostname + " ttyS0\r\n\r\n");
      else
        write("\r\nmesim simulated OS " + options_.hostname + " ttyS0\r\n\r\n");
      mode_ = Mode::Login;
      prompt();
      break;
    case State::ShuttingDown:
      write("\r\n[  OK  ] Reached target System Shutdown.\r\nreboot: System halted\r\n");
      mode_ = Mode::Silent;
      break;
    case State::Crashed:
      write("\r\nKernel panic - not syncing: Fatal exception\r\n");
      mode_ = Mode::Silent;
      break;
    case State::Off:
    case State::Hung:
      mode_ = Mode::Silent;
      break;
    case State::Suspended:
    case State::Hibernated:
    case State::Resuming: break;
  }
}

void SerialConsole::prompt() {
  if (mode_ == Mode::Login) write(options_.hostname + " login: ");
  if (mode_ == Mode::Shell) write(user_ + "@" + options_.hostname + ":~$ ");
}

void SerialConsole::input(std::string_view bytes) {
  if (mode_ == Mode::Silent) return;  // nobody reads the line
  for (char c : bytes) {
    if (c == '\n' && lastWasCr_) {  // CR LF is one Enter
      lastWasCr_ = false;
      continue;
    }
    lastWasCr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      write("\r\n");
      std::string text = std::move(typed_);
      typed_.clear();
      line(text);
      if (mode_ == Mode::Silent) return;
      continue;
    }
    if (c == 0x7F || c == 0x08) {  // DEL / BS: the terminal's erase
      if (!typed_.empty()) {
        typed_.pop_back();
        write("\b \b");
      }
      continue;
    }
    if (c == 0x03) {  // ^C: a fresh line
      typed_.clear();
      write("^C\r\n");
      prompt();
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 || typed_.size() >= 1024) continue;
    typed_.push_back(c);
    write(std::string_view(&c, 1));  // the tty's echo
  }
}

void SerialConsole::line(const std::string& text) {
  ++linesAnswered_;
  if (mode_ == Mode::Login) {
    if (!text.empty()) {
      user_ = text;
      mode_ = Mode::Shell;
      write("Last login: on ttyS0\r\n");
    }
    return prompt();
  }
  std::string answer = run(text);
  if (!answer.empty()) write(answer + "\r\n");
  prompt();
}

std::string SerialConsole::run(const std::string& command) {
  std::istringstream words(command);
  std::string name;
  words >> name;
  std::string rest;
  std::getline(words, rest);
  if (const auto start = rest.find_first_not_of(' '); start != std::string::npos) rest = rest.substr(start);
  else rest.clear();
  if (name.empty()) return "";
  if (name == "echo") return rest;
  if (name == "uname") return rest == "-a" ? "Linux " + options_.hostname + " 6.1.0-mesim #1 SMP x86_64 GNU/Linux" : "Linux";
  if (name == "hostname") return options_.hostname;
  if (name == "whoami") return user_;
  if (name == "uptime") {
    const std::int64_t now = options_.nowSeconds ? options_.nowSeconds() : 0;
    const std::int64_t up = now > bootedAt_ ? now - bootedAt_ : 0;
    std::ostringstream out;
    out << "up " << up / 3600 << ":" << (up / 60 % 60 < 10 ? "0" : "") << up / 60 % 60 << ", 1 user";
    return out.str();
  }
  if (name == "exit" || name == "logout") {
    mode_ = Mode::Login;
    user_.clear();
    return "";
  }
  return "-sh: " + name + ": command not found";
}

}  // namespace mesim::hostos
