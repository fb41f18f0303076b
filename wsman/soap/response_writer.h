// Builds responses in AMT's style (spec/wsman.md §1.3): prefixes a..f fixed (env, wsa, wsman, trust,
// wsse, cimbinding), g, h, i... bound in the order a body first uses further namespaces, xsi last;
// header To/RelatesTo/Action(mustUnderstand)/MessageID/ResourceURI. No I/O.
#pragma once

#include <pugixml.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wsman/soap/epr.h"

namespace mesim::wsman::soap {

// `uuid:00000000-8086-8086-8086-` + 12 upper-case hex digits of `counter`.
std::string amtMessageId(std::uint64_t counter);

class ResponseWriter {
 public:
  // `resourceUri` may be empty (no c:ResourceURI header). Omit RelatesTo when `relatesTo` is empty.
  ResponseWriter(std::string_view action, std::string_view relatesTo, std::string_view messageId,
                 std::string_view resourceUri);
  ResponseWriter(const ResponseWriter&) = delete;
  ResponseWriter& operator=(const ResponseWriter&) = delete;

  // The prefix bound to `uri`, binding the next free letter on first use.
  std::string prefix(std::string_view uri);
  pugi::xml_node header() { return header_; }
  pugi::xml_node body() { return body_; }

  // A new child `prefix(ns):local` of `parent` (with `text` when given).
  pugi::xml_node add(pugi::xml_node parent, std::string_view ns, std::string_view local);
  pugi::xml_node add(pugi::xml_node parent, std::string_view ns, std::string_view local, std::string_view text);
  // Appends b:Address and b:ReferenceParameters{c:ResourceURI, c:SelectorSet} of `epr` to `parent`.
  void addEprContent(pugi::xml_node parent, const EndpointReference& epr);

  // Serialized envelope with the XML declaration.
  std::string finish();

 private:
  pugi::xml_document doc_;
  pugi::xml_node envelope_;
  pugi::xml_node header_;
  pugi::xml_node body_;
  std::vector<std::pair<std::string, std::string>> bound_;  // uri -> prefix
  std::string name_;                                        // add()'s scratch "prefix:local"
};

}  // namespace mesim::wsman::soap
