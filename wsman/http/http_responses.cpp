#include "wsman/http/http_responses.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace mesim::wsman::http {

std::string serverHeaderValue(std::string_view amtVersion) {
  return std::string(kServerPrefix) + std::string(amtVersion);
}

std::string httpDate(core::FirmwareClock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = static_cast<std::time_t>(core::unixSeconds(t));
  // Every response carries a Date: format each second once (per thread).
  thread_local std::time_t cachedSeconds = -1;
  thread_local std::string cached;
  if (seconds == cachedSeconds && !cached.empty()) return cached;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  cachedSeconds = seconds;
  cached = buf;
  return cached;
}

const std::string& unauthorizedPage() {
  static const std::string page =
      "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" >\n"
      "<html><head><link rel=stylesheet href=/styles.css>\n"
      "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n"
      "<title>Intel&reg; Active Management Technology</title></head>\n"
      "<body>\n"
      "<table class=header>\n"
      "<tr><td valign=top nowrap>\n"
      "<p class=top1>Intel<font class=r><sup>&reg;</sup></font> Active Management Technology\n"
      "<td valign=\"middle\"><img src=\"logo.gif\" align=\"right\" alt=\"Intel\">\n"
      "</table>\n"
      "<br />\n"
      "<h2 class=warn>Log on failed. Incorrect user name or password, or user account temporarily locked.</h2>\n"
      "\n"
      "<p>\n"
      "<form METHOD=\"GET\" action=\"index.htm\"><h2><input type=submit value=\"Try again\">\n"
      "</h2></form>\n"
      "<p>\n"
      "\n"
      "</body>\n"
      "</html>\n";
  return page;
}

std::string chunked(std::string_view body, std::size_t chunkSize) {
  std::string out;
  out.reserve(body.size() + chunkedOverhead(body.size(), chunkSize));
  appendChunked(out, body, chunkSize);
  return out;
}

std::size_t chunkedOverhead(std::size_t bodySize, std::size_t chunkSize) {
  chunkSize = std::clamp<std::size_t>(chunkSize, 1, 0xFFFF);
  return (bodySize + chunkSize - 1) / chunkSize * 8 + 5;  // "XXXX\r\n" + "\r\n" a chunk, "0\r\n\r\n"
}

void appendChunked(std::string& out, std::string_view body, std::size_t chunkSize) {
  chunkSize = std::clamp<std::size_t>(chunkSize, 1, 0xFFFF);
  char size[8];
  while (!body.empty()) {
    const std::size_t n = std::min(chunkSize, body.size());
    std::snprintf(size, sizeof size, "%04zX", n);
    out.append(size).append("\r\n").append(body.substr(0, n)).append("\r\n");
    body.remove_prefix(n);
  }
  out.append("0\r\n\r\n");
}

std::string errorPage(unsigned status, std::string_view reason, std::string_view detail) {
  std::string s = std::to_string(status) + " " + std::string(reason);
  return "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" >\n<html><head><title>" + s +
         "</title></head>\n<body>\n<h2>" + s + "</h2>\n<p>" + std::string(detail) + "</p>\n</body>\n</html>\n";
}

}  // namespace mesim::wsman::http
