// What a local agent does first (rpc-go, MeshCmd): read the OS admin account with AMTHI GetLocalSystemAccount over
// dev/mei0, start an LMS on the same device and log in to WS-Man through it. Before provisioning completes this is
// the only way in: the network ports are shut.
#pragma once

#include <memory>
#include <string>

#include "tests/support/amthi_call.h"
#include "tests/support/lms_host.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {

struct OsAdminThroughLms {
  std::unique_ptr<LmsHost> host;
  std::string user;
  std::string password;

  ~OsAdminThroughLms() {
    if (host) host->stop();
  }
  std::uint16_t httpPort() const { return host->localPort(16992); }
  // A client through LMS as the OS admin, or as another account (the admin) on the same local path.
  std::unique_ptr<WsmanDigestClient> client() const { return std::make_unique<WsmanDigestClient>(httpPort(), user, password); }
  std::unique_ptr<WsmanDigestClient> clientAs(const std::string& otherUser, const std::string& otherPassword) const {
    return std::make_unique<WsmanDigestClient>(httpPort(), otherUser, otherPassword);
  }
};

// Null when the account cannot be read (the answer is not real firmware's 68 bytes) or LMS does not start.
inline std::unique_ptr<OsAdminThroughLms> startOsAdminThroughLms(const std::string& meiDevice) {
  constexpr std::uint32_t kGetLocalSystemAccount = 0x04000067;
  const auto r = amthiRequest(meiDevice, kGetLocalSystemAccount, std::vector<std::uint8_t>(40, 0));
  if (r.size() != 12u + 4u + 68u || amthiStatus(r) != 0) return nullptr;
  auto session = std::make_unique<OsAdminThroughLms>();
  session->user.assign(reinterpret_cast<const char*>(r.data() + 16));
  session->password.assign(reinterpret_cast<const char*>(r.data() + 16 + 33));
  session->host = std::make_unique<LmsHost>([meiDevice] { return std::make_unique<FdMeiTransport>(meiDevice); });
  if (session->host->start() != 0 || session->httpPort() == 0) return nullptr;
  return session;
}

}  // namespace mesim::test
