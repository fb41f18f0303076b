#include "firmware/events/alert_indication.h"

#include <cstdio>
#include <ctime>

#include <pugixml.hpp>

namespace mesim::events {
namespace {

// The envelope's namespaces in AMT's order; the prefix of each is its letter, xsi comes last.
constexpr std::string_view kNamespaces[] = {
    "http://www.w3.org/2003/05/soap-envelope",                                            // a
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",                                   // b
    "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",                                     // c
    "http://schemas.xmlsoap.org/ws/2005/02/trust",                                        // d
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",  // e
    "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd",                                // f
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AlertIndication",              // g
    "http://schemas.dmtf.org/wbem/wscim/1/common",                                        // h
};
constexpr std::string_view kXsi = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::string_view kEventAction = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Event";
constexpr std::string_view kAlertingManagedElement =
    "Interop:CIM_ComputerSystem.CreationClassName=\"CIM_ComputerSystem\",Name=\"Intel(r) AMT\"";
constexpr std::string_view kAmt = "Intel(r) AMT";

pugi::xml_node element(pugi::xml_node parent, const char* name, std::string_view text = {}) {
  auto node = parent.append_child(name);
  if (!text.empty()) node.text().set(text.data(), text.size());
  return node;
}

struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, std::size_t size) override { out.append(static_cast<const char*>(data), size); }
};

}  // namespace

std::string cimDatetime(TimePoint time) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

Result<std::string> writeAlertIndication(const AlertEnvelopeHeader& header, const Alert& alert,
                                         const AlertIndicationStamp& stamp) {
  pugi::xml_document doc;
  auto envelope = doc.append_child("a:Envelope");
  for (std::size_t i = 0; i < std::size(kNamespaces); ++i)
    envelope.append_attribute(("xmlns:" + std::string(1, static_cast<char>('a' + i))).c_str()) =
        std::string(kNamespaces[i]).c_str();
  envelope.append_attribute("xmlns:xsi") = std::string(kXsi).c_str();

  auto head = envelope.append_child("a:Header");
  element(head, "b:To", header.to);
  element(element(head, "b:ReplyTo"), "b:Address", kAnonymousAddress);
  if (header.ackRequested) element(head, "c:AckRequested");
  element(head, "b:Action", kEventAction).append_attribute("a:mustUnderstand") = "true";
  if (!header.messageId.empty()) element(head, "b:MessageID", header.messageId);
  element(head, "c:ResourceURI", kNamespaces[6]);
  if (!header.referenceParameters.empty()) {
    auto parsed = head.append_buffer(header.referenceParameters.data(), header.referenceParameters.size(),
                                     pugi::parse_default & ~pugi::parse_doctype);
    if (!parsed) return fail(std::string("reference parameters are not XML: ") + parsed.description());
  }

  auto indication = element(envelope.append_child("a:Body"), "g:CIM_AlertIndication");
  element(indication, "g:AlertType", std::to_string(alert.alertType));
  element(indication, "g:AlertingElementFormat", "2");
  element(indication, "g:AlertingManagedElement", kAlertingManagedElement);
  element(indication, "g:IndicationFilterName", alert.indicationFilterName);
  if (stamp.indication) element(indication, "g:IndicationIdentifier", "Intel(r):" + std::to_string(*stamp.indication));
  if (!stamp.time.empty()) element(element(indication, "g:IndicationTime"), "h:Datetime", stamp.time);
  element(indication, "g:Message", alert.message);
  for (const auto& argument : alert.messageArguments) element(indication, "g:MessageArguments", argument);
  element(indication, "g:MessageID", alert.messageId);
  element(indication, "g:OtherAlertingElementFormat");
  element(indication, "g:OtherSeverity");
  element(indication, "g:OwningEntity", kAmt);
  element(indication, "g:PerceivedSeverity", std::to_string(alert.perceivedSeverity));
  element(indication, "g:ProbableCause", "0");
  element(indication, "g:SystemName", kAmt);

  StringWriter writer;
  writer.out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
  // Empty elements as start and end tags, as AMT writes them; MeshCentral's parser loses `<x/>`.
  doc.save(writer, "", pugi::format_raw | pugi::format_no_declaration | pugi::format_no_empty_element_tags,
           pugi::encoding_utf8);
  // in_place_value: a std::string would also convert to Error.
  return Result<std::string>(boost::system::in_place_value, std::move(writer.out));
}

}  // namespace mesim::events
