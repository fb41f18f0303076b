#include "hostif/nbd/nbd_protocol.h"

#include <algorithm>

#include "common/byte_order.h"

namespace mesim::hostif::nbd {

namespace {
// Reads waiting for the source at most; further requests stay in the buffer until one completes.
constexpr std::size_t kMaxReadsInFlight = 64;

void put16(std::vector<std::uint8_t>& o, std::uint16_t v) {
  o.push_back(static_cast<std::uint8_t>(v >> 8));
  o.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& o, std::uint32_t v) {
  put16(o, static_cast<std::uint16_t>(v >> 16));
  put16(o, static_cast<std::uint16_t>(v));
}
void put64(std::vector<std::uint8_t>& o, std::uint64_t v) {
  put32(o, static_cast<std::uint32_t>(v >> 32));
  put32(o, static_cast<std::uint32_t>(v));
}
}  // namespace

NbdConnection::NbdConnection(NbdSource& source, Io io, NbdStats* stats)
    : source_(source), io_(std::move(io)), stats_(stats ? stats : &ownStats_) {}

NbdConnection::~NbdConnection() { *alive_ = false; }

void NbdConnection::start() {
  std::vector<std::uint8_t> greeting;
  put64(greeting, kNbdMagic);
  put64(greeting, kNbdOptMagic);
  put16(greeting, 0x0003);  // NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES
  io_.write(std::move(greeting));
}

void NbdConnection::receive(std::span<const std::uint8_t> bytes) {
  if (state_ == State::Closed) return;
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  while (state_ != State::Closed && step()) {
  }
}

bool NbdConnection::step() {
  const auto in = std::span<const std::uint8_t>(buffer_);
  std::size_t used = 0;
  bool more = false;
  switch (state_) {
    case State::Greeting: {
      if (in.size() < 4) return false;
      const std::uint32_t flags = bytes::be32(in, 0);
      if (!(flags & 1) || (flags & ~3u)) {
        protocolError("the client's flags " + std::to_string(flags) + " are not fixed newstyle");
        return false;
      }
      noZeroes_ = flags & 2;
      state_ = State::Options;
      used = 4;
      more = true;
      break;
    }
    case State::Options: {
      if (in.size() < 16) return false;
      if (bytes::be64(in, 0) != kNbdOptMagic) {
        protocolError("an option without the IHAVEOPT magic");
        return false;
      }
      const std::uint32_t opt = bytes::be32(in, 8), length = bytes::be32(in, 12);
      if (length > kNbdMaxOptionData) {
        protocolError("option " + std::to_string(opt) + " carries " + std::to_string(length) + " bytes");
        return false;
      }
      if (in.size() < 16 + length) return false;
      used = 16 + length;
      std::vector<std::uint8_t> data(in.begin() + 16, in.begin() + 16 + length);
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used));
      return option(opt, data) && state_ != State::Closed;
    }
    case State::Transmission: {
      if (disconnecting_ || inFlight_ >= kMaxReadsInFlight) return false;
      if (in.size() < 28) return false;
      if (bytes::be32(in, 0) != kNbdRequestMagic) {
        protocolError("a request without the request magic");
        return false;
      }
      const std::uint16_t type = bytes::be16(in, 6);
      const std::uint64_t cookie = bytes::be64(in, 8), offset = bytes::be64(in, 16);
      const std::uint32_t length = bytes::be32(in, 24);
      used = 28;
      if (type == kNbdCmdWrite) {
        // The payload follows; it is read and dropped, and the write refused.
        if (length > kNbdMaxRequest) {
          protocolError("a write of " + std::to_string(length) + " bytes");
          return false;
        }
        if (in.size() < 28 + std::size_t(length)) return false;
        used += length;
      }
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used));
      return request(type, cookie, offset, length) && state_ != State::Closed;
    }
    case State::Closed: return false;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used));
  return more;
}

std::uint16_t NbdConnection::transmissionFlags() const {
  return kNbdFlagHasFlags | kNbdFlagReadOnly | kNbdFlagCanMultiConn;
}

