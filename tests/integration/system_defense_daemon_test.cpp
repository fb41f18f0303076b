// System Defense with a real effect (docs/system-defense.md): the test makes a network namespace with a veth pair
// to the root namespace (10.251.x.0/30, nothing leaves the machine), starts the daemon with --host-netns and a
// manual firmware clock, checks ping and a TCP connect from the namespace to the peer, then over WS-Man creates a
// drop filter and policy and activates it: the ping and the connect fail while WS-Man still answers, the counters of
// AMT_ActiveFilterStatistics move and a 0x24 record is logged; past the policy's Timeout (POST /clock/advance)
// traffic flows again; activated again and the policy deleted, it flows again too. Needs root (CAP_NET_ADMIN), ip
// and nft: skipped with the reason otherwise.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <regex>

#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";

bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

bool found(const char* program) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"})
    if (::access((std::string(dir) + program).c_str(), X_OK) == 0) return true;
  return false;
}

std::string selector(const std::string& name, const std::string& value) {
  return "<w:Selector Name=\"" + name + "\">" + value + "</w:Selector>";
}

std::string epr(const std::string& uri, const std::string& selectors) {
  return "<a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters>"
         "<w:ResourceURI>" + uri + "</w:ResourceURI><w:SelectorSet>" + selectors + "</w:SelectorSet></a:ReferenceParameters>";
}

const std::string kWiredPort =
    epr(kCim + "CIM_EthernetPort", selector("CreationClassName", "CIM_EthernetPort") +
                                       selector("DeviceID", "Intel(r) AMT Ethernet Port 0") +
                                       selector("SystemCreationClassName", "CIM_ComputerSystem") +
                                       selector("SystemName", "ManagedSystem"));

std::string createRequest(const std::string& cls, const std::string& body) {
  return wsmanEnvelope(kTransfer + "Create", kAmt + cls, "<h:" + cls + " xmlns:h=\"" + kAmt + cls + "\">" + body + "</h:" + cls + ">");
}

std::string selectorValue(const std::string& body, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex("Selector Name=\"" + name + "\">([^<]*)<"))) return "";
  return m[1];
}

class SystemDefenseDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN) to make a network namespace; CI runs as root";
    if (!found("ip") || !found("nft")) GTEST_SKIP() << "needs iproute2 (ip) and nftables (nft)";
    const int n = static_cast<int>(::getpid() % 250);
    netns = "mesim-sd-" + std::to_string(::getpid());
    veth = "msd" + std::to_string(::getpid() % 100000);
    peer = "10.251." + std::to_string(n) + ".1";
    host = "10.251." + std::to_string(n) + ".2";
    run("ip netns del " + netns);
    made = run("ip netns add " + netns);
    if (!made) GTEST_SKIP() << "ip netns add failed: no CAP_NET_ADMIN here";
    ASSERT_TRUE(run("ip link add " + veth + "a type veth peer name " + veth + "b"));
    ASSERT_TRUE(run("ip link set " + veth + "b netns " + netns));
    ASSERT_TRUE(run("ip addr add " + peer + "/30 dev " + veth + "a"));
    ASSERT_TRUE(run("ip link set " + veth + "a up"));
    ASSERT_TRUE(run("ip netns exec " + netns + " ip addr add " + host + "/30 dev " + veth + "b"));
    ASSERT_TRUE(run("ip netns exec " + netns + " ip link set " + veth + "b up"));
    ASSERT_TRUE(run("ip netns exec " + netns + " ip link set lo up"));
    // The peer's TCP service: a listener in the root namespace on the veth address.
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, peer.c_str(), &addr.sin_addr);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    tcpPort = ntohs(addr.sin_port);
  }

  void TearDown() override {
    if (listener >= 0) ::close(listener);
    daemon.stop();
    if (made) run("ip netns del " + netns);  // takes its veth end, and with it the pair
    if (!veth.empty()) run("ip link del " + veth + "a");
  }

  bool ping() { return run("ip netns exec " + netns + " ping -c 1 -W 1 " + peer); }
  bool tcpConnect() {
    return run("ip netns exec " + netns + " timeout 2 bash -c 'exec 3<>/dev/tcp/" + peer + "/" + std::to_string(tcpPort) + "'");
  }
  // Polls `what` (real time: rules are applied asynchronously) until it is `want`.
  bool becomes(const std::function<bool()>& what, bool want, std::chrono::seconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (what() == want) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  HttpAnswer wsman(const std::string& body) { return client->post(body); }

  std::string activate(const std::string& policy) {
    return wsman(createRequest("AMT_NetworkPortSystemDefensePolicy",
                               "<h:Antecedent>" + kWiredPort + "</h:Antecedent><h:Dependent>" +
                                   epr(kAmt + "AMT_SystemDefensePolicy", selector("InstanceID", policy)) + "</h:Dependent>"))
        .body;
  }

  std::string statistics(const std::string& policy) {
    const std::string uri = kAmt + "AMT_SystemDefensePolicy";
    wsman(wsmanEnvelope(uri + "/UpdateStatistics", uri,
                        "<h:UpdateStatistics_INPUT xmlns:h=\"" + uri + "\"><h:NetworkInterface>" + kWiredPort +
                            "</h:NetworkInterface></h:UpdateStatistics_INPUT>",
                        "1", selector("InstanceID", policy)));
    const std::string statsUri = kAmt + "AMT_ActiveFilterStatistics";
    auto e = wsman(wsmanEnvelope(kEnum + "Enumerate", statsUri,
                                 "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />"));
    std::smatch m;
    if (!std::regex_search(e.body, m, std::regex("EnumerationContext>([^<]*)<"))) return e.body;
    return wsman(wsmanEnvelope(kEnum + "Pull", statsUri,
                               "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                                   std::string(m[1]) + "</EnumerationContext></Pull>"))
        .body;
  }

  DaemonProcess daemon;
  std::unique_ptr<WsmanDigestClient> client;
  std::string netns, veth, peer, host;
  bool made = false;
  int listener = -1;
  std::uint16_t tcpPort = 0;
};

TEST_F(SystemDefenseDaemon, ADropPolicyIsolatesTheHostNamespaceUntilItsTimeoutOrDeletion) {
  ASSERT_TRUE(daemon.start({"--host-netns", netns, "--fuse", "off", "--clock", "manual", "--clock-start",
                            "2030-01-02T03:04:05Z"}))
      << daemon.log();
  client = std::make_unique<WsmanDigestClient>(daemon.httpPort());
  ASSERT_TRUE(ping()) << "the namespace reaches its peer before any policy";
  ASSERT_TRUE(tcpConnect());

  // A filter dropping what the host sends to the peer (with statistics), a policy holding it, a 1-minute Timeout.
  auto r = wsman(createRequest("AMT_IPHeadersFilter",
                               "<h:ActionEventOnMatch>true</h:ActionEventOnMatch><h:CreationClassName>AMT_IPHeadersFilter"
                               "</h:CreationClassName><h:FilterDirection>0</h:FilterDirection><h:FilterProfile>1"
                               "</h:FilterProfile><h:HdrDestAddress>" + peer + "</h:HdrDestAddress><h:HdrIPVersion>4"
                               "</h:HdrIPVersion><h:InstanceID>0</h:InstanceID><h:Name>to peer</h:Name>"
                               "<h:SystemCreationClassName>x</h:SystemCreationClassName><h:SystemName>x</h:SystemName>"));
  ASSERT_EQ(r.status, 200u) << r.body;
  const std::string filter = selectorValue(r.body, "InstanceID");
  r = wsman(createRequest("AMT_SystemDefensePolicy",
                          "<h:FilterCreationHandles>" + filter + "</h:FilterCreationHandles><h:InstanceID>0</h:InstanceID>"
                          "<h:PolicyName>isolate</h:PolicyName><h:PolicyPrecedence>1</h:PolicyPrecedence>"
                          "<h:RxDefaultDrop>false</h:RxDefaultDrop><h:TxDefaultDrop>false</h:TxDefaultDrop>"));
  ASSERT_EQ(r.status, 200u) << r.body;
  const std::string policy = selectorValue(r.body, "InstanceID");
  const std::string policyUri = kAmt + "AMT_SystemDefensePolicy";
  r = wsman(wsmanEnvelope(policyUri + "/SetTimeout", policyUri,
                          "<h:SetTimeout_INPUT xmlns:h=\"" + policyUri + "\"><h:Timeout>1</h:Timeout></h:SetTimeout_INPUT>", "1",
                          selector("InstanceID", policy)));
  ASSERT_NE(r.body.find("ReturnValue>0<"), std::string::npos) << r.body;

  ASSERT_NE(activate(policy).find("ResourceCreated"), std::string::npos);
  EXPECT_TRUE(becomes([&] { return ping(); }, false)) << daemon.log();
  EXPECT_FALSE(tcpConnect());
  // The AMT ports are the ME's, outside the host's namespace: WS-Man still answers.
  r = wsman(wsmanEnvelope(kTransfer + "Get", kAmt + "AMT_GeneralSettings"));
  EXPECT_EQ(r.status, 200u) << r.body;
  std::string stats;
  EXPECT_TRUE(becomes([&] {
    stats = statistics(policy);
    std::smatch m;
    return std::regex_search(stats, m, std::regex("FilterMatched>([1-9][0-9]*)<"));
  }, true)) << stats;
  EXPECT_TRUE(becomes([&] { return daemon.get("/logs/events").find("\"sensor_type\":36") != std::string::npos; }, true))
      << daemon.get("/logs/events");
  EXPECT_NE(daemon.get("/logs/events").find("\"sensor_type\":192"), std::string::npos) << "the 0xC0 policy-invoked record";

  // Past the Timeout on the firmware clock, the policy is out of force.
  ASSERT_EQ(daemon.post("/clock/advance?seconds=61").substr(0, 3), "200");
  EXPECT_TRUE(becomes([&] { return ping(); }, true)) << daemon.log();
  EXPECT_TRUE(tcpConnect());

  // Activated again (no Timeout), then the policy deleted: traffic flows again.
  r = wsman(wsmanEnvelope(policyUri + "/SetTimeout", policyUri,
                          "<h:SetTimeout_INPUT xmlns:h=\"" + policyUri + "\"><h:Timeout>0</h:Timeout></h:SetTimeout_INPUT>", "1",
                          selector("InstanceID", policy)));
  ASSERT_NE(activate(policy).find("ResourceCreated"), std::string::npos);
  EXPECT_TRUE(becomes([&] { return ping(); }, false));
  r = wsman(wsmanEnvelope(kTransfer + "Delete", policyUri, "", "1", selector("InstanceID", policy)));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(becomes([&] { return ping(); }, true));
  EXPECT_TRUE(tcpConnect());
}

}  // namespace
}  // namespace mesim::test
