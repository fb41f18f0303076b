#include "common/log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "common/text_codecs.h"

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

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  auto escape = [&](unsigned char byte) {
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0F];
  };
  while (!text.empty()) {
    const auto lead = static_cast<unsigned char>(text.front());
    if (lead >= 0x20 && lead < 0x7F && lead != '\\') {
      out += static_cast<char>(lead);
      text.remove_prefix(1);
      continue;
    }
    const std::size_t length = lead >= 0x80 ? text::utf8SequenceLength(text) : 0;
    // U+0080..U+009F (C2 80..C2 9F) are the C1 controls; a terminal takes 0x9B as CSI.
    const bool c1Control = length == 2 && lead == 0xC2 && static_cast<unsigned char>(text[1]) < 0xA0;
    if (length == 0 || c1Control) {
      for (std::size_t i = 0; i < std::max<std::size_t>(length, 1); ++i) escape(static_cast<unsigned char>(text[i]));
      text.remove_prefix(std::max<std::size_t>(length, 1));
      continue;
    }
    out.append(text.substr(0, length));
    text.remove_prefix(length);
  }
  return out;
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
  const std::string device = printable(context.device());
  const std::string where = printable(component);
  const std::string text = printable(message);
  std::lock_guard lock(g_writeMutex);
  std::fprintf(stderr, "%s.%03dZ %-5s %s%.*s%s%.*s: %.*s\n", stamp, static_cast<int>(millis), levelName(level),
               device.empty() ? "" : "[", static_cast<int>(device.size()), device.data(), device.empty() ? "" : "] ",
               static_cast<int>(where.size()), where.data(), static_cast<int>(text.size()), text.data());
}

}  // namespace mesim::log
