// The AMTHI client driven through ClientConnection, checked byte for byte against spec/mei.md §4 and the
// layouts of LMS, rpc-go and MeshAgent.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "firmware/clients/amthi_client.h"
#include "firmware/clients/client_guids.h"
#include "firmware/core/atomic_file.h"
#include "firmware/platform/wifi_profiles.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::clients {
namespace {

using amthi::Command;
using amthi::Status;
using hbm::Bytes;
using platform::ControlMode;
using platform::PlatformDefaults;
using platform::PlatformModel;
using platform::ProvisioningState;

std::uint32_t le32(const Bytes& b, std::size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | std::uint32_t{b[at + 3]} << 24;
}

class AmthiTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(PlatformDefaults d = {}) {
    client.reset();
    model.reset();
    auto opened = PlatformModel::open(dir.path(), d);
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    client = std::make_unique<AmthiClient>(*model);
  }
  std::unique_ptr<PlatformModel> reopen() {
    auto opened = PlatformModel::open(dir.path(), {});
    EXPECT_TRUE(opened) << opened.error().message;
    auto again = opened ? std::move(*opened) : nullptr;
    return again;
  }

  // One request through onMessage; exactly one response is expected.
  Bytes call(const Bytes& request) {
    auto sent = test::exchange(*client, request);
    EXPECT_EQ(sent.size(), 1u);
    return sent.empty() ? Bytes{} : sent.front();
  }
  Bytes call(Command c, const Bytes& payload = {}) { return call(amthi::makeRequest(amthi::code(c), payload)); }

  // Checks the response frame (command, version, length, status) and returns its payload.
  Bytes expectResponse(const Bytes& response, Command c, Status status, std::size_t payloadSize) {
    EXPECT_EQ(response.size(), amthi::kHeaderSize + 4 + payloadSize) << amthi::commandName(amthi::code(c));
    auto parsed = amthi::parseResponse(response);
    EXPECT_TRUE(parsed) << amthi::commandName(amthi::code(c));
    if (!parsed) return {};
    EXPECT_EQ(parsed->header.command, amthi::responseCode(c));
    EXPECT_EQ(parsed->header.major, 1);
    EXPECT_EQ(parsed->header.minor, 1);
    EXPECT_EQ(parsed->header.reserved, 0);
    EXPECT_EQ(parsed->header.length, 4 + payloadSize);
    EXPECT_EQ(parsed->status, status) << std::hex << static_cast<std::uint32_t>(parsed->status);
    return Bytes(parsed->payload.begin(), parsed->payload.end());
  }
  Bytes expectOk(Command c, std::size_t payloadSize, const Bytes& requestPayload = {}) {
    return expectResponse(call(c, requestPayload), c, Status::Success, payloadSize);
  }
  void expectStatus(Command c, Status status, const Bytes& requestPayload = {}) {
    expectResponse(call(c, requestPayload), c, status, 0);
  }

  test::TempDir dir{"amthi"};
  std::unique_ptr<PlatformModel> model;
  std::unique_ptr<AmthiClient> client;
};

// ------------------------------------------------------------------------------------------------
// Framing
// ------------------------------------------------------------------------------------------------

TEST_F(AmthiTest, PropertiesDescribeTheAmthiClient) {
  auto props = client->properties();
  const Bytes guid{0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b, 0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c};
  EXPECT_EQ(Bytes(props.uuid.bytes.begin(), props.uuid.bytes.end()), guid);  // spec/mei.md §1.1
  EXPECT_EQ(props.protocolVersion, 1);
  EXPECT_EQ(props.maxMsgLength, 4096u);
  EXPECT_GE(props.maxConnections, 64);  // LMS opens one per command
  EXPECT_EQ(props.fixedAddress, 0);
  EXPECT_STREQ(client->name(), "AMTHI");
  EXPECT_TRUE(makeAmthiClient(*model));
}

