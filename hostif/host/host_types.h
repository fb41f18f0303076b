// Names the host model's parts share (hbm_bus, host_clients, bus_fixup, mei_host).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <sys/types.h>

#include "common/log.h"
#include "hostif/link/hbm_wire.h"

namespace mesim::host {

enum class DevState { Initializing, InitClients, Enabled, Resetting, Disabled, PowerDown, PowerUp };
const char* devStateName(DevState state);

using FileId = std::uint32_t;

// Completions of the calls a host client can wait on (MeiHost and HostClients share them).
using ErrCallback = std::function<void(int err)>;                        // 0 or a positive errno
using ConnectCallback = std::function<void(int err, const hbm::ClientProperties& props)>;
using ReadCallback = std::function<void(int err, hbm::Bytes data)>;      // err 0: data is the chunk
using WriteCallback = std::function<void(ssize_t result)>;               // bytes accepted or -errno
using NotifyGetCallback = std::function<void(int err, std::uint32_t event)>;
using Ticket = std::uint64_t;  // identifies a blocked call, for cancelling it (signal → EINTR)

struct HostOptions {
  std::uint32_t bufferSlots = hbm::kDefaultBufferSlots;  // circular buffer depth for fragmentation
  unsigned txQueueLimit = 50;                              // per-file queued writes before EAGAIN/block
  std::chrono::milliseconds connectTimeout{15000};         // MEI_CL_CONNECT_TIMEOUT
  std::chrono::milliseconds startTimeout{2000};            // HOST_START / enumeration replies
  unsigned maxResets = 3;                                   // consecutive resets before DISABLED
  log::Context log;                                         // names the device in log lines
};

// Information from enumeration, one per firmware client.
struct MeClient {
  std::uint8_t meAddr = 0;
  hbm::ClientProperties props;
};

}  // namespace mesim::host
