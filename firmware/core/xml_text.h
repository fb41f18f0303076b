// Escaping text for XML element content and attribute values, shared by everything that writes XML by hand.
#pragma once

#include <string>
#include <string_view>

namespace mesim::core {

inline std::string xmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace mesim::core