TEST_F(AmthiTest, RequestAndResponseHeadersAreExact) {
  EXPECT_EQ(amthi::makeRequest(amthi::code(Command::GetCodeVersions)),
            (Bytes{0x01, 0x01, 0x00, 0x00, 0x1A, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(amthi::makeRequest(amthi::code(Command::Unprovision), amthi::encodeU32(0)),
            (Bytes{0x01, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00, 0x04, 0x04, 0x00, 0x00, 0x00, 0, 0, 0, 0}));
  EXPECT_EQ(call(Command::GetProvisioningState),
            (Bytes{0x01, 0x01, 0x00, 0x00, 0x11, 0x00, 0x80, 0x04, 0x08, 0x00, 0x00, 0x00,  // header, length 8
                   0x00, 0x00, 0x00, 0x00,                                                   // status
                   0x02, 0x00, 0x00, 0x00}));                                                // post
}

TEST_F(AmthiTest, UnknownCommandAnswersInvalidCommand) {
  auto r = call(amthi::makeRequest(0x04000099));
  EXPECT_EQ(r, (Bytes{0x01, 0x01, 0x00, 0x00, 0x99, 0x00, 0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00}));
  // A "request" with the response bit set is not a command either.
  r = call(amthi::makeRequest(amthi::responseCode(Command::GetUuid)));
  EXPECT_EQ(le32(r, 12), 0x803u);
}

TEST_F(AmthiTest, WrongRequestLengthAnswersInvalidMessageLength) {
  expectStatus(Command::GetUuid, Status::InvalidMessageLength, Bytes{0});
  expectStatus(Command::GetLocalSystemAccount, Status::InvalidMessageLength);  // needs 40 reserved bytes
  expectStatus(Command::Unprovision, Status::InvalidMessageLength, Bytes{0, 0});
  expectStatus(Command::SetEnterpriseAccess, Status::InvalidMessageLength, Bytes(17, 0));
  expectStatus(Command::StartConfigurationHBased, Status::InvalidMessageLength, Bytes(389, 0));
  // header.length larger than what arrived
  Bytes r = amthi::makeRequest(amthi::code(Command::GetCertHashEntry), amthi::encodeU32(1));
  r[8] = 8;
  expectResponse(call(r), Command::GetCertHashEntry, Status::InvalidMessageLength, 0);
}

TEST_F(AmthiTest, MalformedHeadersGetAnErrorAnswerNotACrash) {
  // Shorter than a header: INVALID_MESSAGE_LENGTH, echoing the command bytes that did arrive.
  auto r = call(Bytes{0x01, 0x01, 0x00, 0x00, 0x5C, 0x00, 0x00, 0x04});
  ASSERT_EQ(r.size(), 16u);
  EXPECT_EQ(le32(r, 4), amthi::responseCode(Command::GetUuid));
  EXPECT_EQ(le32(r, 12), 4u);
  r = call(Bytes{0x01});
  ASSERT_EQ(r.size(), 16u);
  EXPECT_EQ(le32(r, 12), 4u);
  r = call(Bytes{});
  EXPECT_EQ(r.size(), 16u);
  // Unsupported header version.
  Bytes req = amthi::makeRequest(amthi::code(Command::GetUuid));
  req[0] = 2;
  r = call(req);
  EXPECT_EQ(le32(r, 4), amthi::responseCode(Command::GetUuid));
  EXPECT_EQ(le32(r, 12), 0x1Du);
}

TEST_F(AmthiTest, RandomBytesAlwaysGetOneWellFormedAnswer) {
  test::LogThreshold quiet(log::Level::Error);
  std::mt19937 rng(7);
  const Bytes valid = amthi::makeRequest(amthi::code(Command::StartConfigurationHBased), Bytes(390, 0));
  for (int i = 0; i < 3000; ++i) {
    Bytes msg;
    if (i % 2) {
      msg.resize(rng() % 64);
      for (auto& b : msg) b = static_cast<std::uint8_t>(rng());
      if (msg.size() >= 8 && i % 4 == 1) {  // steer towards real command codes
        msg[0] = 1;
        msg[7] = 4;
        msg[6] = 0;
        msg[5] = 0;
      }
    } else {
      msg = valid;
      msg.resize(rng() % (valid.size() + 8));
      for (int k = 0; k < 4 && !msg.empty(); ++k) msg[rng() % msg.size()] = static_cast<std::uint8_t>(rng());
    }
    auto sent = test::exchange(*client, msg);
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_TRUE(amthi::parseResponse(sent[0])) << "iteration " << i;
  }
}

TEST_F(AmthiTest, ManyConnectionsEachGetTheirOwnAnswer) {
  std::vector<std::shared_ptr<test::RecordingConnection>> connections;
  for (int i = 0; i < 64; ++i) {
    connections.push_back(std::make_shared<test::RecordingConnection>(i + 1, static_cast<std::uint8_t>(i + 1)));
    client->onConnect(connections.back());
  }
  for (auto& c : connections) client->onMessage(c, amthi::makeRequest(amthi::code(Command::GetControlMode)));
  for (auto& c : connections) {
    ASSERT_EQ(c->sent.size(), 1u);
    EXPECT_EQ(le32(c->sent[0], 16), 2u);
    client->onDisconnect(c);
  }
}

// ------------------------------------------------------------------------------------------------
// Every command
// ------------------------------------------------------------------------------------------------

TEST_F(AmthiTest, GetProvisioningStateAlwaysSucceeds) {
  EXPECT_EQ(le32(expectOk(Command::GetProvisioningState, 4), 0), 2u);
  // Even with a wrong length: LMS 2506 crashes on a failed GetProvisioningState (spec/apf.md §4).
  EXPECT_EQ(le32(expectOk(Command::GetProvisioningState, 4, Bytes{1, 2, 3}), 0), 2u);
}

TEST_F(AmthiTest, GetControlMode) { EXPECT_EQ(le32(expectOk(Command::GetControlMode, 4), 0), 2u); }

TEST_F(AmthiTest, GetCodeVersions) {
  const auto& fw = model->firmware();
  const std::size_t n = fw.codeVersions.size();
  Bytes p = expectOk(Command::GetCodeVersions, 65 + 4 + 44 * n);
  // mei-amt-check: count == (length - 4 - 69) / 44, String[length] == 0, length == strlen.
  ASSERT_EQ(le32(p, 65), n);
  EXPECT_EQ(std::string(p.begin(), p.begin() + static_cast<long>(fw.biosVersion.size())), fw.biosVersion);
  EXPECT_EQ(p[fw.biosVersion.size()], 0);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t at = 69 + 44 * i;
    std::uint16_t dl = static_cast<std::uint16_t>(p[at] | p[at + 1] << 8);
    std::uint16_t vl = static_cast<std::uint16_t>(p[at + 22] | p[at + 23] << 8);
    EXPECT_EQ(std::string(p.begin() + static_cast<long>(at + 2), p.begin() + static_cast<long>(at + 2 + dl)),
              fw.codeVersions[i].description);
    EXPECT_EQ(std::string(p.begin() + static_cast<long>(at + 24), p.begin() + static_cast<long>(at + 24 + vl)),
              fw.codeVersions[i].version);
    EXPECT_EQ(p[at + 24 + vl], 0);
    EXPECT_LT(vl, 20);
  }
  auto decoded = amthi::decodeCodeVersions(p);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->versions[3].description, "AMT");
  EXPECT_EQ(decoded->versions[3].version, "16.1.27");
}

TEST_F(AmthiTest, GetUuidIsMixedEndian) {
  Bytes p = expectOk(Command::GetUuid, 16);
  // rpc-go's GetUUID printing (pkg/amt/commands.go) must give back the platform's UUID string.
  char text[40];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", p[3], p[2],
                p[1], p[0], p[5], p[4], p[7], p[6], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
  EXPECT_EQ(std::string(text), model->uuidString());
}

// Real firmware's layout: user[33] at 0, password[33] at 33, two bytes of padding to 68 (a multiple of 4); the
// header's length is 4 (status) + 68. An agent written against silicon accepts exactly this size.
TEST_F(AmthiTest, GetLocalSystemAccountIs68BytesPaddedToFour) {
  auto sent = test::exchange(*client, amthi::makeRequest(amthi::code(Command::GetLocalSystemAccount), Bytes(40, 0)));
  ASSERT_EQ(sent.size(), 1u);
  const Bytes& message = sent.front();
  ASSERT_EQ(message.size(), 12u + 4u + 68u);
  EXPECT_EQ(le32(message, 4), amthi::responseCode(Command::GetLocalSystemAccount));
  EXPECT_EQ(le32(message, 8), 72u);  // header.length = status + account data
  EXPECT_EQ(le32(message, 12), 0u);  // success
  const Bytes p(message.begin() + 16, message.end());
  const auto& lsa = model->localSystemAccount();
  ASSERT_EQ(lsa.user.size(), 32u);
  ASSERT_EQ(lsa.password.size(), 32u);
  EXPECT_EQ(std::string(p.begin(), p.begin() + 32), lsa.user);
  EXPECT_EQ(p[32], 0);  // the user's NUL
  EXPECT_EQ(std::string(p.begin() + 33, p.begin() + 65), lsa.password);
  EXPECT_EQ(p[65], 0);  // the password's NUL
  EXPECT_EQ(p[66], 0);  // padding
  EXPECT_EQ(p[67], 0);
  auto decoded = amthi::decodeLocalSystemAccount(p);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->user, lsa.user);
  EXPECT_EQ(decoded->password, lsa.password);
  // The old 66-byte form is not what firmware sends: the codec refuses it.
  EXPECT_FALSE(amthi::decodeLocalSystemAccount(hbm::ByteView(p).first(66)));
}

