// Reading WS-Eventing requests the AMT way (spec/wsman.md §1.6): the Subscribe body (Delivery Mode, NotifyTo
// Address + ReferenceParameters, wsman:Auth, Expires) with its IssuedTokens header (Digest credentials for the
// subscriber), and Renew's Expires. Pure: no I/O; fuzzed by tests/fuzz/fuzz_wsman_subscribe.cpp.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "firmware/core/firmware_clock.h"
#include "firmware/events/subscription.h"
#include "wsman/soap/envelope.h"
#include "wsman/soap/fault.h"

namespace mesim::wsman::eventing {

inline constexpr std::string_view kPushMode = "http://schemas.xmlsoap.org/ws/2004/08/eventing/DeliveryModes/Push";
inline constexpr std::string_view kPushWithAckMode = "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck";
inline constexpr std::string_view kEventsMode = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Events";
inline constexpr std::string_view kPullMode = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Pull";
inline constexpr std::string_view kDigestProfile = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest";
inline constexpr std::size_t kMaxNotifyToLength = 253;       // spec/wsman.md §1.6
inline constexpr std::size_t kMaxReferenceParameters = 256;  // characters of ReferenceParameters XML (§1.6)

namespace action {
inline constexpr std::string_view kSubscribe = "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe";
inline constexpr std::string_view kUnsubscribe = "http://schemas.xmlsoap.org/ws/2004/08/eventing/Unsubscribe";
inline constexpr std::string_view kRenew = "http://schemas.xmlsoap.org/ws/2004/08/eventing/Renew";
inline constexpr std::string_view kEvent = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Event";
inline constexpr std::string_view kAck = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack";
}  // namespace action

struct SubscribeRequest {
  std::string notifyTo;
  events::DeliveryMode mode = events::DeliveryMode::Push;
  std::string referenceParameters;  // the children of NotifyTo/ReferenceParameters, each with the namespaces it uses
  std::string username;             // from IssuedTokens (empty when none)
  std::string password;
  std::optional<events::TimePoint> expires;
};

// The Subscribe of `request` (header and body); `now` turns a duration Expires into an instant.
std::variant<SubscribeRequest, soap::Fault> parseSubscribe(const soap::Request& request, events::TimePoint now);
// The Expires of a Renew body (none = never).
std::variant<std::optional<events::TimePoint>, soap::Fault> parseRenew(const soap::Request& request, events::TimePoint now);

// xs:duration ("PT60S") from now, or an xs:dateTime ("2030-01-01T00:00:00Z"); nullopt when malformed or not
// in the future.
std::optional<events::TimePoint> parseExpires(std::string_view text, events::TimePoint now);

// A URL as NotifyTo may hold it: http or https, host (name, IPv4 or [IPv6]), optional port, path.
struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";
};
std::optional<Url> parseUrl(std::string_view text);

}  // namespace mesim::wsman::eventing
