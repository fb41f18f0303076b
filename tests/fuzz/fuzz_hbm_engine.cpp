// Feeds the ME-side HBM engine arbitrary frames, as a hostile external driver on --hbm-listen
// could: the input is a stream of [u32 little-endian mei_msg_hdr][length payload bytes].
#include <boost/asio/io_context.hpp>

#include "firmware/hbm/hbm_engine.h"
#include "tests/support/test_clients.h"

namespace {

class SinkEndpoint : public mesim::link::Endpoint {
 public:
  void send(mesim::hbm::Frame) override { ++sent; }
  void onFrame(FrameHandler handler) override { handler_ = std::move(handler); }
  void onDown(DownHandler) override {}
  void close() override {}
  void deliver(mesim::hbm::Frame frame) {
    if (handler_) handler_(std::move(frame));
  }
  std::size_t sent = 0;

 private:
  FrameHandler handler_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::asio::io_context io;
  mesim::firmware::HbmEngineOptions options;
  options.bufferSlots = 32;
  mesim::firmware::HbmEngine engine(io, options);
  engine.addClient(std::make_shared<mesim::test::EchoClient>(256, 2));
  auto link = std::make_shared<SinkEndpoint>();
  engine.attach(link);
  // Start the host properly first so the fuzzer reaches the connected states quickly.
  auto bus = [&](mesim::hbm::Bytes payload) {
    mesim::hbm::Frame f;
    f.header.length = static_cast<std::uint16_t>(payload.size());
    f.payload = std::move(payload);
    link->deliver(std::move(f));
  };
  bus(mesim::hbm::encode(mesim::hbm::HostStartReq{{2, 2}}));
  std::size_t offset = 0;
  while (offset + 4 <= size) {
    std::uint32_t raw = data[offset] | data[offset + 1] << 8 | data[offset + 2] << 16 | std::uint32_t{data[offset + 3]} << 24;
    offset += 4;
    mesim::hbm::Frame frame;
    frame.header = mesim::hbm::MsgHeader::unpack(raw);
    std::size_t n = std::min<std::size_t>(frame.header.length, size - offset);
    frame.payload.assign(data + offset, data + offset + n);
    offset += n;
    link->deliver(std::move(frame));
  }
  io.poll();
  return 0;
}