TEST_F(AmthiTest, GetLanInterfaceSettings) {
  Bytes p = expectOk(Command::GetLanInterfaceSettings, 20, amthi::encodeU32(0));
  const auto& wired = model->wired();
  EXPECT_EQ(le32(p, 0), 1u);           // enabled
  EXPECT_EQ(le32(p, 4), 0xC0A80164u);  // 192.168.1.100 as rpc-go prints it (>> 24 first)
  EXPECT_EQ(le32(p, 8), 1u);           // DHCP
  EXPECT_EQ(p[12], 1);                 // DHCP mode active
  EXPECT_EQ(p[13], 1);                 // link up
  EXPECT_EQ(Bytes(p.begin() + 14, p.end()), Bytes(wired.mac.begin(), wired.mac.end()));

  p = expectOk(Command::GetLanInterfaceSettings, 20, amthi::encodeU32(1));
  EXPECT_EQ(le32(p, 0), 0u);  // wireless present but disabled
  EXPECT_EQ(p[13], 0);
  expectStatus(Command::GetLanInterfaceSettings, Status::InvalidParameter, amthi::encodeU32(2));
}

// The wireless interface follows the Wi-Fi port and its profiles (docs/wireless-and-8021x.md): enabled with
// CIM_WiFiPort's state, link up with a DHCP lease once a profile is there to connect with.
TEST_F(AmthiTest, GetLanInterfaceSettingsOfTheWirelessPortFollowsItsProfiles) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.wifi.portState = platform::wifi_port_state::kEnabledInS0AndSxAc;
    platform::updateWirelessLink(s);
  }), platform::ChangeResult::Ok);
  Bytes p = expectOk(Command::GetLanInterfaceSettings, 20, amthi::encodeU32(1));
  EXPECT_EQ(le32(p, 0), 1u);  // enabled
  EXPECT_EQ(le32(p, 4), 0u);  // no address without a network
  EXPECT_EQ(p[13], 0);        // link down
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    platform::WifiProfile home;
    home.elementName = "home";
    home.instanceId = platform::itProfileInstanceId("home");
    home.ssid = "home-net";
    home.pskPassPhrase = "P@ssw0rd!";
    ASSERT_EQ(platform::checkItProfile(s.wifi, home), platform::WifiProfileCheck::Ok);
    platform::addProfile(s.wifi, home);
    platform::updateWirelessLink(s);
  }), platform::ChangeResult::Ok);
  p = expectOk(Command::GetLanInterfaceSettings, 20, amthi::encodeU32(1));
  EXPECT_EQ(le32(p, 0), 1u);
  EXPECT_EQ(le32(p, 4), platform::kWirelessLease);
  EXPECT_EQ(le32(p, 8), 1u);  // DHCP
  EXPECT_EQ(p[13], 1);        // link up
  const auto& wireless = model->wireless();
  EXPECT_EQ(Bytes(p.begin() + 14, p.end()), Bytes(wireless.mac.begin(), wireless.mac.end()));
}

