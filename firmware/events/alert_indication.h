// The wire form of an alert: the WS-Man CIM_AlertIndication event envelope (spec/wsman.md §1.6, the MeshCentral
// amtevents.js capture), written once with pugixml for both consumers: WS-Eventing subscribers (wsman/eventing)
// and LMS through an ME-opened APF channel (firmware/lme, spec/apf.md §2.7). Prefixes a..h and xsi as AMT binds
// them; LMS matches `<g:MessageID>`, `<g:MessageArguments>` and `<g:Message>` literally. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "firmware/events/subscription.h"

namespace mesim::events {

inline constexpr std::string_view kAnonymousAddress = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

// What the envelope's header says besides Action and ResourceURI.
struct AlertEnvelopeHeader {
  std::string_view to = kAnonymousAddress;  // wsa:To
  std::string_view messageId;               // wsa:MessageID; empty: omitted (LMS's events carry none)
  bool ackRequested = false;                // wsman:AckRequested (PushWithAck)
  std::string_view referenceParameters;     // XML elements echoed after ResourceURI (a subscriber's NotifyTo)
};

// The CIM_AlertIndication properties an alert does not carry itself.
struct AlertIndicationStamp {
  std::optional<std::uint64_t> indication;  // IndicationIdentifier "Intel(r):<n>"; none: omitted
  std::string_view time;                    // IndicationTime as a CIM datetime; empty: omitted
};

// "2017-01-31T15:40:09.000Z" (the capture's IndicationTime), in UTC.
std::string cimDatetime(TimePoint time);

// The envelope with its XML declaration; fails only on reference parameters that are not well-formed XML.
Result<std::string> writeAlertIndication(const AlertEnvelopeHeader& header, const Alert& alert,
                                         const AlertIndicationStamp& stamp);

}  // namespace mesim::events
