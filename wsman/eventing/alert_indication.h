// The pushed event of spec/wsman.md §1.6 for one subscriber: the CIM_AlertIndication envelope (written by
// firmware/events/alert_indication.h) with AckRequested for PushWithAck and the subscriber's ReferenceParameters
// in the header, and the receiver's wsman:Ack. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "firmware/events/subscription.h"

namespace mesim::wsman::eventing {

// The envelope POSTed to the subscriber; `messageId` is its wsa:MessageID (the Ack's RelatesTo).
Result<std::string> writeAlertIndication(const events::Subscription& subscription, const events::QueuedAlert& alert,
                                         std::string_view messageId);

// True if `body` is a wsman:Ack envelope relating to `messageId`.
bool isAckFor(std::string_view body, std::string_view messageId);

// An Ack for `messageId`, as a PushWithAck receiver answers (tests, tools).
std::string writeAck(std::string_view messageId);

}  // namespace mesim::wsman::eventing