// LMS's GetIPv6NetworkSettings: status 2500 (IPv6 off on that interface) is an answer it reports as IPv4-only; a
// missing interface is 2501 (StatusCodeDefinitions.h).
TEST_F(AmthiTest, GetIpv6LanInterfaceStatusSaysIpv6IsOff) {
  Bytes r = call(Command::GetIpv6LanInterfaceStatus, amthi::encodeU32(0));
  expectResponse(r, Command::GetIpv6LanInterfaceStatus, Status::Ipv6InterfaceDisabled, 0);
  EXPECT_EQ(le32(r, 12), 2500u);
  expectStatus(Command::GetIpv6LanInterfaceStatus, Status::Ipv6InterfaceDisabled, amthi::encodeU32(1));
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.wireless.present = false; }), platform::ChangeResult::Ok);
  r = call(Command::GetIpv6LanInterfaceStatus, amthi::encodeU32(1));
  expectResponse(r, Command::GetIpv6LanInterfaceStatus, Status::InterfaceDoesNotExist, 0);
  EXPECT_EQ(le32(r, 12), 2501u);
  expectStatus(Command::GetIpv6LanInterfaceStatus, Status::InvalidParameter, amthi::encodeU32(2));
  expectStatus(Command::GetIpv6LanInterfaceStatus, Status::InvalidMessageLength);  // the index is missing
}

// With IPv6 on (IPS_IPv6PortSettings through CIM_ElementSettingData), the wired interface answers what that class
// shows: router, DNS and the link-local (Intel MAC based interface ID) and static addresses.
TEST_F(AmthiTest, GetIpv6LanInterfaceStatusFollowsTheIpv6Settings) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.wired.mac = {0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc};
    s.wiredIpv6.enabled = true;
    s.wiredIpv6.interfaceIdType = platform::Ipv6InterfaceIdType::IntelMacBased;
    s.wiredIpv6.address = "2001:db8::10";
    s.wiredIpv6.defaultRouter = "2001:db8::1";
    s.wiredIpv6.primaryDns = "2001:db8::53";
  }), platform::ChangeResult::Ok);
  const Bytes p = expectOk(Command::GetIpv6LanInterfaceStatus, 3 * 46 + 4 + 2 * (46 + 8), amthi::encodeU32(0));
  auto status = amthi::decodeIpv6LanInterfaceStatus(p);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->defaultRouter, "2001:db8::1");
  EXPECT_EQ(status->primaryDns, "2001:db8::53");
  EXPECT_EQ(status->secondaryDns, "");
  ASSERT_EQ(status->addresses.size(), 2u);
  EXPECT_EQ(status->addresses[0].address, "fe80::1b:21aa:bbcc:8086");
  EXPECT_EQ(status->addresses[0].type, 0u);
  EXPECT_EQ(status->addresses[0].state, 1u);
  EXPECT_EQ(status->addresses[1].address, "2001:db8::10");
  EXPECT_EQ(status->addresses[1].type, 3u);
  // The link down: IPv6 is not in use.
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.wired.linkUp = false; }), platform::ChangeResult::Ok);
  expectStatus(Command::GetIpv6LanInterfaceStatus, Status::Ipv6InterfaceDisabled, amthi::encodeU32(0));
  // The codec refuses a count beyond what follows.
  Bytes truncated(p.begin(), p.begin() + 3 * 46 + 4 + 46);
  EXPECT_FALSE(amthi::decodeIpv6LanInterfaceStatus(truncated));
}

// Bit 0 BIOS, bit 1 OS agent: the interfaces AMT_UserInitiatedConnectionService enables.
TEST_F(AmthiTest, GetUserInitiatedEnabledInterfacesFollowsTheConnectionService) {
  EXPECT_EQ(le32(expectOk(Command::GetUserInitiatedEnabledInterfaces, 4), 0), 0u);  // 32768: all disabled
  for (std::uint32_t state : {32769u, 32770u, 32771u}) {
    ASSERT_EQ(model->update([&](platform::PlatformState& s) { s.userInitiatedConnectionState = state; }),
              platform::ChangeResult::Ok);
    EXPECT_EQ(le32(expectOk(Command::GetUserInitiatedEnabledInterfaces, 4), 0), state - 32768) << state;
  }
}

TEST_F(AmthiTest, GetFeaturesState) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.features.solSessionOpen = true;
    s.features.kvmSessionActive = true;
    s.features.eacEnabled = true;
  }), platform::ChangeResult::Ok);
  // 0 redirection {IderOpen, SolOpen, Reserved}, 1 system defense, 2 web UI, 3 EAC, 4 KVM.
  const std::uint32_t expected[5][3] = {{0, 1, 0}, {0, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}};
  for (std::uint32_t id = 0; id < 5; ++id) {
    Bytes p = expectOk(Command::GetFeaturesState, 16, amthi::encodeU32(id));
    EXPECT_EQ(le32(p, 0), id);
    for (int w = 0; w < 3; ++w) EXPECT_EQ(le32(p, 4 + 4 * w), expected[id][w]) << "id " << id << " word " << w;
  }
  expectStatus(Command::GetFeaturesState, Status::InvalidParameter, amthi::encodeU32(5));
}

