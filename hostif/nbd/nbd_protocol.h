// The server side of the NBD protocol (the "fixed newstyle" handshake and simple replies, as nbd-client, qemu-img
// and QEMU speak it): one connection, without a socket. Bytes in through receive(), bytes out through Io::write.
// One read-only export, whatever name the client asks for.
//
//   NbdConnection c(source, {write, close});
//   c.start();          // the greeting
//   c.receive(bytes);   // as they arrive
//
// Served: NBD_OPT_EXPORT_NAME, NBD_OPT_GO, NBD_OPT_INFO, NBD_OPT_LIST, NBD_OPT_ABORT (others: NBD_REP_ERR_UNSUP);
// NBD_CMD_READ, NBD_CMD_DISC, NBD_CMD_FLUSH; writes, trims and zeroing are refused with EPERM. Reads may complete
// later (the source is asynchronous); their replies go out as they complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace mesim::hostif::nbd {

// What the export serves. size() is nullopt while there is nothing to serve (then unavailableReason() says why).
struct NbdSource {
  std::function<std::optional<std::uint64_t>()> size;
  std::function<std::string()> unavailableReason;
  std::function<std::uint32_t()> blockSize;  // preferred block size (2048 for a CD)
  std::function<void(std::uint64_t offset, std::uint32_t length,
                     std::function<void(Result<std::vector<std::uint8_t>>)> done)>
      read;
};

inline constexpr std::uint64_t kNbdMagic = 0x4e42444d41474943ull;       // "NBDMAGIC"
inline constexpr std::uint64_t kNbdOptMagic = 0x49484156454F5054ull;    // "IHAVEOPT"
inline constexpr std::uint64_t kNbdReplyMagic = 0x0003e889045565a9ull;  // option replies
inline constexpr std::uint32_t kNbdRequestMagic = 0x25609513u;
inline constexpr std::uint32_t kNbdSimpleReplyMagic = 0x67446698u;

inline constexpr std::uint32_t kNbdOptExportName = 1, kNbdOptAbort = 2, kNbdOptList = 3, kNbdOptInfo = 6,
                               kNbdOptGo = 7;
inline constexpr std::uint32_t kNbdRepAck = 1, kNbdRepServer = 2, kNbdRepInfo = 3;
inline constexpr std::uint32_t kNbdRepErrUnsup = 0x80000001u, kNbdRepErrInvalid = 0x80000003u,
                               kNbdRepErrUnknown = 0x80000006u;
inline constexpr std::uint16_t kNbdInfoExport = 0, kNbdInfoBlockSize = 3;
inline constexpr std::uint16_t kNbdFlagHasFlags = 1, kNbdFlagReadOnly = 2, kNbdFlagCanMultiConn = 256;
inline constexpr std::uint16_t kNbdCmdRead = 0, kNbdCmdWrite = 1, kNbdCmdDisc = 2, kNbdCmdFlush = 3,
                               kNbdCmdTrim = 4, kNbdCmdWriteZeroes = 6;
inline constexpr std::uint32_t kNbdEperm = 1, kNbdEio = 5, kNbdEinval = 22;

// Limits: an option's data and a request's length; a larger one is refused, never buffered.
inline constexpr std::uint32_t kNbdMaxOptionData = 4096;
inline constexpr std::uint32_t kNbdMaxRequest = 32u << 20;

struct NbdStats {
  std::uint64_t reads = 0;
  std::uint64_t bytesRead = 0;
  std::uint64_t readErrors = 0;
  std::uint64_t refusedWrites = 0;
  std::uint64_t protocolErrors = 0;
};

class NbdConnection {
 public:
  struct Io {
    std::function<void(std::vector<std::uint8_t>)> write;
    std::function<void(const std::string& why)> close;  // after the writes queued so far
  };
  enum class State { Greeting, Options, Transmission, Closed };

  NbdConnection(NbdSource& source, Io io, NbdStats* stats = nullptr);
  ~NbdConnection();
  NbdConnection(const NbdConnection&) = delete;
  NbdConnection& operator=(const NbdConnection&) = delete;

  void start();
  void receive(std::span<const std::uint8_t> bytes);
  State state() const { return state_; }
  std::size_t readsInFlight() const { return inFlight_; }

 private:
  bool step();  // handles one complete unit of the buffer; false when more bytes are needed
  bool option(std::uint32_t option, std::span<const std::uint8_t> data);
  bool request(std::uint16_t type, std::uint64_t cookie, std::uint64_t offset, std::uint32_t length);
  void optionReply(std::uint32_t option, std::uint32_t type, std::span<const std::uint8_t> data = {});
  void optionError(std::uint32_t option, std::uint32_t type, const std::string& message);
  void simpleReply(std::uint64_t cookie, std::uint32_t error, std::span<const std::uint8_t> data = {});
  std::uint16_t transmissionFlags() const;
  void close(const std::string& why);
  void protocolError(const std::string& why);

  NbdSource& source_;
  Io io_;
  NbdStats* stats_;
  NbdStats ownStats_;
  State state_ = State::Greeting;
  bool noZeroes_ = false;
  bool disconnecting_ = false;
  std::vector<std::uint8_t> buffer_;
  std::size_t inFlight_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::hostif::nbd
