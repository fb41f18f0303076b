// WS-Addressing endpoint references as WS-Man uses them: a resource URI plus a selector set whose
// values are text or, for association keys, nested references (spec/wsman.md §1.3, §1.5).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wsman/soap/namespaces.h"

namespace mesim::wsman::soap {

struct EndpointReference;

struct Selector {
  std::string name;
  std::string value;                     // text value (empty when `epr` holds one)
  std::vector<EndpointReference> epr;    // zero or one nested reference
  bool isEpr() const { return !epr.empty(); }
  bool operator==(const Selector&) const;
};

struct EndpointReference {
  std::string address{kAnonymous};
  std::string resourceUri;
  std::vector<Selector> selectors;
  const Selector* find(std::string_view name) const;
  // Same resource and the same selectors in any order (addresses are not compared).
  bool operator==(const EndpointReference& other) const;
};

inline Selector textSelector(std::string name, std::string value) { return Selector{std::move(name), std::move(value), {}}; }
inline Selector eprSelector(std::string name, EndpointReference epr) {
  Selector s{std::move(name), {}, {}};
  s.epr.push_back(std::move(epr));
  return s;
}

}  // namespace mesim::wsman::soap
