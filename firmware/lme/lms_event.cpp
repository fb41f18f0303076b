#include "firmware/lme/lms_event.h"

#include <algorithm>

#include "firmware/events/alert_indication.h"
#include "firmware/lme/lme_client.h"

namespace mesim::lme {

Bytes makeLmsEventRequest(const UserNotification& n) {
  events::Alert alert;
  alert.messageId = n.messageId;
  alert.messageArguments = {n.messageArguments};  // one element, even empty: LMS looks for it
  alert.message = n.message;
  alert.indicationFilterName = "Intel(r) AMT:User Notification";
  events::AlertEnvelopeHeader header;
  header.to = "http://localhost:0/";
  // Without reference parameters the envelope cannot fail.
  std::string body = events::writeAlertIndication(header, alert, {std::nullopt, n.indicationTime}).value();
  std::string request = "POST / HTTP/1.1\r\nHost: localhost:0\r\nUser-Agent: Intel(R) AMT Agent\r\n"
                        "Content-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  return Bytes(request.begin(), request.end());
}

void BufferPeer::read(std::size_t maxBytes, ReadHandler handler) {
  if (closed_) return;
  if (offset_ >= data_.size()) {
    held_ = std::move(handler);  // no more to give, and no end of stream until LMS closes
    return;
  }
  std::size_t n = std::min(maxBytes, data_.size() - offset_);
  ByteView chunk(data_.data() + offset_, n);
  offset_ += n;
  handler(chunk);
}

void BufferPeer::write(Bytes data, WriteHandler handler) {
  if (closed_) return;
  received_ += data.size();
  handler(true);
}

void BufferPeer::close() {
  closed_ = true;
  held_ = nullptr;
}

}  // namespace mesim::lme
