#include "wsman/eoi/eoi_soap.h"

#include <charconv>
#include <sstream>

#include "wsman/soap/envelope.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman::eoi {
namespace {

constexpr std::string_view kSoap12Envelope = "http://www.w3.org/2003/05/soap-envelope";

constexpr ServiceInfo kServices[] = {
    {EoiInterface::SecurityAdministration, "/SecurityAdministrationService", "SecurityAdministration",
     "http://schemas.intel.com/platform/client/SecurityAdministration/2004/01", "sai"},
    {EoiInterface::RemoteControl, "/RemoteControlService", "RemoteControl",
     "http://schemas.intel.com/platform/client/RemoteControl/2004/01", "rci"},
    {EoiInterface::NetworkAdministration, "/NetworkAdministrationService", "NetworkAdministration",
     "http://schemas.intel.com/platform/client/NetworkAdministration/2004/01", "net"},
    {EoiInterface::GeneralInfo, "/GeneralInfoService", "GeneralInfo",
     "http://schemas.intel.com/platform/client/GeneralInfo/2004/01", "inf"},
    {EoiInterface::EventManager, "/EventManagerService", "EventManager",
     "http://schemas.intel.com/platform/client/EventManager/2004/01", "emi"},
    {EoiInterface::HardwareAsset, "/HardwareAssetService", "HardwareAsset",
     "http://schemas.intel.com/platform/client/HardwareAsset/2004/01", "hwa"},
};

EoiParse refuse(FaultKind kind, std::string reason) {
  EoiParse p;
  p.fault = EoiFault{kind, std::move(reason)};
  return p;
}

bool mustBeUnderstood(pugi::xml_node header) {
  for (auto a : header.attributes()) {
    if (soap::localName(a.name()) != "mustUnderstand" || soap::namespaceOf(header, a) != kSoap11Envelope) continue;
    const std::string_view v = a.value();
    return v == "1" || v == "true";
  }
  return false;
}

void appendValue(pugi::xml_node parent, const std::string& qualifier, const EoiValue& value) {
  auto element = parent.append_child((qualifier + value.name).c_str());
  if (value.members.empty()) {
    element.text().set(value.text.c_str());
    return;
  }
  for (const auto& member : value.members) appendValue(element, qualifier, member);
}

pugi::xml_node envelopeBody(pugi::xml_document& doc, const ServiceInfo* service) {
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto env = doc.append_child("SOAP-ENV:Envelope");
  env.append_attribute("xmlns:SOAP-ENV") = std::string(kSoap11Envelope).c_str();
  env.append_attribute("xmlns:xsi") = "http://www.w3.org/2001/XMLSchema-instance";
  env.append_attribute("xmlns:xsd") = "http://www.w3.org/2001/XMLSchema";
  if (service)
    env.append_attribute(("xmlns:" + std::string(service->prefix)).c_str()) = std::string(service->ns).c_str();
  return env.append_child("SOAP-ENV:Body");
}

std::string serialize(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  return out.str();
}

}  // namespace

std::span<const ServiceInfo> eoiServices() { return kServices; }

const ServiceInfo* serviceAtPath(std::string_view path) {
  for (const auto& s : kServices)
    if (s.path == path) return &s;
  return nullptr;
}

pugi::xml_node EoiRequest::param(std::string_view name, pugi::xml_node under) const {
  for (auto n : (under ? under : call).children())
    if (n.type() == pugi::node_element && soap::localName(n) == name) return n;
  return {};
}

std::optional<std::string> EoiRequest::text(std::string_view name, pugi::xml_node under) const {
  auto n = param(name, under);
  if (!n) return std::nullopt;
  return soap::text(n);
}

std::optional<std::uint32_t> EoiRequest::number(std::string_view name, bool& valid, pugi::xml_node under) const {
  auto t = text(name, under);
  if (!t) return std::nullopt;
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
  if (ec != std::errc{} || end != t->data() + t->size() || t->empty()) {
    valid = false;
    return std::nullopt;
  }
  return n;
}

EoiParse parseEoiRequest(std::string_view body, const ServiceInfo& service, std::size_t maxBytes) {
  EoiRequest req;
  req.doc = std::make_unique<pugi::xml_document>();
  if (auto refused = soap::loadWellFormedXml(body, maxBytes, *req.doc))
    return refuse(FaultKind::Client, refused->reason.empty() ? "The request is too large or too deeply nested."
                                                             : refused->reason);
  auto env = req.doc->document_element();
  if (soap::localName(env) != "Envelope") return refuse(FaultKind::Client, "The root element is not a SOAP Envelope.");
  const auto envNs = soap::namespaceOf(env);
  if (envNs != kSoap11Envelope)
    return refuse(FaultKind::VersionMismatch, envNs == kSoap12Envelope
                                                  ? "SOAP 1.2 is served on /wsman; this service speaks SOAP 1.1."
                                                  : "The Envelope is not in the SOAP 1.1 namespace.");
  for (auto header = soap::child(env, kSoap11Envelope, "Header").first_child(); header;
       header = header.next_sibling()) {
    if (header.type() == pugi::node_element && mustBeUnderstood(header))
      return refuse(FaultKind::MustUnderstand,
                    "Header " + std::string(soap::localName(header)) + " must be understood; this service knows none.");
  }
  auto soapBody = soap::child(env, kSoap11Envelope, "Body");
  if (!soapBody) return refuse(FaultKind::Client, "The envelope has no Body.");
  req.call = soap::firstElement(soapBody);
  if (!req.call) return refuse(FaultKind::Client, "The Body holds no operation.");
  req.operation = std::string(soap::localName(req.call));
  if (soap::namespaceOf(req.call) != service.ns)
    return refuse(FaultKind::Client, "Operation " + req.operation + " is not in the namespace of " +
                                         std::string(service.path.substr(1)) + " (" + std::string(service.ns) + ").");
  EoiParse parsed;
  parsed.request = std::move(req);
  return parsed;
}

std::string writeEoiResponse(const ServiceInfo& service, std::string_view operation, const std::vector<EoiValue>& out) {
  pugi::xml_document doc;
  auto body = envelopeBody(doc, &service);
  const std::string qualifier = std::string(service.prefix) + ":";
  auto response = body.append_child((qualifier + std::string(operation) + "Response").c_str());
  for (const auto& value : out) appendValue(response, qualifier, value);
  return serialize(doc);
}

std::string_view faultCodeName(FaultKind kind) {
  switch (kind) {
    case FaultKind::VersionMismatch: return "VersionMismatch";
    case FaultKind::MustUnderstand: return "MustUnderstand";
    case FaultKind::Client: return "Client";
    case FaultKind::Server: return "Server";
  }
  return "Server";
}

std::string writeEoiFault(const EoiFault& fault) {
  pugi::xml_document doc;
  auto body = envelopeBody(doc, nullptr);
  auto f = body.append_child("SOAP-ENV:Fault");
  f.append_child("faultcode").text().set(("SOAP-ENV:" + std::string(faultCodeName(fault.kind))).c_str());
  f.append_child("faultstring").text().set(fault.reason.c_str());
  return serialize(doc);
}

}  // namespace mesim::wsman::eoi
