#include "wsman/webui/html.h"

#include <algorithm>
#include <array>

namespace mesim::wsman::webui {

std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

struct MenuItem {
  const char* path;   // nullptr: a section heading (p.nav1)
  const char* label;
};

constexpr std::array kMenu{
    MenuItem{"/index.htm", "System Status"},
    MenuItem{nullptr, "Hardware Information"},
    MenuItem{"/hw-sys.htm", "System"},
    MenuItem{"/hw-proc.htm", "Processor"},
    MenuItem{"/hw-mem.htm", "Memory"},
    MenuItem{"/hw-disk.htm", "Disk"},
    MenuItem{"/hw-batt.htm", "Battery"},
    MenuItem{"/events.htm", "Event Log"},
    MenuItem{"/remote.htm", "Remote Control"},
    MenuItem{"/power.htm", "Power Policies"},
    MenuItem{"/ip.htm", "Network Settings"},
    MenuItem{"/ipv6.htm", "IPv6 Network Settings"},
    MenuItem{"/wlan.htm", "Wireless Settings"},
    MenuItem{"/fqdn.htm", "System Name Settings"},
    MenuItem{"/acl.htm", "User Accounts"},
    MenuItem{"/links.htm", "Web Applications Links"},
};

std::string header(std::string_view computerName) {
  return "<table class=\"header\"><tr><td valign=\"top\" nowrap>"
         "<p class=\"top1\">Intel<font class=\"r\"><sup>&#174;</sup></font> Active Management Technology</p>"
         "<p class=\"top2\">Computer: " +
         escapeHtml(computerName) +
         "</p></td><td valign=\"top\"><img src=\"logo.gif\" align=\"right\" alt=\"Intel\"></td></tr></table>\n";
}

std::string documentStart(std::string_view title) {
  return "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n<html><head>"
         "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
         "<link rel=\"stylesheet\" href=\"styles.css\"><title>" +
         escapeHtml(title) + "</title></head>\n<body>\n";
}

}  // namespace

std::string navigationBar(std::string_view current) {
  std::string nav;
  for (const auto& item : kMenu) {
    if (!item.path) {
      nav += "<p class=\"nav1\">" + std::string(item.label) + "</p>\n";
      continue;
    }
    const bool sub = std::string_view(item.path).starts_with("/hw-");
    const std::string cls = sub ? "nav2" : "nav1";
    if (current == item.path)
      nav += "<p class=\"" + cls + " sel\">" + item.label + "</p>\n";
    else
      nav += "<p class=\"" + cls + "\"><a href=\"" + item.path + "\">" + item.label + "</a></p>\n";
  }
  return nav;
}

std::string framedPage(std::string_view computerName, std::string_view current, std::string_view main) {
  std::string title = "Intel\xC2\xAE Active Management Technology";
  for (const auto& item : kMenu)
    if (item.path && current == item.path) title = std::string(item.label) + " - " + title;
  return documentStart(title) + header(computerName) + "<table class=\"spread\"><tr><td class=\"navbar\" valign=\"top\">\n" +
         navigationBar(current) + "</td><td class=\"maincell\" valign=\"top\">\n" + std::string(main) +
         "\n</td></tr></table>\n</body></html>\n";
}

std::string logonPage(std::string_view computerName) {
  return documentStart("Intel\xC2\xAE Active Management Technology") +
         "<table class=\"header\"><tr><td valign=\"top\"><img src=\"run.gif\" alt=\"\"></td><td valign=\"top\" nowrap>"
         "<p class=\"top1\">Intel<font class=\"r\"><sup>&#174;</sup></font> Active Management Technology</p>"
         "<p class=\"top2\">Computer: " +
         escapeHtml(computerName) +
         "</p></td><td valign=\"top\"><img src=\"logo.gif\" align=\"right\" alt=\"Intel\"></td></tr></table>\n"
         "<div class=\"logon\"><h1>Log On</h1>\n<p>Log on to Intel&#174; Active Management Technology on this "
         "computer.</p>\n<form action=\"index.htm\" method=\"get\"><input type=\"submit\" value=\"  Log On... \">"
         "</form></div>\n</body></html>\n";
}

