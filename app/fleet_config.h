// A fleet: N devices alike in one process (`--fleet N`, the config file's [fleet] section; docs/fleet.md). Each is
// numbered globally (first-index .. first-index+N-1, so shards of one fleet in several processes or containers
// never share a name or an identity), listens on its own loopback address or on its own ports of one address, and
// runs without a host side (FUSE, preload, the IDE-R NBD export) unless listed in host-side.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/config.h"

namespace mesim::app {

// The port layout with port-base: device k of the shard (k = 0..count-1) serves http on base + k*stride and the
// next ports in this order. A stride below their number would make neighbours overlap.
enum FleetPortOffset : unsigned { kFleetHttp = 0, kFleetHttps = 1, kFleetRedirection = 2, kFleetRedirectionTls = 3, kFleetRfb = 4 };
inline constexpr unsigned kFleetPortsPerDevice = 5;

struct FleetConfig {
  unsigned count = 0;
  unsigned firstIndex = 1;      // the global number of this shard's first device
  std::optional<std::string> seed;       // identities from (seed, global number); unset: random
  std::string address = "127.1.0.1";     // the first device's address (per-address layout), or every device's
  std::optional<unsigned> portBase;      // set: every device on `address`, ports from here (the port layout)
  unsigned portStride = kFleetPortsPerDevice;
  std::vector<std::string> hostSide;     // devices that keep FUSE, preload and NBD as the default device has them
};

inline constexpr unsigned kFleetMaxCount = 10000;
inline constexpr unsigned kFleetMaxIndex = 999999;

// "fleet-0007", "fleet-12345": at least four digits, as names have always been.
std::string fleetDeviceName(unsigned number);

// The devices of `fleet`, each a copy of `base` (the default device) with its own name, dirs, address or ports,
// identity and host side; "" or the error, naming the option at fault.
std::string addFleetDevices(const FleetConfig& fleet, const DeviceConfig& base,
                                           std::vector<DeviceConfig>& devices);

}  // namespace mesim::app
