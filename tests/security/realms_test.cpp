// Issue 10 item 2 (privilege escalation): over real HTTP with Digest against the daemon, an ACL user holding only
// the Redirection realm could change the admin's password (SetAdminAclEntryEx) and add users (AddUserAclEntryEx).
// Both are the administrator's (PT Administration): the user gets wsman:AccessDenied and nothing changes, while
// the user's own realm and the admin keep working.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <regex>

#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

const std::string kAuthorization = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AuthorizationService";
const std::string kRedirection = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_RedirectionService";

// DigestPassword as consoles send it: base64 of the raw MD5(user:realm:password).
std::string digestPassword(const std::string& user, const std::string& realm, const std::string& password) {
  const std::string hex = md5Hex(user + ":" + realm + ":" + password);
  unsigned char raw[16];
  for (int i = 0; i < 16; ++i) raw[i] = static_cast<unsigned char>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  unsigned char out[32] = {};
  EVP_EncodeBlock(out, raw, 16);
  return reinterpret_cast<char*>(out);
}

std::string invoke(const std::string& uri, const std::string& method, const std::string& args) {
  return wsmanEnvelope(uri + "/" + method, uri,
                       "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + args + "</h:" + method + "_INPUT>");
}

std::string addUser(const std::string& name, const std::string& digest, int realm) {
  return invoke(kAuthorization, "AddUserAclEntryEx",
                "<h:DigestUsername>" + name + "</h:DigestUsername><h:DigestPassword>" + digest +
                    "</h:DigestPassword><h:AccessPermission>2</h:AccessPermission><h:Realms>" + std::to_string(realm) +
                    "</h:Realms>");
}

std::string setAdmin(const std::string& digest) {
  return invoke(kAuthorization, "SetAdminAclEntryEx",
                "<h:Username>admin</h:Username><h:DigestPassword>" + digest + "</h:DigestPassword>");
}

std::string element(const std::string& body, const std::string& local) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex(":" + local + ">([^<]*)<"))) return "<none>";
  return m[1];
}

bool accessDenied(const HttpAnswer& a) {
  return a.status == 400 && a.body.find(":AccessDenied</") != std::string::npos;
}

TEST(SecurityRealms, ARedirectionUserCanNeitherTakeTheAdminAccountNorAddUsers) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off"})) << daemon.log();
  WsmanDigestClient admin(daemon.httpPort());
  auto settings = admin.post(wsmanGetGeneralSettings());
  ASSERT_EQ(settings.status, 200u) << settings.error << settings.body;
  const std::string realm = element(settings.body, "DigestRealm");

  auto added = admin.post(addUser("viewer", digestPassword("viewer", realm, "Viewer1!"), 2));
  ASSERT_EQ(added.status, 200u) << added.body;
  ASSERT_EQ(element(added.body, "ReturnValue"), "0") << added.body;

  WsmanDigestClient viewer(daemon.httpPort(), "viewer", "Viewer1!");
  auto takeOver = viewer.post(setAdmin(digestPassword("admin", realm, "Stolen1!")));
  EXPECT_TRUE(accessDenied(takeOver)) << takeOver.status << " " << takeOver.body;
  auto escalate = viewer.post(addUser("mallory", digestPassword("mallory", realm, "Mallory1!"), 3));
  EXPECT_TRUE(accessDenied(escalate)) << escalate.status << " " << escalate.body;
  // What Redirection is for still works.
  auto redirection =
      viewer.post(invoke(kRedirection, "RequestStateChange", "<h:RequestedState>32771</h:RequestedState>"));
  EXPECT_EQ(redirection.status, 200u) << redirection.body;
  EXPECT_EQ(element(redirection.body, "ReturnValue"), "0") << redirection.body;

  // Nothing changed: the admin's password is the old one, the stolen one and mallory do not log in.
  WsmanDigestClient stolen(daemon.httpPort(), "admin", "Stolen1!");
  EXPECT_EQ(stolen.post(wsmanGetGeneralSettings()).status, 401u);
  WsmanDigestClient mallory(daemon.httpPort(), "mallory", "Mallory1!");
  EXPECT_EQ(mallory.post(wsmanGetGeneralSettings()).status, 401u);
  WsmanDigestClient adminAgain(daemon.httpPort());
  auto listed = adminAgain.post(invoke(kAuthorization, "EnumerateUserAclEntries", "<h:StartIndex>1</h:StartIndex>"));
  ASSERT_EQ(listed.status, 200u) << listed.body;
  EXPECT_EQ(element(listed.body, "TotalCount"), "1") << listed.body;
  EXPECT_NE(daemon.log().find("access denied: viewer"), std::string::npos) << daemon.log();

  // The admin still may do both.
  auto byAdmin = adminAgain.post(addUser("operator", digestPassword("operator", realm, "Operator1!"), 3));
  EXPECT_EQ(element(byAdmin.body, "ReturnValue"), "0") << byAdmin.body;
  auto changed = adminAgain.post(setAdmin(digestPassword("admin", realm, "N3w-P@ss")));
  EXPECT_EQ(element(changed.body, "ReturnValue"), "0") << changed.body;
  WsmanDigestClient renewed(daemon.httpPort(), "admin", "N3w-P@ss");
  EXPECT_EQ(renewed.post(wsmanGetGeneralSettings()).status, 200u);
  daemon.stop();
}

}  // namespace
}  // namespace mesim::test
