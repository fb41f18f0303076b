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
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
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
  chunkSize = std::clamp<std::size_t>(chunkSize, 1, 0xFFFF);
  std::string out;
  out.reserve(body.size() + (body.size() / chunkSize + 2) * 8);
  char size[8];
  while (!body.empty()) {
    const std::size_t n = std::min(chunkSize, body.size());
    std::snprintf(size, sizeof size, "%04zX", n);
    out.append(size).append("\r\n").append(body.substr(0, n)).append("\r\n");
    body.remove_prefix(n);
  }
  out.append("0\r\n\r\n");
  return out;
}

std::string errorPage(unsigned status, std::string_view reason, std::string_view detail) {
  std::string s = std::to_string(status) + " " + std::string(reason);
  return "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" >\n<html><head><title>" + s +
         "</title></head>\n<body>\n<h2>" + s + "</h2>\n<p>" + std::string(detail) + "</p>\n</body>\n</html>\n";
}

}  // namespace mesim::wsman::http
