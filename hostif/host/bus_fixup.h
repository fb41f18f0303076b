// The bus fixup that follows enumeration (the kernel's bus-fixup.c, spec/mei.md §2.4 step 5, §5): the driver
// connects to the MKHI fix client as an in-kernel client, sends the OS version (no reply) and asks
// GET_FW_VERSION, whose answer sysfs fw_ver shows. It runs through HostClients like any open file.
//
// Threading: on the host's io_context.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "hostif/host/hbm_bus.h"
#include "hostif/host/host_clients.h"

namespace mesim::host {

// One of the three version blocks of MKHI GET_FW_VERSION (code, NFTP, FITC).
struct FwVersionBlock {
  unsigned platform = 0, major = 0, minor = 0, hotfix = 0, build = 0;
};
// The blocks of a GET_FW_VERSION reply (at most three); nullopt if it is not one.
std::optional<std::vector<FwVersionBlock>> parseFwVersionReply(const hbm::Bytes& reply);
// sysfs fw_ver: three "platform:major.minor.hotfix.build" lines, zeros for missing blocks.
std::string formatFwVer(const std::vector<FwVersionBlock>& blocks);

class BusFixup {
 public:
  BusFixup(boost::asio::io_context& io, const HbmBus& bus, HostClients& clients);
  BusFixup(const BusFixup&) = delete;
  BusFixup& operator=(const BusFixup&) = delete;

  // Enumeration is done: the fixup counts as running from now (before ENABLED is announced) ...
  void begin() { running_ = true; }
  // ... and starts once ENABLED was announced.
  void run();
  // `done` once the fixup has finished and closed its connection; at once if none is running.
  void whenDone(std::function<void()> done);
  const std::vector<FwVersionBlock>& firmwareVersions() const { return fwVersions_; }

  const log::Context& logContext() const { return bus_.logContext(); }

 private:
  void finish();

  boost::asio::io_context& io_;
  const HbmBus& bus_;
  HostClients& clients_;
  bool running_ = false;
  std::vector<std::function<void()>> waiters_;
  std::vector<FwVersionBlock> fwVersions_;
};

}  // namespace mesim::host
