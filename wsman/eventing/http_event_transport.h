// events::EventTransport over HTTP/HTTPS (spec/wsman.md §1.6): each alert is a CIM_AlertIndication envelope
// POSTed to the subscriber's NotifyTo with its Digest credentials; success is a 2xx answer and, for
// PushWithAck, a wsman:Ack whose RelatesTo is the event's MessageID. An attempt's timeout covers all of it, the
// name lookup included; names are looked up off the loop, each on its own (name_resolver.h), so a subscriber whose
// name the DNS server does not answer delays no other subscriber.
#pragma once

#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "firmware/events/event_delivery.h"
#include "wsman/eventing/name_resolver.h"

namespace mesim::wsman::eventing {

class HttpEventTransport final : public events::EventTransport {
 public:
  // `resolverOptions`: how names are looked up (tests hand in their own lookup).
  explicit HttpEventTransport(boost::asio::io_context& io, NameResolver::Options resolverOptions = {});
  void send(const events::Subscription& subscription, const events::QueuedAlert& alert,
            std::chrono::milliseconds timeout, Done done) override;
  std::uint64_t sent() const { return sent_; }
  const NameResolver& resolver() const { return *resolver_; }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::shared_ptr<NameResolver> resolver_;  // shared with the POSTs in flight, which may outlive this object
  std::uint64_t nextMessage_;  // MessageIDs: a random 48-bit start, so they do not repeat after a restart
  std::uint64_t sent_ = 0;
};

}  // namespace mesim::wsman::eventing