TEST_F(AmthiTest, EnumerateHashHandlesAndGetCertHashEntry) {
  const auto& hashes = model->certHashes();
  Bytes p = expectOk(Command::EnumerateHashHandles, 4 + 4 * hashes.size());
  ASSERT_EQ(le32(p, 0), hashes.size());
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    const std::uint32_t handle = le32(p, 4 + 4 * i);
    ASSERT_EQ(handle, hashes[i].handle);
    Bytes e = expectOk(Command::GetCertHashEntry, 4 + 4 + 64 + 1 + 2 + hashes[i].name.size(), amthi::encodeU32(handle));
    EXPECT_EQ(le32(e, 0), 1u);  // IsDefault (u32: rpc-go, and LMS's parseData<bool> reads AMT_BOOLEAN)
    EXPECT_EQ(le32(e, 4), 1u);  // IsActive
    EXPECT_EQ(Bytes(e.begin() + 8, e.begin() + 8 + 32), hashes[i].hash);
    EXPECT_EQ(Bytes(e.begin() + 40, e.begin() + 72), Bytes(32, 0));
    EXPECT_EQ(e[72], 2);  // SHA-256
    EXPECT_EQ(e[73] | e[74] << 8, static_cast<int>(hashes[i].name.size()));
    EXPECT_EQ(std::string(e.begin() + 75, e.end()), hashes[i].name);
  }
  expectStatus(Command::GetCertHashEntry, Status::InvalidHandle, amthi::encodeU32(0xDEAD));
}

TEST_F(AmthiTest, GetPkiFqdnSuffixAndPowerPolicyAreAnsiStrings) {
  Bytes p = expectOk(Command::GetPkiFqdnSuffix, 2);
  EXPECT_EQ(p, (Bytes{0, 0}));
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.pkiDnsSuffix = "corp.example"; }),
            platform::ChangeResult::Ok);
  p = expectOk(Command::GetPkiFqdnSuffix, 2 + 12);
  EXPECT_EQ(p[0], 12);
  EXPECT_EQ(std::string(p.begin() + 2, p.end()), "corp.example");

  const auto& policy = model->state().powerPolicy;
  p = expectOk(Command::GetCurrentPowerPolicy, 2 + policy.size());
  EXPECT_EQ(amthi::decodeAnsiString(p), policy);
}

TEST_F(AmthiTest, GetDnsSuffixList) {
  Bytes p = expectOk(Command::GetDnsSuffixList, 2 + 12);
  EXPECT_EQ(p[0] | p[1] << 8, 12);
  EXPECT_EQ(Bytes(p.begin() + 2, p.end()), Bytes({'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0}));
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.dnsSuffixList = {"a.b", "cc.d"}; }),
            platform::ChangeResult::Ok);
  p = expectOk(Command::GetDnsSuffixList, 2 + 9);
  EXPECT_EQ(amthi::decodeDnsSuffixList(p), (std::vector<std::string>{"a.b", "cc.d"}));
}

TEST_F(AmthiTest, GetRemoteAccessConnectionStatus) {
  Bytes p = expectOk(Command::GetRemoteAccessConnectionStatus, 12 + 2);
  EXPECT_EQ(p, Bytes(14, 0));
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.remoteAccess.networkStatus = 2;
    s.remoteAccess.connectionStatus = 2;
    s.remoteAccess.trigger = 3;
    s.remoteAccess.mpsHostname = "mps.example";
  }), platform::ChangeResult::Ok);
  p = expectOk(Command::GetRemoteAccessConnectionStatus, 12 + 2 + 11);
  EXPECT_EQ(le32(p, 0), 2u);
  EXPECT_EQ(le32(p, 4), 2u);
  EXPECT_EQ(le32(p, 8), 3u);
  EXPECT_EQ(std::string(p.begin() + 14, p.end()), "mps.example");
}

TEST_F(AmthiTest, GetLastHostResetReason) {
  Bytes p = expectOk(Command::GetLastHostResetReason, 8);
  EXPECT_EQ(le32(p, 0), 1u);  // other
  EXPECT_EQ(le32(p, 4), 0u);
}

TEST_F(AmthiTest, GetFqdn) {
  const std::string fqdn = model->fqdn();  // mesim.example.com
  Bytes p = expectOk(Command::GetFqdn, 20 + 2 + fqdn.size());
  EXPECT_EQ(le32(p, 0), 1u);       // shared FQDN
  EXPECT_EQ(le32(p, 4), 0u);       // DDNS off
  EXPECT_EQ(le32(p, 12), 900u);    // TTL
  EXPECT_EQ(le32(p, 16), 5u);      // "mesim"
  auto decoded = amthi::decodeFqdn(p);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->fqdn, "mesim.example.com");
}

