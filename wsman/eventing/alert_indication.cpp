#include "firmware/core/xml_text.h"
#include "wsman/eventing/alert_indication.h"

#include <ctime>

#include <pugixml.hpp>

#include "wsman/eventing/subscribe_request.h"
#include "wsman/soap/envelope.h"
#include "wsman/soap/namespaces.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman::eventing {
namespace {

namespace ns = soap::ns;

// "2017-01-31T15:40:09.000Z" (the capture's IndicationTime).
std::string indicationTime(events::TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

void property(std::string& out, std::string_view name, std::string_view value) {
  out += "<g:";
  out += name;
  out += '>';
  out += core::xmlEscape(value);
  out += "</g:";
  out += name;
  out += '>';
}

}  // namespace

std::string indicationIdentifier(std::uint64_t n) { return "Intel(r):" + std::to_string(n); }

std::string writeAlertIndication(const events::Subscription& subscription, const events::QueuedAlert& queued,
                                 std::string_view messageId) {
  const auto& a = queued.alert;
  std::string out;
  out.reserve(2048 + subscription.referenceParameters.size());
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Envelope xmlns:a=\"";
  out += ns::kEnvelope;
  out += "\" xmlns:b=\"";
  out += ns::kAddressing;
  out += "\" xmlns:c=\"";
  out += ns::kWsman;
  out += "\" xmlns:d=\"";
  out += ns::kTrust;
  out += "\" xmlns:e=\"";
  out += ns::kWsse;
  out += "\" xmlns:f=\"";
  out += ns::kCimBinding;
  out += "\" xmlns:g=\"";
  out += soap::kCimSchema;
  out += "CIM_AlertIndication\" xmlns:h=\"";
  out += ns::kCommon;
  out += "\" xmlns:xsi=\"";
  out += ns::kXsi;
  out += "\"><a:Header><b:To>";
  out += soap::kAnonymous;
  out += "</b:To><b:ReplyTo><b:Address>";
  out += soap::kAnonymous;
  out += "</b:Address></b:ReplyTo>";
  if (subscription.mode == events::DeliveryMode::PushWithAck) out += "<c:AckRequested></c:AckRequested>";
  out += "<b:Action a:mustUnderstand=\"true\">";
  out += action::kEvent;
  out += "</b:Action><b:MessageID>";
  out += core::xmlEscape(messageId);
  out += "</b:MessageID><c:ResourceURI>";
  out += soap::kCimSchema;
  out += "CIM_AlertIndication</c:ResourceURI>";
  out += subscription.referenceParameters;  // already XML, checked when the subscription was made
  out += "</a:Header><a:Body><g:CIM_AlertIndication>";
  property(out, "AlertType", std::to_string(a.alertType));
  property(out, "AlertingElementFormat", "2");
  property(out, "AlertingManagedElement",
           "Interop:CIM_ComputerSystem.CreationClassName=\"CIM_ComputerSystem\",Name=\"Intel(r) AMT\"");
  property(out, "IndicationFilterName", a.indicationFilterName);
  property(out, "IndicationIdentifier", indicationIdentifier(queued.indication));
  out += "<g:IndicationTime><h:Datetime>" + indicationTime(a.time) + "</h:Datetime></g:IndicationTime>";
  property(out, "Message", a.message);
  for (const auto& arg : a.messageArguments) property(out, "MessageArguments", arg);
  property(out, "MessageID", a.messageId);
  property(out, "OtherAlertingElementFormat", "");
  property(out, "OtherSeverity", "");
  property(out, "OwningEntity", "Intel(r) AMT");
  property(out, "PerceivedSeverity", std::to_string(a.perceivedSeverity));
  property(out, "ProbableCause", "0");
  property(out, "SystemName", "Intel(r) AMT");
  out += "</g:CIM_AlertIndication></a:Body></a:Envelope>";
  return out;
}

bool isAckFor(std::string_view body, std::string_view messageId) {
  if (body.size() > 64 * 1024 || soap::hasMarkupDeclaration(body)) return false;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default & ~pugi::parse_doctype)) return false;
  auto env = doc.document_element();
  if (!soap::is(env, ns::kEnvelope, "Envelope")) return false;
  auto header = soap::child(env, ns::kEnvelope, "Header");
  return soap::text(soap::child(header, ns::kAddressing, "Action")) == action::kAck &&
         soap::text(soap::child(header, ns::kAddressing, "RelatesTo")) == messageId;
}

std::string writeAck(std::string_view messageId) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Envelope xmlns:a=\"";
  out += ns::kEnvelope;
  out += "\" xmlns:b=\"";
  out += ns::kAddressing;
  out += "\"><a:Header><b:To>";
  out += soap::kAnonymous;
  out += "</b:To><b:RelatesTo>";
  out += core::xmlEscape(messageId);
  out += "</b:RelatesTo><b:Action a:mustUnderstand=\"true\">";
  out += action::kAck;
  out += "</b:Action><b:MessageID>uuid:ack-";
  out += core::xmlEscape(messageId);
  out += "</b:MessageID></a:Header><a:Body></a:Body></a:Envelope>";
  return out;
}

}  // namespace mesim::wsman::eventing
