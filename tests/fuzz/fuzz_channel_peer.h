// The channel end of the APF harnesses (fuzz_apf, fuzz_cira): a WS-Man stand-in that answers with `total` bytes
// in reads of up to `chunk`, then stays silent until closed, and takes (or refuses) whatever the peer writes.
#pragma once

#include <algorithm>
#include <cstddef>

#include "firmware/lme/lms_event.h"

namespace mesim::test {

class FuzzChannelPeer : public lme::ChannelPeer {
 public:
  FuzzChannelPeer(bool refuse, std::size_t total, std::size_t chunk) : refuse_(refuse), total_(total), chunk_(chunk) {}
  void read(std::size_t maxBytes, ReadHandler handler) override {
    if (given_ >= total_) return;
    hbm::Bytes data(std::min(maxBytes, chunk_), 'r');
    given_ += data.size();
    handler(data);
  }
  void write(hbm::Bytes, WriteHandler handler) override { handler(!refuse_); }
  void close() override {}

 private:
  bool refuse_;
  std::size_t total_;
  std::size_t chunk_;
  std::size_t given_ = 0;
};

}  // namespace mesim::test
