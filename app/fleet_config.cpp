#include "app/fleet_config.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <boost/asio/ip/address_v4.hpp>

namespace mesim::app {
namespace {

// "fleet-0007" -> 7; 0 for anything that is not a fleet device's name.
unsigned fleetNumberOf(const std::string& name) {
  constexpr std::string_view prefix = "fleet-";
  if (!name.starts_with(prefix) || name.size() < prefix.size() + 4 || name.size() > prefix.size() + 6) return 0;
  unsigned number = 0;
  for (char c : name.substr(prefix.size())) {
    if (c < '0' || c > '9') return 0;
    number = number * 10 + static_cast<unsigned>(c - '0');
  }
  return fleetDeviceName(number) == name ? number : 0;  // one spelling per device: no fleet-00007 for fleet-0007
}

}  // namespace

std::string fleetDeviceName(unsigned number) {
  char name[32];
  std::snprintf(name, sizeof name, "fleet-%04u", number);
  return name;
}

std::string addFleetDevices(const FleetConfig& fleet, const DeviceConfig& base, std::vector<DeviceConfig>& devices) {
  if (fleet.count > kFleetMaxCount) return "--fleet must be 0..10000";
  if (fleet.firstIndex < 1 || fleet.firstIndex > kFleetMaxIndex || fleet.firstIndex - 1 + fleet.count > kFleetMaxIndex)
    return "--fleet-first-index must be 1.." + std::to_string(kFleetMaxIndex) + ", and the shard's last device (first-index + fleet - 1) at most " +
           std::to_string(kFleetMaxIndex);
  if (fleet.seed && (fleet.seed->empty() || fleet.seed->size() > 256))
    return "--fleet-seed takes 1..256 characters of text";
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address_v4(fleet.address, ec);
  if (ec) return "--fleet-address takes an IPv4 address, not '" + fleet.address + "'";
  if (fleet.portBase) {
    if (fleet.portStride < kFleetPortsPerDevice || fleet.portStride > 1000)
      return "--fleet-port-stride must be " + std::to_string(kFleetPortsPerDevice) + "..1000 (each device has " +
             std::to_string(kFleetPortsPerDevice) + " ports)";
    const unsigned long long last =
        *fleet.portBase + static_cast<unsigned long long>(fleet.count ? fleet.count - 1 : 0) * fleet.portStride + kFleetPortsPerDevice - 1;
    if (*fleet.portBase < 1 || last > 65535)
      return "--fleet-port-base " + std::to_string(*fleet.portBase) + ": " + std::to_string(fleet.count) +
             " devices with stride " + std::to_string(fleet.portStride) + " need ports up to " + std::to_string(last) +
             ", past 65535";
  } else if (address.to_uint() > 0xFFFFFFFFu - fleet.count) {
    return "--fleet-address: " + fleet.address + " leaves no room for " + std::to_string(fleet.count) + " devices";
  }
  for (const auto& name : fleet.hostSide)
    if (fleetNumberOf(name) == 0)
      return "--fleet-host-side: '" + name + "' is not a fleet device's name (fleet-0001, fleet-0002, ...)";

  // A seed given only for the default device (identity-seed) reaches the fleet too, keyed by number.
  const std::optional<std::string> seed = fleet.seed ? fleet.seed : base.identity ? std::optional(base.identity->seed) : std::nullopt;
  for (unsigned k = 0; k < fleet.count; ++k) {
    const unsigned number = fleet.firstIndex + k;
    DeviceConfig device = derivedDevice(base, fleetDeviceName(number));
    device.hostName = device.name;  // what a console lists the machine as
    if (seed) device.identity = platform::IdentitySeed{*seed, "fleet/" + std::to_string(number)};
    else device.identity.reset();
    // A mount and sockets per device (FUSE, preload, the IDE-R NBD export) are for the devices that ask (a fleet's are reached over the network); names
    // outside this shard's range are other shards' business, so one list serves every shard.
    const bool hostSide = std::find(fleet.hostSide.begin(), fleet.hostSide.end(), device.name) != fleet.hostSide.end();
    if (!hostSide) {
      device.fuse = FuseMode::Off;
      device.preload = false;
      device.iderNbd = false;
    }
    if (fleet.portBase) {
      device.listenAddress = fleet.address;
      const int first = static_cast<int>(*fleet.portBase + k * fleet.portStride);
      // A port the default device turns off (-1) stays off; the others take their place in the layout.
      for (auto [port, offset] : {std::pair{&device.httpPort, kFleetHttp}, std::pair{&device.httpsPort, kFleetHttps},
                                  std::pair{&device.redirectionPort, kFleetRedirection},
                                  std::pair{&device.redirectionTlsPort, kFleetRedirectionTls},
                                  std::pair{&device.rfbPort, kFleetRfb}})
        if (*port >= 0) *port = first + static_cast<int>(offset);
    } else {
      device.listenAddress = boost::asio::ip::address_v4(address.to_uint() + k).to_string();
    }
    devices.push_back(std::move(device));
  }
  return "";
}

}  // namespace mesim::app
