#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace mesim::log {
namespace {
std::atomic<Level> g_threshold{Level::Info};
std::mutex g_writeMutex;
const char* levelName(Level level) {
  switch (level) {
    case Level::Trace: return "trace";
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Off: return "off";
  }
  return "?";
}
}  // namespace

Level threshold() { return g_threshold.load(std::memory_order_relaxed); }
void setThreshold(Level level) { g_threshold.store(level, std::memory_order_relaxed); }

bool parseLevel(std::string_view text, Level& out) {
  for (int i = 0; i <= static_cast<int>(Level::Off); ++i) {
    if (text == levelName(static_cast<Level>(i))) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  if (text == "warning") {
    out = Level::Warn;
    return true;
  }
  return false;
}

void write(const Context& context, Level level, std::string_view component, std::string_view message) {
  // Wall-clock time for humans reading logs; firmware logic uses the firmware clock.
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(g_writeMutex);
  auto device = context.device();
  std::fprintf(stderr, "%s.%03dZ %-5s %s%.*s%s%.*s: %.*s\n", stamp, static_cast<int>(millis), levelName(level),
               device.empty() ? "" : "[", static_cast<int>(device.size()), device.data(), device.empty() ? "" : "] ",
               static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()),
               message.data());
}

}  // namespace mesim::log
