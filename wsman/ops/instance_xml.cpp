#include "wsman/ops/instance_xml.h"

#include "wsman/soap/namespaces.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman::ops {

void writeProperties(soap::ResponseWriter& w, pugi::xml_node parent, const std::string& nsUri,
                     const cim::PropertyMap& props) {
  for (const auto& [name, value] : props) {
    if (value.isRef()) {
      for (const auto& ref : value.refs) w.addEprContent(w.add(parent, nsUri, name), ref);
    } else if (value.datetime) {
      for (const auto& item : value.items) w.add(w.add(parent, nsUri, name), soap::ns::kCommon, "Datetime", item);
    } else {
      for (const auto& item : value.items) w.add(parent, nsUri, name, item);
    }
  }
}

pugi::xml_node writeInstance(soap::ResponseWriter& w, pugi::xml_node parent, const cim::ClassDef& cls,
                             const cim::Instance& instance) {
  const std::string uri = cls.resourceUri();
  auto node = w.add(parent, uri, cls.name);
  writeProperties(w, node, uri, instance.props);
  return node;
}

std::optional<soap::Fault> readValues(pugi::xml_node element, cim::Arguments& out) {
  for (auto c : element.children()) {
    if (c.type() != pugi::node_element) continue;
    std::string name(soap::localName(c));
    auto& value = out[name];
    if (soap::child(c, soap::ns::kAddressing, "ReferenceParameters") ||
        soap::child(c, soap::ns::kAddressing, "EndpointReference")) {
      auto epr = soap::readEpr(c);
      if (!epr) return soap::Fault{soap::FaultCode::InvalidParameter, {}, "Malformed reference in " + name + "."};
      value.refs.push_back(std::move(*epr));
    } else if (auto dt = soap::child(c, soap::ns::kCommon, "Datetime")) {
      value.items.push_back(soap::text(dt));
      value.datetime = true;
    } else {
      value.items.push_back(soap::text(c));
    }
  }
  return std::nullopt;
}

}  // namespace mesim::wsman::ops