TEST_F(AmthiTest, SmallFixedResponses) {
  EXPECT_EQ(le32(expectOk(Command::GetRedirectionState, 4), 0), 7u);  // SOL | IDER | KVM
  EXPECT_EQ(le32(expectOk(Command::GetZeroTouchEnabled, 4), 0), 1u);
  EXPECT_EQ(le32(expectOk(Command::GetEhbcState, 4), 0), 1u);
  Bytes p = expectOk(Command::GetProvisioningMode, 8);
  EXPECT_EQ(le32(p, 0), 1u);  // enterprise
  EXPECT_EQ(le32(p, 4), 0u);  // not legacy
  p = expectOk(Command::GetMacAddresses, 12);
  const auto& mac = model->wired().mac;
  EXPECT_EQ(Bytes(p.begin(), p.begin() + 6), Bytes(mac.begin(), mac.end()));
  EXPECT_EQ(Bytes(p.begin() + 6, p.end()), Bytes(mac.begin(), mac.end()));
  p = expectOk(Command::GetSecurityParameters, 68);
  auto sp = amthi::decodeSecurityParameters(p);
  ASSERT_TRUE(sp);
  EXPECT_TRUE(sp->enterpriseMode);
  EXPECT_EQ(sp->provisioningState, 2u);
  EXPECT_TRUE(sp->solEnabled);
  EXPECT_TRUE(sp->linkIsUp);
  EXPECT_EQ(le32(p, 9 * 4), 1u);  // KvmEnabled, the 10th of the 17 words LMS reads
  EXPECT_TRUE(sp->kvmEnabled);
  for (std::size_t word = 10; word < 17; ++word) EXPECT_EQ(le32(p, word * 4), 0u) << "reserved word " << word;
}

TEST_F(AmthiTest, GetAmtState) {
  Bytes id(amthi::kAmtStateLinkState.begin(), amthi::kAmtStateLinkState.end());
  Bytes p = expectOk(Command::GetAmtState, 25, id);
  EXPECT_EQ(Bytes(p.begin(), p.begin() + 16), id);
  EXPECT_EQ(le32(p, 16), 5u);  // LMS insists on 5
  EXPECT_EQ(p[20], 1);         // link up
  id[15] = 2;
  expectStatus(Command::GetAmtState, Status::InvalidParameter, id);
}

TEST_F(AmthiTest, GetCiraLogFillsRpcGosFixedStruct) {
  Bytes p = expectOk(Command::GetCiraLog, 2781, Bytes{0});
  EXPECT_EQ(amthi::kHeaderSize + 4 + p.size(), 2797u);  // spec/mei.md §4: ~2797 B, under the 4096 MTU
  EXPECT_EQ(p, Bytes(2781, 0));
}

TEST_F(AmthiTest, SetHostFqdnLmsStyleIsPersisted) {
  auto req = amthi::encodeSetHostFqdn("host.example.com");
  ASSERT_EQ(req.size(), 2u + 17u);  // counted NUL, as LMS's AmtAnsiString serializes it
  expectStatus(Command::SetHostFqdn, Status::Success, req);
  EXPECT_EQ(model->hostFqdn(), "host.example.com");
  EXPECT_EQ(reopen()->hostFqdn(), "host.example.com");
}

TEST_F(AmthiTest, SetHostFqdnMeshAgentStyleIsAccepted) {
  // MeshAgent: header.length = 2 + len, FQDNL = len (no NUL), but the whole 12 + 258-byte struct is sent.
  const std::string fqdn = "mesh.example.org";
  Bytes req = amthi::makeRequest(amthi::code(Command::SetHostFqdn));
  req[8] = static_cast<std::uint8_t>(2 + fqdn.size());
  req.push_back(static_cast<std::uint8_t>(fqdn.size()));
  req.push_back(0);
  req.insert(req.end(), fqdn.begin(), fqdn.end());
  req.resize(12 + 258, 0);
  expectResponse(call(req), Command::SetHostFqdn, Status::Success, 0);
  EXPECT_EQ(reopen()->hostFqdn(), fqdn);
  // A length field beyond the payload is malformed.
  expectStatus(Command::SetHostFqdn, Status::InvalidMessageLength, Bytes{9, 0, 'a'});
  expectStatus(Command::SetHostFqdn, Status::InvalidParameter, amthi::encodeSetHostFqdn(std::string(300, 'x')));
}

TEST_F(AmthiTest, SetEnterpriseAccess) {
  amthi::SetEnterpriseAccessRequest req;
  req.flags = 0;
  req.hostIp = {192, 168, 1, 2};
  req.enterpriseAccess = 1;
  auto payload = amthi::encode(req);
  ASSERT_EQ(payload.size(), 18u);
  EXPECT_EQ(payload[0], 0);
  EXPECT_EQ(payload[1], 192);
  EXPECT_EQ(payload[17], 1);
  // Host VPN is off by default: the status LMS reads as "remote access disabled".
  expectStatus(Command::SetEnterpriseAccess, Status::RemoteAccessHostVpnDisabled, payload);
  auto again = reopen();
  EXPECT_TRUE(again->enterpriseAccess().access);
  EXPECT_EQ(again->enterpriseAccess().hostIp[0], 192);

  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.hostVpnEnabled = true; }), platform::ChangeResult::Ok);
  expectStatus(Command::SetEnterpriseAccess, Status::RemoteAccessNotGranted, payload);  // AMT on the LAN
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.remoteAccess.networkStatus = 2; }),
            platform::ChangeResult::Ok);
  expectStatus(Command::SetEnterpriseAccess, Status::RemoteAccessGrantedWithoutDdns, payload);
  payload[0] = 0x80;  // reserved flag bits
  expectStatus(Command::SetEnterpriseAccess, Status::InvalidParameter, payload);
}

