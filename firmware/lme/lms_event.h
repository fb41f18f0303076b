// ME-opened event channels (spec/apf.md §2.7): the HTTP POST of a WS-Man CIM_AlertIndication that LMS parses
// from a direct-tcpip channel to port 0, and the in-memory peer that carries it. Pure apart from BufferPeer.
#pragma once

#include <string>

#include "firmware/lme/channel_peer.h"

namespace mesim::lme {

struct UserNotification;

// "POST / HTTP/1.1", Host localhost:0, User-Agent "Intel(R) AMT Agent", Content-Length, and the envelope with
// <g:MessageID>, <g:MessageArguments>, <g:Message> written with the literal g: prefix LMS matches.
Bytes makeLmsEventRequest(const UserNotification& notification);

// Gives `data` on the first read, then holds reads until closed (LMS closes the channel once it parsed the
// event and never answers); whatever the host writes is taken and dropped. Handlers run inside read()/write().
class BufferPeer final : public ChannelPeer {
 public:
  explicit BufferPeer(Bytes data) : data_(std::move(data)) {}
  void read(std::size_t maxBytes, ReadHandler handler) override;
  void write(Bytes data, WriteHandler handler) override;
  void close() override;
  bool closed() const { return closed_; }
  std::size_t received() const { return received_; }

 private:
  Bytes data_;
  std::size_t offset_ = 0;
  std::size_t received_ = 0;
  ReadHandler held_;
  bool closed_ = false;
};

}  // namespace mesim::lme
