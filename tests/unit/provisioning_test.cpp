// The provisioning state machine of the platform model (docs/provisioning.md): every transition, what it refuses,
// what each does to the rest of the platform (admin, ACL users, root hashes, settings, logs, user consent), that it
// persists, and the in-provisioning timeout on a manual firmware clock.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "firmware/core/disk_full_switch.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/provisioning_timeout.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;
using platform::ChangeResult;
using platform::ControlMode;
using platform::PlatformDefaults;
using platform::PlatformModel;
using platform::ProvisioningState;
using platform::UnprovisionScope;

constexpr const char* kConsoleHa1 = "0123456789ABCDEF0123456789ABCDEF";

std::unique_ptr<PlatformModel> open(const std::filesystem::path& dir, const PlatformDefaults& d = {}) {
  auto opened = PlatformModel::open(dir, d);
  EXPECT_TRUE(opened) << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

PlatformDefaults startingIn(ProvisioningState state, ControlMode mode) {
  PlatformDefaults d;
  d.adminPassword = "Factory1!";
  d.forceAdminPassword = true;
  d.provisioningState = state;
  d.controlMode = mode;
  return d;
}

std::vector<std::uint8_t> record(std::uint16_t event) {
  return platform::makeAuditRecord(platform::audit::kSecurityAdmin, event, {"admin", false, {}}, 1000);
}

std::vector<std::uint16_t> auditEvents(const PlatformModel& model) {
  std::vector<std::uint16_t> events;
  for (const auto& r : model.state().logs.auditLog)
    if (auto decoded = platform::decodeAuditRecord(r)) events.push_back(decoded->event);
  return events;
}

// A provisioned platform with what a console configures: an ACL user, a user root hash, TLS, CIRA, a proxy, an
// event-log record.
void configure(PlatformModel& model) {
  ASSERT_EQ(model.update([](platform::PlatformState& s) {
    platform::AclUser user;
    user.handle = 7;
    user.user = "operator";
    user.ha1 = std::string(32, 'a');
    s.aclUsers.push_back(user);
    platform::CertHashEntry hash;
    hash.handle = 99;
    hash.name = "user root";
    hash.hash.assign(32, 0x11);
    hash.isDefault = false;
    s.certHashes.push_back(hash);
    s.certHashes.front().isActive = false;
    s.tls[0].enabled = true;
    s.tlsEnabled = true;
    s.certificates.push_back({"Intel(r) AMT Certificate: Handle: 0", "AAAA", true});
    platform::MpsServer mps;
    mps.name = "Intel(r) AMT:Management Presence Server 0";
    s.mpsServers.push_back(mps);
    platform::HttpProxy proxy;
    proxy.name = "Intel(r) ME:HTTP Proxy Access Point 1";
    s.httpProxies.push_back(proxy);
    s.redirection.listenerEnabled = false;
    s.optIn.optInRequired = 1;
    s.logs.messageLog.push_back(std::vector<std::uint8_t>(21, 0));
  }), ChangeResult::Ok);
}

TEST(Provisioning, StartsInTheConfiguredStateOnlyWhenTheStateDirIsNew) {
  test::TempDir dir;
  {
    auto pre = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
    EXPECT_EQ(pre->provisioningState(), ProvisioningState::Pre);
    EXPECT_EQ(pre->controlMode(), ControlMode::None);
    ASSERT_EQ(pre->completeSetup(ControlMode::Client, kConsoleHa1), ChangeResult::Ok);
  }
  // The state dir's own state wins over what the next start asks for.
  auto again = open(dir.path(), startingIn(ProvisioningState::Post, ControlMode::Admin));
  EXPECT_EQ(again->controlMode(), ControlMode::Client);

  test::TempDir ccmDir;
  auto ccm = open(ccmDir.path(), startingIn(ProvisioningState::Post, ControlMode::Client));
  EXPECT_EQ(ccm->provisioningState(), ProvisioningState::Post);
  EXPECT_EQ(ccm->controlMode(), ControlMode::Client);
  EXPECT_EQ(ccm->state().optIn.optInRequired, platform::kOptInRequiredAll);
}

TEST(Provisioning, HostBasedSetupToClientControlModeSetsTheAdminPasswordAndUserConsent) {
  test::TempDir dir;
  const auto d = startingIn(ProvisioningState::Pre, ControlMode::None);
  {
    auto model = open(dir.path(), d);
    EXPECT_TRUE(model->verifyAdminPassword("Factory1!"));
    ASSERT_EQ(model->startHostBasedConfiguration({}), ChangeResult::Ok);
    EXPECT_EQ(model->provisioningState(), ProvisioningState::In);
    EXPECT_EQ(model->completeSetup(ControlMode::Client, "not hex"), ChangeResult::InvalidParameter);
    EXPECT_EQ(model->completeSetup(ControlMode::None, kConsoleHa1), ChangeResult::InvalidParameter);
    ASSERT_EQ(model->completeSetup(ControlMode::Client, kConsoleHa1, record(platform::audit::kProvisioningCompleted)),
              ChangeResult::Ok);
    EXPECT_EQ(model->provisioningState(), ProvisioningState::Post);
    EXPECT_EQ(model->controlMode(), ControlMode::Client);
    EXPECT_EQ(model->admin().ha1, "0123456789abcdef0123456789abcdef");
    EXPECT_TRUE(model->admin().setByProvisioning);
    EXPECT_FALSE(model->state().hostBasedSetup);
    EXPECT_EQ(model->state().optIn.optInRequired, platform::kOptInRequiredAll);
    EXPECT_EQ(auditEvents(*model), std::vector<std::uint16_t>{platform::audit::kProvisioningCompleted});
    EXPECT_EQ(model->completeSetup(ControlMode::Admin, kConsoleHa1), ChangeResult::InvalidState);
  }
  // A restart keeps it, and the configured --admin-password no longer overrides the console's.
  auto model = open(dir.path(), d);
  EXPECT_EQ(model->controlMode(), ControlMode::Client);
  EXPECT_EQ(model->admin().ha1, "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(model->verifyAdminPassword("Factory1!"));
}

TEST(Provisioning, ClientToAdminAndTheMebxPassword) {
  test::TempDir dir;
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  EXPECT_EQ(model->upgradeClientToAdmin(), ChangeResult::InvalidState);  // not provisioned
  EXPECT_EQ(model->setMebxPassword("Mebx1234!"), ChangeResult::InvalidState);
  ASSERT_EQ(model->completeSetup(ControlMode::Client, kConsoleHa1), ChangeResult::Ok);
  EXPECT_EQ(model->setMebxPassword("Mebx1234!"), ChangeResult::InvalidState);  // ACM only
  ASSERT_EQ(model->upgradeClientToAdmin(record(platform::audit::kUpgradeClientToAdmin)), ChangeResult::Ok);
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
  EXPECT_EQ(model->upgradeClientToAdmin(), ChangeResult::InvalidState);
  for (const std::string& weak : std::vector<std::string>{"Sh0rt!", "alllower1!", "ALLUPPER1!", "NoDigits!!", "NoSymbol12",
                                                          "Aa1!" + std::string(29, 'a')})
    EXPECT_EQ(model->setMebxPassword(weak), ChangeResult::InvalidParameter) << weak;
  EXPECT_TRUE(model->state().mebxHa1.empty());
  ASSERT_EQ(model->setMebxPassword("Mebx1234!"), ChangeResult::Ok);
  EXPECT_EQ(model->state().mebxHa1,
            platform::digestHa1("admin", model->digestRealm(), "Mebx1234!"));
}

TEST(Provisioning, FullUnprovisionFromAdminControlModeClearsConfigurationAndKeepsTheAuditLog) {
  test::TempDir dir;
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  ASSERT_EQ(model->completeSetup(ControlMode::Admin, kConsoleHa1, record(platform::audit::kProvisioningCompleted)),
            ChangeResult::Ok);
  configure(*model);
  const auto defaultHashes = model->certHashes().size() - 1;

  EXPECT_EQ(model->unprovisionFromHost(), ChangeResult::InvalidState);  // the host may not undo ACM
  ASSERT_EQ(model->unprovision(UnprovisionScope::Full, record(platform::audit::kUnprovisioningStarted)),
            ChangeResult::Ok);
  const auto& s = model->state();
  EXPECT_EQ(s.provisioningState, ProvisioningState::Pre);
  EXPECT_EQ(s.controlMode, ControlMode::None);
  EXPECT_TRUE(s.aclUsers.empty());
  EXPECT_EQ(s.admin.user, "admin");
  EXPECT_TRUE(model->verifyAdminPassword("Factory1!"));  // the factory password again
  EXPECT_FALSE(s.admin.setByProvisioning);
  EXPECT_EQ(s.certHashes.size(), defaultHashes);
  for (const auto& h : s.certHashes) EXPECT_TRUE(h.isDefault && h.isActive) << h.name;
  EXPECT_FALSE(s.tlsEnabled);
  EXPECT_FALSE(s.tls[0].enabled);
  EXPECT_TRUE(s.certificates.empty());
  EXPECT_TRUE(s.mpsServers.empty());
  EXPECT_TRUE(s.httpProxies.empty());
  EXPECT_TRUE(s.redirection.listenerEnabled);
  EXPECT_EQ(s.optIn.optInRequired, platform::OptInSettings{}.optInRequired);
  EXPECT_TRUE(s.logs.messageLog.empty());  // the event log is cleared
  EXPECT_EQ(auditEvents(*model), (std::vector<std::uint16_t>{platform::audit::kProvisioningCompleted,
                                                             platform::audit::kUnprovisioningStarted}));
  // Nothing left to unprovision.
  EXPECT_EQ(model->unprovision(UnprovisionScope::Full), ChangeResult::InvalidState);

  model.reset();
  auto reread = open(dir.path(), startingIn(ProvisioningState::Post, ControlMode::Admin));
  EXPECT_EQ(reread->provisioningState(), ProvisioningState::Pre);
  EXPECT_TRUE(reread->state().aclUsers.empty());
  EXPECT_EQ(reread->state().logs.auditLog.size(), 2u);
}

TEST(Provisioning, PartialUnprovisionKeepsTheAdminAccount) {
  test::TempDir dir;
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  ASSERT_EQ(model->completeSetup(ControlMode::Client, kConsoleHa1), ChangeResult::Ok);
  configure(*model);
  ASSERT_EQ(model->unprovision(UnprovisionScope::Partial), ChangeResult::Ok);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
  EXPECT_TRUE(model->state().aclUsers.empty());
  EXPECT_EQ(model->admin().ha1, "0123456789abcdef0123456789abcdef");
}

TEST(Provisioning, TheHostUnprovisionsClientControlModeAndUnfinishedConfigurations) {
  test::TempDir dir;
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  EXPECT_EQ(model->unprovisionFromHost(), ChangeResult::Ok);  // pre stays pre
  ASSERT_EQ(model->startHostBasedConfiguration({}), ChangeResult::Ok);
  ASSERT_EQ(model->unprovisionFromHost(), ChangeResult::Ok);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
  ASSERT_EQ(model->completeSetup(ControlMode::Client, kConsoleHa1), ChangeResult::Ok);
  configure(*model);
  ASSERT_EQ(model->unprovisionFromHost(record(platform::audit::kUnprovisioningStarted)), ChangeResult::Ok);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
  EXPECT_TRUE(model->state().aclUsers.empty());
  EXPECT_TRUE(model->verifyAdminPassword("Factory1!"));
  EXPECT_EQ(auditEvents(*model).back(), platform::audit::kUnprovisioningStarted);
}

TEST(Provisioning, AFullUnprovisionKeepsTheMebxPasswordAndAFactoryResetForgetsIt) {
  test::TempDir dir;
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  ASSERT_EQ(model->completeSetup(ControlMode::Admin, kConsoleHa1), ChangeResult::Ok);
  ASSERT_EQ(model->setMebxPassword("Mebx1234!"), ChangeResult::Ok);
  ASSERT_EQ(model->unprovision(UnprovisionScope::Full), ChangeResult::Ok);
  EXPECT_TRUE(model->verifyAdminPassword("Mebx1234!"));  // "the MEBx password is not restored to the default"
  ASSERT_EQ(model->completeSetup(ControlMode::Admin, kConsoleHa1), ChangeResult::Ok);
  configure(*model);
  ASSERT_EQ(model->factoryReset(record(platform::audit::kUnprovisioningStarted)), ChangeResult::Ok);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
  EXPECT_TRUE(model->verifyAdminPassword("Factory1!"));
  EXPECT_TRUE(model->state().mebxHa1.empty());
  EXPECT_TRUE(model->state().aclUsers.empty());
  EXPECT_TRUE(model->state().logs.messageLog.empty());
  EXPECT_EQ(auditEvents(*model).back(), platform::audit::kUnprovisioningStarted);
  // From pre-provisioning too: a factory reset always works.
  EXPECT_EQ(model->factoryReset(), ChangeResult::Ok);
}

TEST(Provisioning, ARefusedOrFailedChangeLeavesTheStateAsItWas) {
  test::TempDir dir;
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  ASSERT_EQ(model->completeSetup(ControlMode::Client, kConsoleHa1), ChangeResult::Ok);
  core::DiskFullSwitch disk;
  model->setDiskFullSwitch(&disk);
  disk.setFull(true);
  EXPECT_EQ(model->unprovision(UnprovisionScope::Full, record(platform::audit::kUnprovisioningStarted)),
            ChangeResult::StorageError);
  EXPECT_EQ(model->factoryReset(), ChangeResult::StorageError);
  EXPECT_EQ(model->controlMode(), ControlMode::Client);
  EXPECT_TRUE(model->state().logs.auditLog.empty());
}

class ProvisioningTimeoutTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{} + std::chrono::hours(24 * 365 * 60)};
  core::FirmwareTimerQueue timers{io, clock};
  test::TempDir dir;
};

