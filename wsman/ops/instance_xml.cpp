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
      // CIM datetimes are points in time (xs:dateTime) or intervals (xs:duration, always "P..."); WS-Man's common
      // schema wraps them in Datetime and Interval.
      for (const auto& item : value.items)
        w.add(w.add(parent, nsUri, name), soap::ns::kCommon, item.starts_with('P') ? "Interval" : "Datetime", item);
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

namespace {

// `prefix` names the embedded instance being read ("" at the top).
std::optional<soap::Fault> readNested(pugi::xml_node element, cim::Arguments& out, const std::string& prefix) {
  for (auto c : element.children()) {
    if (c.type() != pugi::node_element) continue;
    std::string name = prefix + std::string(soap::localName(c));
    auto& value = out[name];
    if (soap::child(c, soap::ns::kAddressing, "ReferenceParameters") ||
        soap::child(c, soap::ns::kAddressing, "EndpointReference")) {
      auto epr = soap::readEpr(c);
      if (!epr) return soap::Fault{soap::FaultCode::InvalidParameter, {}, "Malformed reference in " + name + "."};
      value.refs.push_back(std::move(*epr));
    } else if (auto dt = soap::child(c, soap::ns::kCommon, "Datetime")) {
      value.items.push_back(soap::text(dt));
      value.datetime = true;
    } else if (auto interval = soap::child(c, soap::ns::kCommon, "Interval")) {
      value.items.push_back(soap::text(interval));
      value.datetime = true;
    } else if (prefix.empty() && c.find_child([](pugi::xml_node n) { return n.type() == pugi::node_element; })) {
      // An embedded instance (AddAlarm's AlarmTemplate): its properties as "AlarmTemplate.StartTime" and so on (one
      // level: deeper elements read as empty text, as before).
      value.items.push_back({});
      if (auto f = readNested(c, out, name + ".")) return f;
    } else {
      value.items.push_back(soap::text(c));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<soap::Fault> readValues(pugi::xml_node element, cim::Arguments& out) { return readNested(element, out, ""); }

}  // namespace mesim::wsman::ops
