#include "wsman/soap/response_writer.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "wsman/soap/namespaces.h"

namespace mesim::wsman::soap {
namespace {

constexpr std::string_view kFixed[] = {ns::kEnvelope, ns::kAddressing, ns::kWsman,
                                       ns::kTrust,    ns::kWsse,       ns::kCimBinding};

struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, std::size_t size) override { out.append(static_cast<const char*>(data), size); }
};

}  // namespace

std::string amtMessageId(std::uint64_t counter) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "uuid:00000000-8086-8086-8086-%012" PRIX64, static_cast<std::uint64_t>(counter & 0xFFFFFFFFFFFFu));
  return buf;
}

ResponseWriter::ResponseWriter(std::string_view action, std::string_view relatesTo, std::string_view messageId,
                               std::string_view resourceUri) {
  envelope_ = doc_.append_child("a:Envelope");
  for (std::size_t i = 0; i < std::size(kFixed); ++i) {
    std::string p(1, static_cast<char>('a' + i));
    envelope_.append_attribute(("xmlns:" + p).c_str()) = std::string(kFixed[i]).c_str();
    bound_.emplace_back(std::string(kFixed[i]), p);
  }
  header_ = envelope_.append_child("a:Header");
  body_ = envelope_.append_child("a:Body");
  add(header_, ns::kAddressing, "To", kAnonymous);
  if (!relatesTo.empty()) add(header_, ns::kAddressing, "RelatesTo", relatesTo);
  auto act = add(header_, ns::kAddressing, "Action", action);
  act.append_attribute("a:mustUnderstand") = "true";
  add(header_, ns::kAddressing, "MessageID", messageId);
  if (!resourceUri.empty()) add(header_, ns::kWsman, "ResourceURI", resourceUri);
}

std::string ResponseWriter::prefix(std::string_view uri) {
  for (const auto& [u, p] : bound_)
    if (u == uri) return p;
  std::string p(1, static_cast<char>('a' + bound_.size()));
  if (bound_.size() >= 26) p = "n" + std::to_string(bound_.size());
  envelope_.append_attribute(("xmlns:" + p).c_str()) = std::string(uri).c_str();
  bound_.emplace_back(std::string(uri), p);
  return p;
}

pugi::xml_node ResponseWriter::add(pugi::xml_node parent, std::string_view ns, std::string_view local) {
  // One reused buffer for "prefix:local": pugixml copies the name, and this runs for every element written.
  name_ = prefix(ns);
  name_.push_back(':');
  name_.append(local);
  return parent.append_child(name_.c_str());
}

pugi::xml_node ResponseWriter::add(pugi::xml_node parent, std::string_view ns, std::string_view local,
                                   std::string_view text) {
  auto n = add(parent, ns, local);
  n.text().set(text.data(), text.size());
  return n;
}

void ResponseWriter::addEprContent(pugi::xml_node parent, const EndpointReference& epr) {
  add(parent, ns::kAddressing, "Address", epr.address.empty() ? kAnonymous : std::string_view(epr.address));
  auto params = add(parent, ns::kAddressing, "ReferenceParameters");
  add(params, ns::kWsman, "ResourceURI", epr.resourceUri);
  auto set = add(params, ns::kWsman, "SelectorSet");
  for (const auto& s : epr.selectors) {
    auto sel = add(set, ns::kWsman, "Selector");
    sel.append_attribute("Name") = s.name.c_str();
    if (s.isEpr()) {
      addEprContent(add(sel, ns::kAddressing, "EndpointReference"), s.epr.front());
    } else {
      sel.text().set(s.value.c_str());
    }
  }
}

std::string ResponseWriter::finish() {
  envelope_.append_attribute("xmlns:xsi") = std::string(ns::kXsi).c_str();
  StringWriter w;
  w.out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
  // Empty elements as start+end tags, as AMT writes them (`<g:EndOfSequence></g:EndOfSequence>`): MeshCentral's
  // amt-xml.js parser only recognises `<x />` with a space and loses the whole response on `<x/>`.
  doc_.save(w, "", pugi::format_raw | pugi::format_no_declaration | pugi::format_no_empty_element_tags,
            pugi::encoding_utf8);
  return std::move(w.out);
}

}  // namespace mesim::wsman::soap