TEST_F(ProvisioningTimeoutTest, AnUnfinishedConfigurationGoesBackToPreProvisioningOnTime) {
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  platform::ProvisioningTimeout timeout(timers, *model, 10min);
  EXPECT_FALSE(timeout.deadline());
  ASSERT_EQ(model->startHostBasedConfiguration({}), ChangeResult::Ok);
  ASSERT_TRUE(timeout.deadline());
  EXPECT_EQ(*timeout.deadline(), clock.now() + 10min);
  clock.advance(10min - 1s);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::In);
  clock.advance(1s);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
  EXPECT_FALSE(model->state().hostBasedSetup);
  EXPECT_EQ(timeout.expired(), 1u);
  EXPECT_FALSE(timeout.deadline());

  // A configuration completed in time is left alone, and its timer is gone.
  ASSERT_EQ(model->startHostBasedConfiguration({}), ChangeResult::Ok);
  clock.advance(5min);
  ASSERT_EQ(model->completeSetup(ControlMode::Client, kConsoleHa1), ChangeResult::Ok);
  EXPECT_FALSE(timeout.deadline());
  EXPECT_EQ(timers.size(), 0u);
  clock.advance(1h);
  EXPECT_EQ(model->controlMode(), ControlMode::Client);
  EXPECT_EQ(timeout.expired(), 1u);

  // StopConfiguration cancels it too.
  ASSERT_EQ(model->unprovisionFromHost(), ChangeResult::Ok);
  ASSERT_EQ(model->startHostBasedConfiguration({}), ChangeResult::Ok);
  ASSERT_EQ(model->stopConfiguration(), ChangeResult::Ok);
  EXPECT_EQ(timers.size(), 0u);
}

TEST_F(ProvisioningTimeoutTest, AStartInProvisioningGetsAWholePeriod) {
  {
    auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
    ASSERT_EQ(model->startHostBasedConfiguration({}), ChangeResult::Ok);
  }
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  ASSERT_EQ(model->provisioningState(), ProvisioningState::In);
  platform::ProvisioningTimeout timeout(timers, *model, 30s);
  ASSERT_TRUE(timeout.deadline());
  clock.advance(30s);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
}

TEST_F(ProvisioningTimeoutTest, ATimeoutThatCannotBeWrittenTriesAgainAPeriodLater) {
  auto model = open(dir.path(), startingIn(ProvisioningState::Pre, ControlMode::None));
  platform::ProvisioningTimeout timeout(timers, *model, 1min);
  ASSERT_EQ(model->startHostBasedConfiguration({}), ChangeResult::Ok);
  core::DiskFullSwitch disk;
  model->setDiskFullSwitch(&disk);
  disk.setFull(true);
  clock.advance(1min);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::In);
  ASSERT_TRUE(timeout.deadline());
  disk.setFull(false);
  clock.advance(1min);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
}

}  // namespace
}  // namespace mesim
