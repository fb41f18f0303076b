#include "wsman/soap/xml_ns.h"

#include <cstring>

namespace mesim::wsman::soap {
namespace {

constexpr int kMaxEprDepth = 8;  // nested references in selectors; deeper input is refused

std::string_view prefixOf(const char* qualifiedName) {
  const char* colon = std::strchr(qualifiedName, ':');
  return colon ? std::string_view(qualifiedName, static_cast<std::size_t>(colon - qualifiedName)) : std::string_view{};
}

std::string_view lookupPrefix(pugi::xml_node n, std::string_view prefix) {
  if (prefix == "xml") return ns::kXml;
  const std::string attr = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  for (; n; n = n.parent()) {
    if (n.type() != pugi::node_element) continue;
    if (auto a = n.attribute(attr.c_str())) return a.value();
  }
  return {};
}

std::optional<EndpointReference> readEprAt(pugi::xml_node n, int depth);

bool readSelectors(pugi::xml_node set, std::vector<Selector>& out, int depth) {
  for (auto s : set.children()) {
    if (s.type() != pugi::node_element || !is(s, ns::kWsman, "Selector")) continue;
    auto name = s.attribute("Name");
    if (!name || !*name.value()) return false;
    Selector sel{name.value(), {}, {}};
    if (auto eprNode = child(s, ns::kAddressing, "EndpointReference")) {
      if (depth >= kMaxEprDepth) return false;
      auto epr = readEprAt(eprNode, depth + 1);
      if (!epr) return false;
      sel.epr.push_back(std::move(*epr));
    } else {
      sel.value = text(s);
    }
    out.push_back(std::move(sel));
  }
  return true;
}

std::optional<EndpointReference> readEprAt(pugi::xml_node n, int depth) {
  if (auto inner = child(n, ns::kAddressing, "EndpointReference")) n = inner;
  auto params = child(n, ns::kAddressing, "ReferenceParameters");
  if (!params) return std::nullopt;
  EndpointReference epr;
  if (auto addr = child(n, ns::kAddressing, "Address")) epr.address = text(addr);
  epr.resourceUri = text(child(params, ns::kWsman, "ResourceURI"));
  if (auto set = child(params, ns::kWsman, "SelectorSet"))
    if (!readSelectors(set, epr.selectors, depth)) return std::nullopt;
  return epr;
}

}  // namespace

std::string_view localName(const char* qualifiedName) {
  const char* colon = std::strchr(qualifiedName, ':');
  return colon ? std::string_view(colon + 1) : std::string_view(qualifiedName);
}

std::string_view namespaceOf(pugi::xml_node n) { return lookupPrefix(n, prefixOf(n.name())); }

std::string_view namespaceOf(pugi::xml_node owner, pugi::xml_attribute a) {
  auto prefix = prefixOf(a.name());
  return prefix.empty() ? std::string_view{} : lookupPrefix(owner, prefix);
}

bool is(pugi::xml_node n, std::string_view ns, std::string_view local) {
  return n.type() == pugi::node_element && localName(n) == local && namespaceOf(n) == ns;
}

pugi::xml_node child(pugi::xml_node parent, std::string_view ns, std::string_view local) {
  for (auto c : parent.children())
    if (is(c, ns, local)) return c;
  return {};
}

pugi::xml_node firstElement(pugi::xml_node parent) {
  for (auto c : parent.children())
    if (c.type() == pugi::node_element) return c;
  return {};
}

std::string text(pugi::xml_node n) {
  std::string out;
  for (auto c : n.children())
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  const char* ws = " \t\r\n";
  auto first = out.find_first_not_of(ws);
  if (first == std::string::npos) return {};
  auto last = out.find_last_not_of(ws);
  return out.substr(first, last - first + 1);
}

bool isTrue(std::string_view value) { return value == "true" || value == "1"; }

bool mustUnderstand(pugi::xml_node n) {
  for (auto a : n.attributes())
    if (localName(a.name()) == "mustUnderstand" && namespaceOf(n, a) == ns::kEnvelope) return isTrue(a.value());
  return false;
}

std::optional<EndpointReference> readEpr(pugi::xml_node n) { return readEprAt(n, 0); }

bool readSelectorSet(pugi::xml_node set, std::vector<Selector>& out) { return readSelectors(set, out, 0); }

// --- epr.h ---
bool Selector::operator==(const Selector& o) const { return name == o.name && value == o.value && epr == o.epr; }

const Selector* EndpointReference::find(std::string_view name) const {
  for (const auto& s : selectors)
    if (s.name == name) return &s;
  return nullptr;
}

bool EndpointReference::operator==(const EndpointReference& o) const {
  if (resourceUri != o.resourceUri || selectors.size() != o.selectors.size()) return false;
  for (const auto& s : selectors) {
    const Selector* other = o.find(s.name);
    if (!other || !(*other == s)) return false;
  }
  return true;
}

}  // namespace mesim::wsman::soap
