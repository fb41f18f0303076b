#include "wsman/eventing/http_event_transport.h"

#include <random>

#include "wsman/eventing/alert_indication.h"
#include "wsman/eventing/http_client.h"
#include "wsman/soap/response_writer.h"

namespace mesim::wsman::eventing {

HttpEventTransport::HttpEventTransport(boost::asio::io_context& io, NameResolver::Options resolverOptions)
    : io_(io),
      tls_(makeTlsClientContext()),
      resolver_(std::make_shared<NameResolver>(io, std::move(resolverOptions))),
      nextMessage_(std::random_device{}() & 0xFFFFFFFFull) {
  nextMessage_ = (nextMessage_ << 16) | (std::random_device{}() & 0xFFFF);
}

void HttpEventTransport::send(const events::Subscription& subscription, const events::QueuedAlert& alert,
                              std::chrono::milliseconds timeout, Done done) {
  std::string messageId = soap::amtMessageId(nextMessage_++ & 0xFFFFFFFFFFFFull);
  auto envelope = writeAlertIndication(subscription, alert, messageId);
  if (!envelope) return done(envelope.error());
  HttpPostRequest request;
  request.url = subscription.notifyTo;
  request.body = std::move(*envelope);
  request.username = subscription.username;
  request.password = subscription.password;
  request.timeout = timeout;
  ++sent_;
  const bool ackRequested = subscription.mode == events::DeliveryMode::PushWithAck;
  httpPost(io_, tls_, resolver_, std::move(request),
           [done = std::move(done), messageId, ackRequested](HttpPostResult result) {
             if (!result.error.empty()) return done(fail(std::move(result.error)));
             if (result.status < 200 || result.status > 299) return done(fail("HTTP " + std::to_string(result.status)));
             if (ackRequested && !isAckFor(result.body, messageId)) return done(fail("no Ack for " + messageId));
             done({});
           });
}

}  // namespace mesim::wsman::eventing
