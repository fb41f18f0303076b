// SOAP faults as AMT sends them (spec/wsman.md §1.7): one row per fault with its code, subcode,
// fault Action and the HTTP status AMT uses (400 for Sender faults).
#pragma once

#include <string>
#include <string_view>

namespace mesim::wsman::soap {

enum class FaultCode {
  DestinationUnreachable,            // wsa, Sender
  ActionNotSupported,                // wsa, Sender
  InvalidMessageInformationHeader,   // wsa, Sender
  MessageInformationHeaderRequired,  // wsa, Sender
  AccessDenied,                      // wsman, Sender
  InvalidSelectors,                  // wsman, Sender
  AlreadyExists,                     // wsman, Sender
  InvalidParameter,                  // wsman, Sender
  SchemaValidationError,             // wsman, Sender
  UnsupportedFeature,                // wsman, Sender
  EncodingLimit,                     // wsman, Sender
  InternalError,                     // wsman, Receiver
  TimedOut,                          // wsman, Receiver
  InvalidEnumerationContext,         // wsen, Receiver
  EnumerationTimedOut,               // wsen TimedOut, Receiver
  DeliveryModeRequestedUnavailable,  // wse, Sender
  InvalidExpirationTime,             // wse, Sender
  EventingInvalidMessage,            // wse InvalidMessage, Sender
  MustUnderstand,                    // env:MustUnderstand, no subcode
};

// Fault detail values (wsman:FaultDetail, appended to soap::kFaultDetailPrefix).
namespace detail {
inline constexpr std::string_view kInsufficientSelectors = "InsufficientSelectors";
inline constexpr std::string_view kUnexpectedSelectors = "UnexpectedSelectors";
inline constexpr std::string_view kTypeMismatch = "TypeMismatch";
inline constexpr std::string_view kInvalidValue = "InvalidValue";
inline constexpr std::string_view kAmbiguousSelectors = "AmbiguousSelectors";
inline constexpr std::string_view kDuplicateSelectors = "DuplicateSelectors";
inline constexpr std::string_view kMaxEnvelopeSize = "MaxEnvelopeSize";
inline constexpr std::string_view kInvalidResourceUri = "InvalidResourceURI";
inline constexpr std::string_view kReadOnly = "ReadOnly";
inline constexpr std::string_view kInvalidNamespace = "InvalidNamespace";
}  // namespace detail

struct Fault {
  FaultCode code = FaultCode::InternalError;
  std::string detail;  // a faultDetail name (detail::*) or empty
  std::string reason;  // overrides the standard reason text when set
};

struct FaultInfo {
  std::string_view code;        // "Sender", "Receiver" or "MustUnderstand" (env namespace)
  std::string_view subcodeNs;   // empty for MustUnderstand
  std::string_view subcode;
  std::string_view action;      // the fault's wsa:Action
  unsigned httpStatus;          // what AMT answers with
  unsigned openwsmanHttpStatus; // openwsman's table (DSP0226 binding), for reference
  std::string_view reason;
};

const FaultInfo& faultInfo(FaultCode code);
const char* faultName(FaultCode code);

// The full fault envelope. `relatesTo` is the request's MessageID (may be empty when unknown).
std::string writeFault(const Fault& fault, std::string_view relatesTo, std::string_view messageId);

}  // namespace mesim::wsman::soap
