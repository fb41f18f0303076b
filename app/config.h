// The process's options and the devices it holds. Each option is a command-line flag, a MESIM_* environment
// variable and a key in the config file, in that order of precedence over the embedded defaults; the file may also
// declare more devices in `[device.NAME]` sections, and `--fleet N` adds N alike (docs/configuration.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/file_access.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/events/subscription.h"
#include "firmware/platform/identity_seed.h"
#include "firmware/platform/platform_state.h"

namespace mesim::app {

enum class FuseMode { Auto, On, Off };
// Simulated: mesim plays the OS on the host's CPU (hostif/os); None: the host is the user's programs alone.
enum class HostOsMode { Simulated, None };
// --sol-host: what plays the host's serial port for SOL. Default: the simulated OS's console, or a PTY without one.
// UnixListen / UnixConnect: a Unix socket (solHostPath) that a VM's serial port connects to, or listens on.
enum class SolHostMode { Default, Console, Pty, UnixListen, UnixConnect };
// --kvm-host: what KVM shows. Console: the simulated console's screen (or a notice without one); Unix: an upstream
// VNC server on a Unix socket (kvmHostPath, QEMU -vnc unix:PATH) that mesim proxies.
enum class KvmHostMode { Console, Unix };

// AMT's login back-off (docs/configuration.md: who it protects, and that anyone who can reach the port can keep
// a user locked out with it): `threshold` successive failures lock the name out for `initial`, doubling per
// lockout up to `max`; `reset` without failures starts over. threshold 0 turns it off.
struct LoginLockout {
  unsigned threshold = 10;
  std::chrono::seconds initial{5};
  std::chrono::seconds max{80};
  std::chrono::seconds reset{3600};
};

// The provisioning state a device starts in when its state dir is new (--provisioning); an existing platform.json
// keeps its own. And the time an unfinished host-based configuration has (--provisioning-timeout).
struct ProvisioningStart {
  platform::ProvisioningState state = platform::ProvisioningState::Post;
  platform::ControlMode controlMode = platform::ControlMode::Admin;
  std::chrono::seconds timeout = std::chrono::hours(24);
};

// One simulated AMT platform: where it keeps its state, how its host side is served, where it listens.
struct DeviceConfig {
  std::string name = "default";  // names its log lines and its control routes (/devices/NAME/...)
  std::string hostName = "mesim";  // a new state dir's host name (a fleet device's: its name)
  // A new state dir's UUID, MACs and Digest realm derive from this (--identity-seed, --fleet-seed); unset: random.
  std::optional<platform::IdentitySeed> identity;
  core::ClockSetting clock;      // --clock, --clock-start: real, scaled or manual firmware time
  std::filesystem::path stateDir;
  std::filesystem::path runtimeDir;
  std::optional<std::filesystem::path> meiDev;     // e.g. /dev/mei0: a symlink to the FUSE node
  std::optional<std::filesystem::path> hbmListen;  // unix:PATH given: raw HBM for an external driver
  // Who may reach the ME from the host: dev/mei0, preload.sock and the hbm-listen socket (--mei-mode, --mei-group).
  FileAccess meiAccess;
  FileAccess watchdogAccess;  // dev/watchdog0 (--watchdog-mode, --watchdog-group)
  FuseMode fuse = FuseMode::Auto;
  bool preload = true;
  bool iderNbd = true;  // the IDE-R media as an NBD export on runtime-dir/ider.nbd (host side: off for a fleet's)
  std::uint32_t bufferSlots = 128;
  std::string listenAddress = "127.0.0.1";  // WS-Man listeners
  int httpPort = 16992;                      // 0 = any free port, negative = off
  int httpsPort = 16993;
  int redirectionPort = 16994;               // redirection (SOL): 0 = any free port, negative = off
  int redirectionTlsPort = 16995;
  int rfbPort = 5900;                        // KVM as standard RFB (app/device_kvm.h): 0 = any free port, negative = off
  SolHostMode solHost = SolHostMode::Default;  // --sol-host
  std::string solHostPath;                     // --sol-host unix:PATH / unix-connect:PATH
  KvmHostMode kvmHost = KvmHostMode::Console;  // --kvm-host
  std::string kvmHostPath;                     // --kvm-host unix:PATH
  std::string kvmHostPassword;                 // --kvm-host-password: VNC authentication to the upstream
  std::optional<std::filesystem::path> tlsCert;  // user-supplied PEM certificate and key for 16993
  std::optional<std::filesystem::path> tlsKey;
  std::string powerHook;  // command run on every host power change
  // --host-netns: the network namespace that plays the host's network; System Defense filters it with nftables.
  std::string hostNetns;
  std::string adminPassword = "P@ssw0rd";
  bool adminPasswordGiven = false;    // set explicitly: re-applied on every start
  ProvisioningStart provisioning;     // --provisioning, --provisioning-timeout
  bool wirelessNic = true;            // --wireless: a new state dir's platform has a Wi-Fi NIC
  // --trusted-root-hash: test roots' hashes (20, 32 or 48 bytes) made trusted, enabled user hashes, on every start.
  std::vector<std::vector<std::uint8_t>> trustedRootHashes;
  // --cira-*: the CIRA set-up a console would make over WS-Man (docs/cira.md), applied at start to a device with no
  // MPS configured: the MPS, its login, its root as a trusted certificate, a periodic rule that keeps the tunnel up.
  struct CiraPreset {
    std::string host;
    std::uint32_t port = 4433;
    std::string user;
    std::string password;
    std::string commonName;      // the name the MPS certificate must carry ("": the host)
    std::string rootDerBase64;   // --cira-root, the PEM file's first certificate
    std::uint32_t intervalSeconds = 60;  // how often a lost tunnel is called again by the periodic rule
  };
  std::optional<CiraPreset> cira;
  unsigned watchdogMinTimeout = 120;  // dev/watchdog0: smallest (and default) timeout, as mei_wdt enforces
  HostOsMode hostOs = HostOsMode::Simulated;           // --host-os
  std::chrono::milliseconds hostOsBootTime{5000};      // --host-os-boot-time: power on to its watchdog daemon
  events::DeliveryPolicy eventDelivery;  // --event-retries, --event-retry-interval, --event-policy, ...
  LoginLockout loginLockout;             // --login-lockout-*
  // WS-Man connections per listener (HTTP, HTTPS, LMS channels) and per client address on each network listener
  // (wsman/http/wsman_http_options.h); 0 = no limit.
  std::size_t wsmanMaxConnections = 64;
  std::size_t wsmanMaxConnectionsPerAddress = 32;
};

// What is process-wide: logging, the control API, the loop; and the devices (the first one is the default, the
// one today's command lines and the control API's unprefixed routes address).
struct Config {
  std::optional<std::filesystem::path> configFile;
  std::string logLevel = "info";
  std::string controlAddress = "127.0.0.1";
  std::uint16_t controlPort = 16990;
  // The loop polls this long after its last event before sleeping: a sleeping thread's wake-up (a halted vCPU)
  // costs more than a request's work, and the next call of a busy client usually comes within it.
  std::chrono::microseconds loopSpin{50};
  std::size_t controlMaxConnections = 32;  // control API connections at once (0 = no limit)
  // Network listeners (WS-Man, the control API) leave the last this many descriptors below RLIMIT_NOFILE to the
  // firmware (common/descriptors.h); 0 keeps none.
  std::size_t descriptorReserve = 64;
  // QA scenario files run once every device is ready, in this order (docs/scenarios.md); with scenarioExit the
  // process then stops, exiting 0 if all passed and 1 if not.
  std::vector<std::filesystem::path> scenarios;
  bool scenarioExit = false;
  std::vector<DeviceConfig> devices;
};

// "250ms", "5s", "2m", "1h" or a bare number of seconds; nullopt if malformed.
std::optional<std::chrono::milliseconds> parseInterval(const std::string& text);

struct ParseResult {
  enum class Action { Run, Help, Version, Error } action = Action::Run;
  Config config;
  std::string message;  // help text, version, or the error
};

// argv plus the environment (MESIM_*) plus the config file named by --config / MESIM_CONFIG.
ParseResult parseConfig(int argc, const char* const argv[], char** environ);

// A device besides the default one starts as a copy of it, with its own name and dirs (state-dir/devices/NAME,
// runtime-dir/devices/NAME), without the default's host-global paths (mei-dev, hbm-listen), and with an inherited
// identity seed keyed by its own name.
DeviceConfig derivedDevice(const DeviceConfig& base, const std::string& name);

std::filesystem::path defaultStateDir();
std::filesystem::path defaultRuntimeDir();

}  // namespace mesim::app
