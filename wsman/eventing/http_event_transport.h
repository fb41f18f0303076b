// events::EventTransport over HTTP/HTTPS (spec/wsman.md §1.6): each alert is a CIM_AlertIndication envelope
// POSTed to the subscriber's NotifyTo with its Digest credentials; success is a 2xx answer and, for
// PushWithAck, a wsman:Ack whose RelatesTo is the event's MessageID.
#pragma once

#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "firmware/events/event_delivery.h"

namespace mesim::wsman::eventing {

class HttpEventTransport final : public events::EventTransport {
 public:
  explicit HttpEventTransport(boost::asio::io_context& io);
  void send(const events::Subscription& subscription, const events::QueuedAlert& alert,
            std::chrono::milliseconds timeout, Done done) override;
  std::uint64_t sent() const { return sent_; }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::uint64_t nextMessage_;  // MessageIDs: a random 48-bit start, so they do not repeat after a restart
  std::uint64_t sent_ = 0;
};

}  // namespace mesim::wsman::eventing
