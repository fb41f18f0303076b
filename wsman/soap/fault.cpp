#include "wsman/soap/fault.h"

#include "wsman/soap/namespaces.h"
#include "wsman/soap/response_writer.h"

namespace mesim::wsman::soap {
namespace {

using FC = FaultCode;

// spec/wsman.md §1.7; reasons as DSP0226 words them (DestinationUnreachable: AMT's own text).
const FaultInfo kFaults[] = {
    {"Sender", ns::kAddressing, "DestinationUnreachable", action::kAddressingFault, 400, 503,
     "No route can be determined to reach the destination role defined by the WSAddressing To."},
    {"Sender", ns::kAddressing, "ActionNotSupported", action::kAddressingFault, 400, 501,
     "The action is not supported by the service."},
    {"Sender", ns::kAddressing, "InvalidMessageInformationHeader", action::kAddressingFault, 400, 400,
     "A message information header is not valid and the message cannot be processed."},
    {"Sender", ns::kAddressing, "MessageInformationHeaderRequired", action::kAddressingFault, 400, 400,
     "A required message information header, To, MessageID, or Action, is not present."},
    {"Sender", ns::kWsman, "AccessDenied", action::kWsmanFault, 400, 401,
     "The sender was not authorized to access the resource."},
    {"Sender", ns::kWsman, "InvalidSelectors", action::kWsmanFault, 400, 400,
     "The Selectors for the resource were not valid."},
    {"Sender", ns::kWsman, "AlreadyExists", action::kWsmanFault, 400, 400,
     "The sender attempted to create a resource which already exists."},
    {"Sender", ns::kWsman, "InvalidParameter", action::kWsmanFault, 400, 400,
     "An operation parameter was not valid."},
    {"Sender", ns::kWsman, "SchemaValidationError", action::kWsmanFault, 400, 400,
     "The supplied SOAP violates the corresponding XML Schema definition."},
    {"Sender", ns::kWsman, "UnsupportedFeature", action::kWsmanFault, 400, 400,
     "The specified feature is not supported."},
    {"Sender", ns::kWsman, "EncodingLimit", action::kWsmanFault, 400, 413,
     "An internal encoding limit was exceeded in a request or would be violated if the message were processed."},
    {"Receiver", ns::kWsman, "InternalError", action::kWsmanFault, 500, 500,
     "The service cannot comply with the request due to internal processing errors."},
    {"Receiver", ns::kWsman, "TimedOut", action::kWsmanFault, 400, 408,
     "The operation has timed out."},
    {"Receiver", ns::kEnumeration, "InvalidEnumerationContext", action::kEnumerationFault, 400, 400,
     "The supplied enumeration context is invalid."},
    {"Receiver", ns::kEnumeration, "TimedOut", action::kEnumerationFault, 400, 408,
     "The enumerator has timed out and is no longer valid."},
    {"Sender", ns::kEventing, "DeliveryModeRequestedUnavailable", action::kEventingFault, 400, 400,
     "The requested delivery mode is not supported."},
    {"Sender", ns::kEventing, "InvalidExpirationTime", action::kEventingFault, 400, 400,
     "The expiration time requested is invalid."},
    {"Sender", ns::kEventing, "InvalidMessage", action::kEventingFault, 400, 400,
     "The request message has unknown or invalid content and cannot be processed."},
    {"MustUnderstand", {}, {}, action::kAddressingFault, 400, 400,
     "The WS-Management service cannot process a SOAP header in the request that is marked as mustUnderstand."},
};
static_assert(std::size(kFaults) == static_cast<std::size_t>(FC::MustUnderstand) + 1);

}  // namespace

const FaultInfo& faultInfo(FaultCode code) { return kFaults[static_cast<std::size_t>(code)]; }

const char* faultName(FaultCode code) {
  const auto& info = faultInfo(code);
  return info.subcode.empty() ? "MustUnderstand" : info.subcode.data();
}

std::string writeFault(const Fault& fault, std::string_view relatesTo, std::string_view messageId) {
  const FaultInfo& info = faultInfo(fault.code);
  ResponseWriter w(info.action, relatesTo, messageId, {});
  auto f = w.add(w.body(), ns::kEnvelope, "Fault");
  auto code = w.add(f, ns::kEnvelope, "Code");
  w.add(code, ns::kEnvelope, "Value", w.prefix(ns::kEnvelope) + ":" + std::string(info.code));
  if (!info.subcode.empty()) {
    auto sub = w.add(code, ns::kEnvelope, "Subcode");
    w.add(sub, ns::kEnvelope, "Value", w.prefix(info.subcodeNs) + ":" + std::string(info.subcode));
  }
  auto reason = w.add(f, ns::kEnvelope, "Reason");
  auto textNode = w.add(reason, ns::kEnvelope, "Text", fault.reason.empty() ? info.reason : fault.reason);
  textNode.append_attribute("xml:lang") = "en-US";
  auto det = w.add(f, ns::kEnvelope, "Detail");
  if (!fault.detail.empty())
    w.add(det, ns::kWsman, "FaultDetail", std::string(kFaultDetailPrefix) + fault.detail);
  return w.finish();
}

}  // namespace mesim::wsman::soap
