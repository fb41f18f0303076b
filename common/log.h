// Leveled logging to stderr, shared by every layer. The process shell sets the threshold once; each line names
// the device it belongs to, taken from the nearest `logContext()` in scope (a member of a device's component,
// or the process-wide default below), so MESIM_LOG reads the same everywhere.
#pragma once

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace mesim::log {

enum class Level { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 5 };

Level threshold();
void setThreshold(Level level);
bool parseLevel(std::string_view text, Level& out);

// Whom a line is about: a device's name, or empty for the process itself. Cheap to copy.
class Context {
 public:
  Context() = default;
  explicit Context(std::string device) : device_(std::make_shared<const std::string>(std::move(device))) {}
  std::string_view device() const { return device_ ? std::string_view(*device_) : std::string_view(); }

 private:
  std::shared_ptr<const std::string> device_;
};

// `text` as it may appear inside one log line: control characters (C0, DEL and the C1 range), bytes that are not
// UTF-8 and backslashes become \xNN escapes, one per byte; printable UTF-8 is kept. Text from clients (a service
// name, a path, a header) can then neither end a line and forge the next one nor drive the reader's terminal.
std::string printable(std::string_view text);

// Writes one line; the device name, component and message pass through printable() first.
void write(const Context& context, Level level, std::string_view component, std::string_view message);
inline void write(Level level, std::string_view component, std::string_view message) {
  write(Context(), level, component, message);
}

}  // namespace mesim::log

namespace mesim {
// The process-wide context; a class of a device shadows it with a member `logContext()`.
inline const log::Context& logContext() {
  static const log::Context process;
  return process;
}
}  // namespace mesim

// Usage: MESIM_LOG(Info, "hbm", "reset: " << reason);  The stream is built only when enabled.
#define MESIM_LOG(level, component, expr)                                       \
  do {                                                                          \
    if (::mesim::log::Level::level >= ::mesim::log::threshold()) {              \
      std::ostringstream mesim_log_stream_;                                     \
      mesim_log_stream_ << expr;                                                \
      ::mesim::log::write(logContext(), ::mesim::log::Level::level, component, mesim_log_stream_.str()); \
    }                                                                           \
  } while (0)