bool NbdConnection::option(std::uint32_t opt, std::span<const std::uint8_t> data) {
  const auto known = source_.size ? source_.size() : std::nullopt;
  const bool available = known.has_value();
  const std::uint64_t size = known.value_or(0);
  const auto unavailable = [&] {
    return source_.unavailableReason ? source_.unavailableReason() : std::string("nothing to serve");
  };
  switch (opt) {
    case kNbdOptExportName: {
      // No error reply exists for this option: without media the connection ends.
      if (!available) {
        close("no export: " + unavailable());
        return false;
      }
      std::vector<std::uint8_t> out;
      put64(out, size);
      put16(out, transmissionFlags());
      if (!noZeroes_) out.resize(out.size() + 124, 0);
      io_.write(std::move(out));
      state_ = State::Transmission;
      return true;
    }
    case kNbdOptAbort:
      optionReply(opt, kNbdRepAck);
      close("the client aborted");
      return false;
    case kNbdOptList: {
      if (!data.empty()) {
        optionError(opt, kNbdRepErrInvalid, "NBD_OPT_LIST carries no data");
        return true;
      }
      std::vector<std::uint8_t> entry;
      put32(entry, 0);  // one export, the default name ""
      optionReply(opt, kNbdRepServer, entry);
      optionReply(opt, kNbdRepAck);
      return true;
    }
    case kNbdOptInfo:
    case kNbdOptGo: {
      if (data.size() < 6) {
        optionError(opt, kNbdRepErrInvalid, "the option is too short");
        return true;
      }
      const std::uint32_t nameLength = bytes::be32(data, 0);
      if (nameLength > data.size() - 6) {
        optionError(opt, kNbdRepErrInvalid, "the export name overruns the option");
        return true;
      }
      const std::uint16_t requests = bytes::be16(data, 4 + nameLength);
      if (data.size() != 6 + nameLength + 2u * requests) {
        optionError(opt, kNbdRepErrInvalid, "the information requests do not fill the option");
        return true;
      }
      bool wantsBlockSize = false;
      for (std::uint16_t i = 0; i < requests; ++i)
        wantsBlockSize |= bytes::be16(data, 6 + nameLength + 2u * i) == kNbdInfoBlockSize;
      if (!available) {
        optionError(opt, kNbdRepErrUnknown, unavailable());
        return true;
      }
      std::vector<std::uint8_t> info;
      put16(info, kNbdInfoExport);
      put64(info, size);
      put16(info, transmissionFlags());
      optionReply(opt, kNbdRepInfo, info);
      if (wantsBlockSize) {
        std::vector<std::uint8_t> block;
        put16(block, kNbdInfoBlockSize);
        put32(block, 1);
        put32(block, source_.blockSize ? source_.blockSize() : 512);
        put32(block, kNbdMaxRequest);
        optionReply(opt, kNbdRepInfo, block);
      }
      optionReply(opt, kNbdRepAck);
      if (opt == kNbdOptGo) state_ = State::Transmission;
      return true;
    }
    default:
      optionReply(opt, kNbdRepErrUnsup);
      return true;
  }
}

bool NbdConnection::request(std::uint16_t type, std::uint64_t cookie, std::uint64_t offset, std::uint32_t length) {
  switch (type) {
    case kNbdCmdRead: {
      const auto known = source_.size ? source_.size() : std::nullopt;
      const bool available = known.has_value();
      const std::uint64_t size = known.value_or(0);
      if (!available || length == 0 || length > kNbdMaxRequest || offset > size || length > size - offset) {
        if (available) ++stats_->readErrors;
        simpleReply(cookie, available ? kNbdEinval : kNbdEio);
        return true;
      }
      ++inFlight_;
      ++stats_->reads;
      std::weak_ptr<bool> alive = alive_;
      source_.read(offset, length, [this, alive, cookie, length](Result<std::vector<std::uint8_t>> data) {
        auto live = alive.lock();
        if (!live || !*live) return;
        --inFlight_;
        if (state_ == State::Closed) return;
        if (!data || data->size() != length) {
          ++stats_->readErrors;
          simpleReply(cookie, kNbdEio);
        } else {
          stats_->bytesRead += length;
          simpleReply(cookie, 0, *data);
        }
        if (disconnecting_ && inFlight_ == 0) return close("the client disconnected");
        receive({});  // requests held back while reads were in flight
      });
      return true;
    }
    case kNbdCmdDisc:
      disconnecting_ = true;
      if (inFlight_ == 0) close("the client disconnected");
      return false;
    case kNbdCmdFlush: simpleReply(cookie, 0); return true;
    case kNbdCmdWrite:
    case kNbdCmdTrim:
    case kNbdCmdWriteZeroes:
      ++stats_->refusedWrites;
      simpleReply(cookie, kNbdEperm);
      return true;
    default:
      simpleReply(cookie, kNbdEinval);
      return true;
  }
}

void NbdConnection::optionReply(std::uint32_t opt, std::uint32_t type, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out;
  put64(out, kNbdReplyMagic);
  put32(out, opt);
  put32(out, type);
  put32(out, static_cast<std::uint32_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  io_.write(std::move(out));
}

void NbdConnection::optionError(std::uint32_t opt, std::uint32_t type, const std::string& message) {
  optionReply(opt, type, std::span(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()));
}

void NbdConnection::simpleReply(std::uint64_t cookie, std::uint32_t error, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out;
  out.reserve(16 + data.size());
  put32(out, kNbdSimpleReplyMagic);
  put32(out, error);
  put64(out, cookie);
  if (error == 0) out.insert(out.end(), data.begin(), data.end());
  io_.write(std::move(out));
}

void NbdConnection::protocolError(const std::string& why) {
  ++stats_->protocolErrors;
  close("protocol error: " + why);
}

void NbdConnection::close(const std::string& why) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  buffer_.clear();
  if (io_.close) io_.close(why);
}

}  // namespace mesim::hostif::nbd
