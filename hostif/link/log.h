// Minimal leveled logging to stderr, shared by both sides of the link and the app.
#pragma once

#include <atomic>
#include <sstream>
#include <string_view>

namespace mesim::log {

enum class Level { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 5 };

Level threshold();
void setThreshold(Level level);
bool parseLevel(std::string_view text, Level& out);
void write(Level level, std::string_view component, std::string_view message);

}  // namespace mesim::log

// Usage: MESIM_LOG(Info, "hbm", "reset: " << reason);  The stream is built only when enabled.
#define MESIM_LOG(level, component, expr)                                       \
  do {                                                                          \
    if (::mesim::log::Level::level >= ::mesim::log::threshold()) {              \
      std::ostringstream mesim_log_stream_;                                     \
      mesim_log_stream_ << expr;                                                \
      ::mesim::log::write(::mesim::log::Level::level, component, mesim_log_stream_.str()); \
    }                                                                           \
  } while (0)
