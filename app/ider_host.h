// The host's side of IDE redirection (docs/ide-redirection.md): what a device adds around wsman/redirection's
// IderHub. The host boots (a power change of the state machine) -> IderHub::hostBooted (the OnReboot device
// appears, the simulated BIOS boots from it when AMT_BootSettingData says UseIDER); the redirected media is an NBD
// export on a Unix socket (hostif/nbd), read through the console; /status shows both.
#pragma once

#include <filesystem>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "common/result.h"
#include "firmware/platform/host_power.h"
#include "hostif/nbd/nbd_server.h"
#include "wsman/redirection/ider_session.h"

namespace mesim::app {

class IderHost {
 public:
  IderHost(boost::asio::io_context& io, wsman::redirection::IderHub& hub, std::filesystem::path nbdSocket);
  ~IderHost();
  IderHost(const IderHost&) = delete;
  IderHost& operator=(const IderHost&) = delete;

  Result<> start();
  void stop();
  // From the host power state machine's hook.
  void powerChanged(const platform::PowerChange& change);
  const std::string& nbdPath() const;
  boost::json::object statusJson() const;

 private:
  wsman::redirection::IderHub& hub_;
  std::unique_ptr<hostif::nbd::NbdServer> nbd_;
  bool serving_ = false;  // the NBD socket is listening
};

}  // namespace mesim::app
