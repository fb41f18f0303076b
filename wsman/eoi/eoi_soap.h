// The wire side of the legacy EOI SOAP services (spec/wsman.md §2.2): which service a path names, reading a SOAP 1.1
// request as Debian's amttool (SOAP::Lite) sends it, and writing SOAP 1.1 answers and faults SOAP::Lite reads
// (`result` = the first child of the response element, `paramsout` = the rest). Pure: no I/O, no platform.
#pragma once

#include <pugixml.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mesim::wsman::eoi {

inline constexpr std::string_view kSoap11Envelope = "http://schemas.xmlsoap.org/soap/envelope/";

enum class EoiInterface {
  SecurityAdministration,
  RemoteControl,
  NetworkAdministration,
  GeneralInfo,
  EventManager,
  HardwareAsset,
};

struct ServiceInfo {
  EoiInterface id;
  std::string_view path;    // "/RemoteControlService"
  std::string_view name;    // "RemoteControl", as in the namespace
  std::string_view ns;      // "http://schemas.intel.com/platform/client/RemoteControl/2004/01"
  std::string_view prefix;  // of that namespace in answers
};

std::span<const ServiceInfo> eoiServices();
// The service served at `path`, or null.
const ServiceInfo* serviceAtPath(std::string_view path);

// The SOAP 1.1 fault codes (SOAP 1.1 §4.4.1).
enum class FaultKind { VersionMismatch, MustUnderstand, Client, Server };

struct EoiFault {
  FaultKind kind = FaultKind::Client;
  std::string reason;
};

// One call: the operation (the Body's element) and its parameters (that element's children).
struct EoiRequest {
  std::unique_ptr<pugi::xml_document> doc;
  std::string operation;  // local name, "RemoteControl"
  pugi::xml_node call;

  // The first child element of the call (or of `under`) with this local name, whatever its namespace; null if none.
  pugi::xml_node param(std::string_view name, pugi::xml_node under = {}) const;
  // Its text, trimmed; nullopt if absent.
  std::optional<std::string> text(std::string_view name, pugi::xml_node under = {}) const;
  // An xs:unsignedInt (decimal, as SOAP::Lite writes numbers): nullopt if absent; `valid` false if present but not
  // a number that fits.
  std::optional<std::uint32_t> number(std::string_view name, bool& valid, pugi::xml_node under = {}) const;
};

struct EoiParse {
  std::optional<EoiRequest> request;  // on success
  std::optional<EoiFault> fault;      // otherwise
};

// Reads a request for `service`: well-formed XML (the checks WS-Man requests get, soap::loadWellFormedXml), a SOAP
// 1.1 Envelope (a SOAP 1.2 one is a VersionMismatch), no header the service must understand, a Body whose first
// element is in the service's namespace.
EoiParse parseEoiRequest(std::string_view body, const ServiceInfo& service, std::size_t maxBytes = 64 * 1024);

// An output parameter: a value, or a structure of parameters (InterfaceDescriptor, IPv4Parameters).
struct EoiValue {
  std::string name;
  std::string text;
  std::vector<EoiValue> members;  // when not empty, a structure and `text` is unused

  static EoiValue of(std::string name, std::string text) { return {std::move(name), std::move(text), {}}; }
  static EoiValue of(std::string name, std::uint64_t number) { return {std::move(name), std::to_string(number), {}}; }
  static EoiValue structure(std::string name, std::vector<EoiValue> members) {
    return {std::move(name), {}, std::move(members)};
  }
};

// <SOAP-ENV:Envelope ...><SOAP-ENV:Body><p:OperationResponse><p:Status…>…</p:OperationResponse>, everything in the
// service's namespace, as the AMT SDK's WSDL has it.
std::string writeEoiResponse(const ServiceInfo& service, std::string_view operation, const std::vector<EoiValue>& out);
// A SOAP 1.1 Fault (sent with HTTP 500).
std::string writeEoiFault(const EoiFault& fault);
std::string_view faultCodeName(FaultKind kind);  // "Client"

}  // namespace mesim::wsman::eoi