std::string labelValueTable(std::string_view heading, const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string out = "<h2>" + escapeHtml(heading) + "</h2>\n<table class=\"log\">\n";
  for (const auto& [label, value] : rows)
    out += "<tr><td class=\"r1\">" + escapeHtml(label) + "</td><td class=\"r1\">" + escapeHtml(value) + "</td></tr>\n";
  return out + "</table>\n";
}

const std::string& stylesheet() {
  static const std::string css =
      "body { margin: 0; font-family: Arial, Helvetica, sans-serif; font-size: 13px; color: #000; background: #fff; }\n"
      "table.header { width: 100%; background: #0860a8; color: #fff; border-collapse: collapse; }\n"
      "table.header td { padding: 6px 12px; }\n"
      "p.top1 { font-size: 20px; font-weight: bold; margin: 4px 0; }\n"
      "p.top2 { font-size: 13px; margin: 2px 0 6px 0; }\n"
      "font.r { font-size: 10px; }\n"
      "table.spread { width: 100%; border-collapse: collapse; }\n"
      "td.navbar { width: 200px; background: #e8eef4; padding: 8px 4px; border-right: 1px solid #9bb; }\n"
      "p.nav1 { margin: 6px 4px; font-weight: bold; }\n"
      "p.nav2 { margin: 3px 4px 3px 18px; }\n"
      "p.sel { color: #0860a8; }\n"
      "td.navbar a { color: #000; text-decoration: none; }\n"
      "td.navbar a:hover { text-decoration: underline; }\n"
      "td.maincell { padding: 8px 18px; }\n"
      "h1 { font-size: 20px; color: #0860a8; }\n"
      "h2 { font-size: 15px; color: #0860a8; border-bottom: 1px solid #0860a8; margin-top: 18px; }\n"
      "table.log { border-collapse: collapse; margin-bottom: 8px; }\n"
      "table.log th { text-align: left; background: #e8eef4; padding: 3px 10px; }\n"
      "td.r1 { padding: 3px 10px; vertical-align: top; }\n"
      "table.log td.r1:first-child { font-weight: bold; }\n"
      "p.error { color: #b00; font-weight: bold; }\n"
      "p.note { color: #444; }\n"
      "div.logon { margin: 24px; }\n";
  return css;
}

namespace {
// A w*h GIF of one colour, uncompressed-style LZW (clear code before every pixel), built once.
std::string solidGif(unsigned width, unsigned height, unsigned char r, unsigned char g, unsigned char b) {
  std::string gif = "GIF89a";
  auto u16 = [&gif](unsigned v) {
    gif += static_cast<char>(v & 0xFF);
    gif += static_cast<char>((v >> 8) & 0xFF);
  };
  u16(width);
  u16(height);
  gif += static_cast<char>(0x80);  // global colour table of 2 entries
  gif += '\0';
  gif += '\0';
  gif += static_cast<char>(r);
  gif += static_cast<char>(g);
  gif += static_cast<char>(b);
  gif += std::string(3, '\xFF');
  gif += ',';  // image descriptor
  u16(0);
  u16(0);
  u16(width);
  u16(height);
  gif += '\0';
  gif += '\x02';  // LZW minimum code size 2: codes of 3 bits, clear = 4, end = 5
  // Each pixel is "clear, 0" (6 bits); packed LSB first, then "end".
  std::string data;
  unsigned long acc = 0;
  unsigned bits = 0;
  auto put = [&](unsigned code) {
    acc |= static_cast<unsigned long>(code) << bits;
    bits += 3;
    while (bits >= 8) {
      data += static_cast<char>(acc & 0xFF);
      acc >>= 8;
      bits -= 8;
    }
  };
  for (unsigned i = 0; i < width * height; ++i) {
    put(4);
    put(0);
  }
  put(5);
  if (bits) data += static_cast<char>(acc & 0xFF);
  for (std::size_t at = 0; at < data.size(); at += 255) {
    const auto n = std::min<std::size_t>(255, data.size() - at);
    gif += static_cast<char>(n);
    gif += data.substr(at, n);
  }
  gif += '\0';
  gif += ';';
  return gif;
}
}  // namespace

const std::string& logoImage() {
  static const std::string gif = solidGif(60, 40, 0xFF, 0xFF, 0xFF);
  return gif;
}

const std::string& runImage() {
  static const std::string gif = solidGif(20, 40, 0x08, 0x60, 0xA8);
  return gif;
}

}  // namespace mesim::wsman::webui