TEST_F(AmthiTest, UserInitiatedConnection) {
  expectStatus(Command::OpenUserInitiatedConnection, Status::DataMissing);  // no MPS configured
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
              platform::MpsServer server;
              server.name = "Intel(r) AMT:Management Presence Server 0";
              server.accessInfo = "mps.example";
              s.mpsServers.push_back(server);
              platform::RemoteAccessPolicyRule periodic;
              periodic.policyRuleName = "Periodic";
              periodic.trigger = 2;
              periodic.mpsNames = {server.name};
              s.remoteAccessPolicies.push_back(periodic);
            }),
            platform::ChangeResult::Ok);
  expectStatus(Command::OpenUserInitiatedConnection, Status::DataMissing);  // no user-initiated rule
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
              platform::RemoteAccessPolicyRule user;
              user.policyRuleName = "User Initiated";
              user.trigger = 0;
              user.mpsNames = {s.mpsServers[0].name};
              s.remoteAccessPolicies.push_back(user);
            }),
            platform::ChangeResult::Ok);
  expectStatus(Command::OpenUserInitiatedConnection, Status::Success);
  EXPECT_TRUE(reopen()->remoteAccess().userInitiatedConnectionRequested);
  expectStatus(Command::CloseUserInitiatedConnection, Status::Success);
  EXPECT_FALSE(reopen()->remoteAccess().userInitiatedConnectionRequested);
}

TEST_F(AmthiTest, UnprovisionInAdminControlModeIsRefused) {
  expectStatus(Command::Unprovision, Status::InvalidAmtMode, amthi::encodeU32(0));
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Post);
  EXPECT_EQ(reopen()->provisioningState(), ProvisioningState::Post);
}

TEST_F(AmthiTest, UnprovisionInClientControlModeIsPersisted) {
  PlatformDefaults d;
  d.controlMode = ControlMode::Client;
  std::filesystem::remove(dir.path() / "platform.json");
  open(d);
  expectStatus(Command::Unprovision, Status::Success, amthi::encodeU32(0));
  EXPECT_EQ(le32(expectOk(Command::GetProvisioningState, 4), 0), 0u);
  EXPECT_EQ(le32(expectOk(Command::GetControlMode, 4), 0), 0u);
  auto again = reopen();
  EXPECT_EQ(again->provisioningState(), ProvisioningState::Pre);
  EXPECT_EQ(again->controlMode(), ControlMode::None);
}

// AMT >= 7 ignores ProvisioningMode: 2 (what a widely used agent sends for a full unprovision) and any other value
// unprovision exactly as 0 does, from client control mode and from an unfinished configuration.
TEST_F(AmthiTest, UnprovisionIgnoresTheProvisioningMode) {
  for (std::uint32_t mode : {2u, 1u, 0xFFFFFFFFu}) {
    PlatformDefaults d;
    d.controlMode = ControlMode::Client;
    std::filesystem::remove(dir.path() / "platform.json");
    open(d);
    ASSERT_EQ(model->controlMode(), ControlMode::Client);
    expectStatus(Command::Unprovision, Status::Success, amthi::encodeU32(mode));
    EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre) << "mode " << mode;
    EXPECT_EQ(reopen()->controlMode(), ControlMode::None) << "mode " << mode;
  }
  // Admin control mode stays refused whatever the mode says.
  std::filesystem::remove(dir.path() / "platform.json");
  open({});
  expectStatus(Command::Unprovision, Status::InvalidAmtMode, amthi::encodeU32(2));
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
}

TEST_F(AmthiTest, StartAndStopHostBasedConfiguration) {
  amthi::StartConfigurationHBasedRequest req;
  req.serverHashAlgorithm = 2;
  for (std::size_t i = 0; i < 32; ++i) req.serverCertHash[i] = static_cast<std::uint8_t>(i + 1);
  req.dnsSuffixes = {"corp.example.com", "example.net"};
  Bytes payload = amthi::encode(req);
  ASSERT_EQ(payload.size(), 390u);
  EXPECT_EQ(payload[0], 2);
  EXPECT_EQ(payload[65], 0);                        // host VPN
  EXPECT_EQ(le32(payload, 66), 17u + 12u);          // suffix list length
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&payload[70])), "corp.example.com");

  // Provisioned (ACM): not allowed.
  expectStatus(Command::StartConfigurationHBased, Status::InvalidProvisioningState, payload);
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.provisioningState = ProvisioningState::Pre;
    s.controlMode = ControlMode::None;
  }), platform::ChangeResult::Ok);
  std::vector<std::uint8_t> amtHash(32, 0xC3);
  ASSERT_EQ(model->setAmtCertificateHash(platform::HashAlgorithm::Sha256, amtHash), platform::ChangeResult::Ok);

  Bytes badAlg = payload;
  badAlg[0] = 1;  // SHA-1 is not accepted
  expectStatus(Command::StartConfigurationHBased, Status::InvalidParameter, badAlg);

  Bytes p = expectOk(Command::StartConfigurationHBased, 65, payload);
  EXPECT_EQ(p[0], 2);
  EXPECT_EQ(Bytes(p.begin() + 1, p.begin() + 33), Bytes(32, 0xC3));
  EXPECT_EQ(Bytes(p.begin() + 33, p.end()), Bytes(32, 0));
  {
    auto again = reopen();
    EXPECT_EQ(again->provisioningState(), ProvisioningState::In);
    ASSERT_TRUE(again->state().hostBasedSetup);
    const auto& setup = *again->state().hostBasedSetup;
    EXPECT_EQ(setup.serverCertHash.size(), 32u);
    EXPECT_EQ(setup.serverCertHash[31], 32);
    EXPECT_EQ(setup.dnsSuffixes, (std::vector<std::string>{"corp.example.com", "example.net"}));
  }
  expectStatus(Command::StartConfigurationHBased, Status::InvalidProvisioningState, payload);  // already in

  expectStatus(Command::StopConfiguration, Status::Success);
  EXPECT_EQ(reopen()->provisioningState(), ProvisioningState::Pre);
  expectStatus(Command::StopConfiguration, Status::InvalidAmtMode);  // not in-provisioning
}

