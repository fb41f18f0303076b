// Namespace-aware reading over pugixml (which has no namespace support of its own): an element is
// matched by its namespace URI and local name, whatever prefix the sender chose (spec/wsman.md §1.2).
#pragma once

#include <pugixml.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "wsman/soap/epr.h"

namespace mesim::wsman::soap {

std::string_view localName(const char* qualifiedName);
inline std::string_view localName(pugi::xml_node n) { return localName(n.name()); }
// The namespace URI bound to the element's prefix (or the default namespace) at that element.
std::string_view namespaceOf(pugi::xml_node n);
std::string_view namespaceOf(pugi::xml_node owner, pugi::xml_attribute a);  // unprefixed attributes: none
bool is(pugi::xml_node n, std::string_view ns, std::string_view local);
pugi::xml_node child(pugi::xml_node parent, std::string_view ns, std::string_view local);
pugi::xml_node firstElement(pugi::xml_node parent);
// Text content with surrounding white space removed.
std::string text(pugi::xml_node n);
// True for xs:boolean true ("true" or "1").
bool isTrue(std::string_view value);
// A mustUnderstand attribute (any prefix bound to the SOAP envelope namespace) set to true.
bool mustUnderstand(pugi::xml_node n);

// Reads `wsa:Address` + `wsa:ReferenceParameters{wsman:ResourceURI, wsman:SelectorSet}` under `n`
// (or under its `wsa:EndpointReference` child). nullopt when there is no ReferenceParameters.
std::optional<EndpointReference> readEpr(pugi::xml_node n);
// Reads the selectors of a `wsman:SelectorSet`; false on a malformed selector (no Name).
bool readSelectorSet(pugi::xml_node set, std::vector<Selector>& out);

}  // namespace mesim::wsman::soap
