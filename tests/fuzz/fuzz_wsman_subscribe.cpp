// Arbitrary envelopes into the WS-Eventing readers (wsman/eventing/subscribe_request.h): parseSubscribe and
// parseRenew either succeed with bounded, well-formed values or return a fault, never crash; the ReferenceParameters
// they keep must be well-formed XML once wrapped (they are pasted into every event header).
#include <cstdlib>
#include <string_view>

#include <pugixml.hpp>

#include "wsman/eventing/subscribe_request.h"
#include "wsman/soap/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim::wsman;
  const mesim::events::TimePoint now{std::chrono::seconds(1'700'000'000)};
  auto parsed = soap::parseRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.request) return 0;
  auto sub = eventing::parseSubscribe(*parsed.request, now);
  if (auto* s = std::get_if<eventing::SubscribeRequest>(&sub)) {
    if (s->notifyTo.empty() || s->notifyTo.size() > eventing::kMaxNotifyToLength || !eventing::parseUrl(s->notifyTo))
      std::abort();
    if (s->referenceParameters.size() > eventing::kMaxReferenceParameters) std::abort();
    if (s->expires && *s->expires <= now) std::abort();
    pugi::xml_document doc;
    std::string wrapped = "<w>" + s->referenceParameters + "</w>";
    if (!doc.load_buffer(wrapped.data(), wrapped.size())) std::abort();
  }
  (void)eventing::parseRenew(*parsed.request, now);
  return 0;
}