// A device makes its TLS certificate on first use: StartConfigurationHBased waits for it (taking no other request
// meanwhile) and then reports its hash.
TEST_F(AmthiTest, StartConfigurationHBasedWaitsForTheCertificate) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.provisioningState = ProvisioningState::Pre;
    s.controlMode = ControlMode::None;
    s.amtCertHash.clear();
  }), platform::ChangeResult::Ok);
  std::vector<std::function<void()>> waiting;
  AmthiOptions options;
  options.whenCertificateExists = [&](std::function<void()> then) { waiting.push_back(std::move(then)); };
  client = std::make_unique<AmthiClient>(*model, options);

  amthi::StartConfigurationHBasedRequest req;
  req.serverHashAlgorithm = 2;
  auto connection = std::make_shared<test::RecordingConnection>();
  client->onConnect(connection);
  client->onMessage(connection, amthi::makeRequest(amthi::code(Command::StartConfigurationHBased), amthi::encode(req)));
  EXPECT_TRUE(connection->sent.empty()) << "no answer before the certificate exists";
  EXPECT_TRUE(connection->paused) << "no further request while one waits";
  ASSERT_EQ(waiting.size(), 1u);

  ASSERT_EQ(model->setAmtCertificateHash(platform::HashAlgorithm::Sha256, std::vector<std::uint8_t>(32, 0x5A)),
            platform::ChangeResult::Ok);
  waiting.front()();
  ASSERT_EQ(connection->sent.size(), 1u);
  EXPECT_FALSE(connection->paused);
  Bytes p = expectResponse(connection->sent.front(), Command::StartConfigurationHBased, Status::Success, 65);
  EXPECT_EQ(Bytes(p.begin() + 1, p.begin() + 33), Bytes(32, 0x5A));

  // With the hash known, the answer comes at once.
  expectStatus(Command::StopConfiguration, Status::Success);
  auto sent = test::exchange(*client, amthi::makeRequest(amthi::code(Command::StartConfigurationHBased), amthi::encode(req)));
  EXPECT_EQ(sent.size(), 1u);
  EXPECT_EQ(waiting.size(), 1u);
}

TEST_F(AmthiTest, StorageFailureAnswersInternalError) {
  std::filesystem::remove(model->filePath());
  std::filesystem::create_directory(model->filePath());
  core::writeFileAtomic(model->filePath() / "block", "x");
  expectStatus(Command::SetHostFqdn, Status::InternalError, amthi::encodeSetHostFqdn("x.example"));
  EXPECT_EQ(model->hostFqdn(), "");
}

// ------------------------------------------------------------------------------------------------
// Codec round trips for the decoders host-side tools use
// ------------------------------------------------------------------------------------------------

TEST(AmthiCodec, DecodersRejectWrongSizes) {
  EXPECT_FALSE(amthi::decodeU32(Bytes{1, 2, 3}));
  EXPECT_FALSE(amthi::decodeLanInterfaceSettings(Bytes(19, 0)));
  EXPECT_FALSE(amthi::decodeCodeVersions(Bytes(65 + 4 + 43, 0)));
  Bytes cv = amthi::encode(amthi::CodeVersions{"bios", {{"AMT", "16.1.27"}}});
  cv[65] = 2;  // count disagrees with the length
  EXPECT_FALSE(amthi::decodeCodeVersions(cv));
  EXPECT_FALSE(amthi::decodeHashHandles(Bytes{2, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_FALSE(amthi::decodeAmtState(Bytes(25, 0)));  // count must be 5
  EXPECT_FALSE(amthi::decodeStartConfigurationHBased(Bytes(390, 0xFF)));  // suffix length > 320
  EXPECT_FALSE(amthi::parseResponse(amthi::makeRequest(0x04000011)));  // not a response
}

TEST(AmthiCodec, RoundTrips) {
  amthi::CertHashEntry e;
  e.isDefault = true;
  e.algorithm = 3;
  e.hash[0] = 0xAA;
  e.name = "Root";
  auto back = amthi::decodeCertHashEntry(amthi::encode(e));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->isDefault);
  EXPECT_FALSE(back->isActive);
  EXPECT_EQ(back->algorithm, 3);
  EXPECT_EQ(back->name, "Root");
  auto lsa = amthi::decodeLocalSystemAccount(amthi::encode(amthi::LocalSystemAccount{"u", "p"}));
  ASSERT_TRUE(lsa);
  EXPECT_EQ(lsa->user, "u");
  EXPECT_EQ(lsa->password, "p");
  amthi::CiraStatusSummary summary;
  summary.isTunnelOpened = 1;
  summary.lastTunnelClosedTimestamp = 0x01020304;
  std::uint8_t version = 9;
  auto cira = amthi::decodeCiraLog(amthi::encodeCiraLog(0, summary), &version);
  ASSERT_TRUE(cira);
  EXPECT_EQ(version, 0);
  EXPECT_EQ(cira->lastTunnelClosedTimestamp, 0x01020304u);
  Bytes raw = amthi::encodeCiraLog(0, summary);
  EXPECT_EQ(raw[1], 1);                            // IsTunnelOpened right after the version byte
  EXPECT_EQ(le32(raw, 1 + 23), 0x01020304u);       // last field of the 27-byte summary
}

}  // namespace
}  // namespace mesim::clients
