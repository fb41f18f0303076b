// The pushed event of spec/wsman.md §1.6, as the MeshCentral amtevents.js capture shows it: a CIM_AlertIndication
// envelope (prefixes a..h like AMT, AckRequested for PushWithAck, the subscriber's ReferenceParameters in the
// header) and the receiver's wsman:Ack. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "firmware/events/subscription.h"

namespace mesim::wsman::eventing {

// "Intel(r):<n>", the CIM_AlertIndication.IndicationIdentifier of indication number n.
std::string indicationIdentifier(std::uint64_t n);

// The envelope POSTed to the subscriber; `messageId` is its wsa:MessageID (the Ack's RelatesTo).
std::string writeAlertIndication(const events::Subscription& subscription, const events::QueuedAlert& alert,
                                 std::string_view messageId);

// True if `body` is a wsman:Ack envelope relating to `messageId`.
bool isAckFor(std::string_view body, std::string_view messageId);

// An Ack for `messageId`, as a PushWithAck receiver answers (tests, tools).
std::string writeAck(std::string_view messageId);

}  // namespace mesim::wsman::eventing
