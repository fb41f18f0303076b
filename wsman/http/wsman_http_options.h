// Settings and counters of the WS-Man HTTP(S) server (wsman_http_server.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "firmware/core/disk_full_switch.h"
#include "firmware/core/firmware_clock.h"
#include "wsman/http/digest_auth.h"

namespace mesim::wsman::http {

struct WsmanHttpOptions {
  std::string listenAddress = "127.0.0.1";  // IPv4 or IPv6 literal
  int httpPort = 16992;                     // 0: any free port; negative: no plain-HTTP listener
  int httpsPort = 16993;                    // 0: any free port; negative: no TLS listener
  std::filesystem::path stateDir;           // tls-key.pem / tls-cert.pem are kept here
  std::filesystem::path tlsCertFile;        // user-supplied PEM certificate (chain) and unencrypted key:
  std::filesystem::path tlsKeyFile;         //   both or neither; they replace the generated pair
  // Real-time limits per connection (ARCHITECTURE.md: network timeouts use real time). The header timeout
  // also ends an idle keep-alive connection (silently, if no byte of a next request arrived).
  std::chrono::milliseconds headerTimeout{10'000};
  std::chrono::milliseconds bodyTimeout{30'000};
  std::chrono::milliseconds writeTimeout{30'000};
  std::chrono::milliseconds lingerTimeout{2'000};  // draining an unread body after an error answer
  // Connections served at once per listener (HTTP, TLS and local channels each have their own), and per client
  // address on each network listener; 0 = no limit. At the listener's cap a connection still waiting for its
  // request (idle, or sending its header slowly) from the address holding the most makes room for a newcomer
  // whose address holds at least two fewer; otherwise the newcomer gets 503, past twice the cap it is closed.
  std::size_t maxConnections = 64;
  std::size_t maxConnectionsPerAddress = 32;
  // Accepted sockets that would take one of the process's last `descriptorReserve` descriptors are closed at once
  // and accepting pauses briefly (common/descriptors.h), so the firmware always finds descriptors. 0 = none kept.
  std::size_t descriptorReserve = 64;
  std::size_t maxRequestBytes = 256 * 1024;  // body limit; headers are limited to min(16 KiB, this)
  std::string amtVersion;                 // for "Server:"; empty = the platform's firmware code version
  DigestOptions digest;
  const core::FirmwareClock* clock = nullptr;  // nonce expiry, back-off, audit times, Date; null = system clock
  // Runs a blocking job off the loop (making the TLS key: tens of milliseconds of CPU that would stall every
  // device on the loop). Unset: the job runs on the loop.
  std::function<void(std::function<void()> job)> runBlocking;
  // Make the TLS key when something first needs it (a TLS handshake, withTlsIdentity()) instead of at start:
  // a fleet of devices starts in milliseconds, and devices nobody reaches over TLS never pay for a key.
  bool makeTlsIdentityOnFirstUse = false;
  // The device's state disk: while it is full no TLS pair can be made; the next use after it cleared tries again.
  const core::DiskFullSwitch* disk = nullptr;
};

struct WsmanHttpStats {
  std::uint64_t connections = 0;     // accepted and served
  std::uint64_t rejectedBusy = 0;    // answered 503 (a connection cap)
  std::uint64_t dropped = 0;         // closed unanswered (twice the cap)
  std::uint64_t evicted = 0;         // waiting for a request, closed to make room for another address
  std::uint64_t overAddressCap = 0;  // refused (503 or closed): their address held maxConnectionsPerAddress
  std::uint64_t descriptorsShort = 0;  // closed at accept: the descriptor reserve was reached
  std::uint64_t notProvisioned = 0;  // closed at accept: the network side is shut until provisioning completes
  std::uint64_t acceptErrors = 0;    // accept failed (EMFILE, ENFILE...): the listener paused and went on
  std::uint64_t requests = 0;        // request headers read
  std::uint64_t unauthorized = 0;    // 401 sent
  std::uint64_t timeouts = 0;        // 408 sent or idle/handshake/write timeouts
  std::uint64_t tooLarge = 0;        // 413/431 sent
  std::uint64_t badRequests = 0;     // 400 sent
  std::uint64_t handled = 0;         // requests given to the WS-Man handler
  std::uint64_t webSockets = 0;        // WebSocket upgrades handed to their service (/ws-redirection)
  std::uint64_t webSocketsRefused = 0; // upgrades the service refused with an HTTP answer (listener disabled...)
  std::uint64_t webRequests = 0;       // requests given to the web service (pages, /amt-storage/)
};

}  // namespace mesim::wsman::http
