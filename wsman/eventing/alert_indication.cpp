#include "wsman/eventing/alert_indication.h"

#include <pugixml.hpp>

#include "firmware/events/alert_indication.h"
#include "wsman/eventing/subscribe_request.h"
#include "wsman/soap/envelope.h"
#include "wsman/soap/namespaces.h"
#include "wsman/soap/response_writer.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman::eventing {

namespace ns = soap::ns;

Result<std::string> writeAlertIndication(const events::Subscription& subscription, const events::QueuedAlert& queued,
                                         std::string_view messageId) {
  events::AlertEnvelopeHeader header;
  header.messageId = messageId;
  header.ackRequested = subscription.mode == events::DeliveryMode::PushWithAck;
  header.referenceParameters = subscription.referenceParameters;
  std::string time = events::cimDatetime(queued.alert.time);
  return events::writeAlertIndication(header, queued.alert, {queued.indication, time});
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
  return soap::ResponseWriter(action::kAck, messageId, "uuid:ack-" + std::string(messageId), "").finish();
}

}  // namespace mesim::wsman::eventing
