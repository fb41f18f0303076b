// firmware/core (atomic file, firmware clock) and firmware/platform (PlatformModel persistence and changes).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "firmware/core/atomic_file.h"
#include "firmware/core/firmware_clock.h"
#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/hardware_inventory.h"
#include "firmware/platform/platform_json.h"
#include "firmware/platform/platform_model.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim {
namespace {

using platform::ChangeResult;
using platform::ControlMode;
using platform::PlatformDefaults;
using platform::PlatformModel;
using platform::ProvisioningState;
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::string text;
  EXPECT_FALSE(core::readFile(p, text));
  return text;
}

void spit(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary | std::ios::trunc) << text; }

std::vector<std::string> entriesOf(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ------------------------------------------------------------------------------------------------
// core::writeFileAtomic / readFile
// ------------------------------------------------------------------------------------------------

TEST(AtomicFile, WritesExactContentAndModeDespiteUmask) {
  test::TempDir dir;
  auto file = dir.path() / "a.json";
  mode_t old = ::umask(077);
  auto ec = core::writeFileAtomic(file, "hello", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  ::umask(old);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(slurp(file), "hello");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(entriesOf(dir.path()), std::vector<std::string>{"a.json"});  // no temp file left
}

TEST(AtomicFile, ReplacesExistingFile) {
  test::TempDir dir;
  auto file = dir.path() / "a";
  ASSERT_FALSE(core::writeFileAtomic(file, std::string(10000, 'x')));
  ASSERT_FALSE(core::writeFileAtomic(file, "short"));
  EXPECT_EQ(slurp(file), "short");
  EXPECT_EQ(entriesOf(dir.path()).size(), 1u);
}

TEST(AtomicFile, FailedWriteKeepsOldContentAndLeavesNoTemp) {
  test::TempDir dir;
  auto target = dir.path() / "busy";
  fs::create_directory(target);
  spit(target / "inside", "old");  // rename() onto a non-empty directory fails
  auto ec = core::writeFileAtomic(target, "new");
  EXPECT_TRUE(ec);
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_EQ(slurp(target / "inside"), "old");
  EXPECT_EQ(entriesOf(dir.path()), std::vector<std::string>{"busy"});
}

TEST(AtomicFile, MissingDirectoryIsAnError) {
  test::TempDir dir;
  EXPECT_TRUE(core::writeFileAtomic(dir.path() / "no" / "such" / "file", "x"));
}

TEST(AtomicFile, ReadMissingFileReportsNoSuchFile) {
  test::TempDir dir;
  std::string out = "unchanged";
  auto ec = core::readFile(dir.path() / "missing", out);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
}

// kill -9 a process in the middle of rewriting a file, many times: the file is always whole, old or new.
TEST(AtomicFile, KillNineLeavesOldOrNewFile) {
  test::TempDir dir;
  auto file = dir.path() / "state";
  const std::string a(256 * 1024, 'a');
  const std::string b(200 * 1024, 'b');
  ASSERT_FALSE(core::writeFileAtomic(file, a));
  std::mt19937 rng(12345);
  int sawB = 0;
  int cutOff = 0;  // rounds that killed a write half-way (a temp file was left behind)
  for (int round = 0; round < 20; ++round) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (unsigned i = 0;; ++i) core::writeFileAtomic(file, i % 2 ? a : b);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 20000));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::string text = slurp(file);
    ASSERT_TRUE(text == a || text == b) << "round " << round << ": torn file of " << text.size() << " bytes";
    sawB += text == b;
    // Leftover temp files (the write that was cut off) never replace the target.
    for (const auto& name : entriesOf(dir.path())) {
      if (name == "state") continue;
      ++cutOff;
      fs::remove(dir.path() / name);
    }
  }
  EXPECT_GT(sawB, 0);  // the child really was rewriting the file
  std::printf("kill -9 rounds: %d of 20 cut a write short\n", cutOff);
}

// ------------------------------------------------------------------------------------------------
// core::FirmwareClock
// ------------------------------------------------------------------------------------------------

TEST(FirmwareClock, ManualClockMovesOnlyWhenTold) {
  using namespace std::chrono;
  core::ManualFirmwareClock clock(system_clock::time_point(seconds(1'700'000'000)));
  EXPECT_EQ(core::unixSeconds(clock.now()), 1'700'000'000u);
  clock.advance(minutes(2));
  EXPECT_EQ(core::unixSeconds(clock.now()), 1'700'000'120u);
  clock.set(system_clock::time_point(seconds(5)));
  EXPECT_EQ(core::unixSeconds(clock.now()), 5u);
}

TEST(FirmwareClock, SystemClockFollowsRealTime) {
  core::SystemFirmwareClock clock;
  const core::FirmwareClock& iface = clock;
  auto diff = iface.now() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(diff), std::chrono::seconds(5));
}

// ------------------------------------------------------------------------------------------------
// credentials
// ------------------------------------------------------------------------------------------------

TEST(Credentials, DigestHa1MatchesRfc2617Example) {
  EXPECT_EQ(platform::digestHa1("Mufasa", "testrealm@host.com", "Circle Of Life"), "939e7578ed9e3c518a452acee763bce9");
}

TEST(Credentials, RandomPasswordHasEveryCharacterKind) {
  for (int i = 0; i < 50; ++i) {
    auto pw = platform::randomPassword(32);
    ASSERT_EQ(pw.size(), 32u);
    EXPECT_TRUE(std::any_of(pw.begin(), pw.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }));
    EXPECT_TRUE(std::any_of(pw.begin(), pw.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); }));
    EXPECT_TRUE(std::any_of(pw.begin(), pw.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }));
    EXPECT_TRUE(std::any_of(pw.begin(), pw.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }));
    EXPECT_EQ(pw.find_first_of("\"\\:&<>$|"), std::string::npos);
  }
}

// ------------------------------------------------------------------------------------------------
// PlatformModel
// ------------------------------------------------------------------------------------------------

std::unique_ptr<PlatformModel> openOk(const fs::path& dir, const PlatformDefaults& d = {}) {
  auto opened = PlatformModel::open(dir, d);
  EXPECT_TRUE(opened) << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

// The message of an open that must fail.
std::string openError(const fs::path& dir) {
  auto opened = PlatformModel::open(dir, {});
  EXPECT_FALSE(opened);
  return opened ? std::string() : opened.error().message;
}

TEST(PlatformModel, FirstStartCreatesStateFile) {
  test::TempDir dir;
  auto stateDir = dir.path() / "state";  // created by open()
  auto model = openOk(stateDir);
  ASSERT_TRUE(model);
  EXPECT_TRUE(fs::is_regular_file(stateDir / "platform.json"));

  const auto& s = model->state();
  EXPECT_EQ(s.uuid[6] >> 4, 4);           // random (version 4) UUID
  EXPECT_EQ(s.uuid[8] & 0xC0, 0x80);
  EXPECT_EQ(model->uuidString().size(), 36u);
  ASSERT_EQ(s.digestRealm.size(), 39u);
  EXPECT_EQ(s.digestRealm.substr(0, 7), "Digest:");
  for (char c : s.digestRealm.substr(7)) EXPECT_TRUE(std::isdigit(c) || (c >= 'A' && c <= 'F')) << s.digestRealm;
  EXPECT_EQ(s.localSystemAccount.user.size(), 32u);
  EXPECT_EQ(s.localSystemAccount.user.rfind("$$OsAdmin", 0), 0u);
  EXPECT_EQ(s.localSystemAccount.password.size(), 32u);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Post);
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
  EXPECT_EQ(s.firmware.code.toString(), "16.1.27.2225");
  EXPECT_EQ(s.admin.user, "admin");
  EXPECT_EQ(s.admin.ha1, platform::digestHa1("admin", s.digestRealm, "P@ssw0rd"));
  EXPECT_EQ(s.wired.mac[0] & 0x03, 0x02);  // unicast, locally administered
  EXPECT_EQ(s.certHashes.size(), 7u);

  auto find = [&](const std::string& key) {
    for (const auto& cv : s.firmware.codeVersions)
      if (cv.description == key) return cv.version;
    return std::string("<missing>");
  };
  EXPECT_EQ(find("AMT"), "16.1.27");
  EXPECT_EQ(find("Build Number"), "2225");
  EXPECT_EQ(find("Sku"), "16392");
  EXPECT_EQ(find("Flash"), "16.1.27.2225");
  // LMS's port-forwarding conditions (spec/apf.md §4): ImageType 4, Brand AMT, AMT feature bit.
  EXPECT_EQ((s.firmware.platformType >> 8) & 0xF, 4u);
  EXPECT_EQ((s.firmware.platformType >> 12) & 0xF, 1u);
  EXPECT_TRUE(s.firmware.featuresEnabled & (1u << 2));
}

TEST(PlatformModel, RestartReusesIdentityAndSecrets) {
  test::TempDir dir;
  platform::PlatformState first;
  {
    auto model = openOk(dir.path());
    first = model->state();
  }
  PlatformDefaults other;
  other.adminPassword = "Different1!";  // only used on a first start
  other.hostName = "elsewhere";
  auto again = openOk(dir.path(), other);
  ASSERT_TRUE(again);
  const auto& s = again->state();
  EXPECT_EQ(s.uuid, first.uuid);
  EXPECT_EQ(s.digestRealm, first.digestRealm);
  EXPECT_EQ(s.localSystemAccount.user, first.localSystemAccount.user);
  EXPECT_EQ(s.localSystemAccount.password, first.localSystemAccount.password);
  EXPECT_EQ(s.wired.mac, first.wired.mac);
  EXPECT_EQ(s.hostName, first.hostName);
  EXPECT_EQ(s.certHashes.size(), first.certHashes.size());
  EXPECT_TRUE(again->verifyAdminPassword("P@ssw0rd"));
  EXPECT_FALSE(again->verifyAdminPassword("Different1!"));
}

// AMT regenerates the OS admin account's password when the host reboots, at most once in 24 hours.
TEST(PlatformModel, OsAdminPasswordChangesOnAHostRebootAtMostDaily) {
  test::TempDir dir;
  constexpr std::int64_t kDay = 24 * 3600, kT0 = 1900000000;
  std::string password;
  {
    auto model = openOk(dir.path());
    ASSERT_TRUE(model);
    const auto account = model->localSystemAccount();
    ASSERT_EQ(model->hostRebooted(kT0), ChangeResult::Ok);  // the first reboot the state sees
    EXPECT_NE(model->localSystemAccount().password, account.password);
    EXPECT_EQ(model->localSystemAccount().user, account.user);
    EXPECT_EQ(model->localSystemAccount().password.size(), 32u);
    password = model->localSystemAccount().password;
    ASSERT_EQ(model->hostRebooted(kT0 + kDay - 1), ChangeResult::Ok);  // less than a day later: kept
    EXPECT_EQ(model->localSystemAccount().password, password);
  }
  auto model = openOk(dir.path());  // persisted, with its time
  ASSERT_TRUE(model);
  EXPECT_EQ(model->localSystemAccount().password, password);
  EXPECT_EQ(model->localSystemAccount().passwordSetAt, kT0);
  ASSERT_EQ(model->hostRebooted(kT0 + kDay), ChangeResult::Ok);
  EXPECT_NE(model->localSystemAccount().password, password);
  password = model->localSystemAccount().password;
  ASSERT_EQ(model->hostRebooted(kT0), ChangeResult::Ok);  // the clock set back: a new one, not a stale age
  EXPECT_NE(model->localSystemAccount().password, password);
}

TEST(PlatformModel, TwoStateDirsAreTwoPlatforms) {
  test::TempDir a, b;
  auto ma = openOk(a.path());
  auto mb = openOk(b.path());
  EXPECT_NE(ma->uuid(), mb->uuid());
  EXPECT_NE(ma->digestRealm(), mb->digestRealm());
  EXPECT_NE(ma->localSystemAccount().password, mb->localSystemAccount().password);
}

TEST(PlatformModel, AdminPasswordIsStoredOnlyAsHa1) {
  test::TempDir dir;
  PlatformDefaults d;
  d.adminPassword = "Zq9!unique-pass";
  auto model = openOk(dir.path(), d);
  ASSERT_TRUE(model);
  std::string text = slurp(model->filePath());
  EXPECT_EQ(text.find("Zq9!unique-pass"), std::string::npos);
  EXPECT_NE(text.find(platform::digestHa1("admin", model->digestRealm(), "Zq9!unique-pass")), std::string::npos);
  EXPECT_TRUE(model->verifyAdminPassword("Zq9!unique-pass"));
  EXPECT_FALSE(model->verifyAdminPassword("P@ssw0rd"));
  EXPECT_FALSE(model->verifyAdminPassword(""));
}

TEST(PlatformModel, ForcedAdminPasswordAppliesOnEveryStart) {
  test::TempDir dir;
  std::string realm;
  {
    auto model = openOk(dir.path());
    realm = model->digestRealm();
  }
  PlatformDefaults d;
  d.adminPassword = "N3w!Password";
  d.forceAdminPassword = true;
  auto model = openOk(dir.path(), d);
  EXPECT_TRUE(model->verifyAdminPassword("N3w!Password"));
  EXPECT_FALSE(model->verifyAdminPassword("P@ssw0rd"));
  EXPECT_EQ(model->digestRealm(), realm);
  model.reset();
  auto reread = openOk(dir.path());  // persisted
  EXPECT_TRUE(reread->verifyAdminPassword("N3w!Password"));
}

TEST(PlatformModel, OpenRemovesTempFilesOfInterruptedWrites) {
  test::TempDir dir;
  { auto model = openOk(dir.path()); }
  spit(dir.path() / ".platform.json.tmp.4242.0", "{ half a write");
  spit(dir.path() / ".audit-log.hex.tmp.4242.1", "0010");
  spit(dir.path() / "other-file", "kept");
  auto model = openOk(dir.path());
  EXPECT_EQ(entriesOf(dir.path()), (std::vector<std::string>{"other-file", "platform.json"}));
}

TEST(PlatformModel, UnparsableFileIsAnErrorAndIsNotOverwritten) {
  test::TempDir dir;
  const std::string garbage = "{ this is not json";
  spit(dir.path() / "platform.json", garbage);
  const std::string error = openError(dir.path());
  EXPECT_NE(error.find("platform.json"), std::string::npos) << error;
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
  EXPECT_EQ(slurp(dir.path() / "platform.json"), garbage);
}

TEST(PlatformModel, WrongFieldTypeNamesTheField) {
  test::TempDir dir;
  std::string text;
  {
    auto model = openOk(dir.path());
    text = slurp(model->filePath());
  }
  auto pos = text.find("\"state\": \"post\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, std::string("\"state\": \"post\"").size(), "\"state\": \"sideways\"");
  spit(dir.path() / "platform.json", text);
  const std::string error = openError(dir.path());
  EXPECT_NE(error.find("provisioning.state"), std::string::npos) << error;
}

TEST(PlatformModel, MissingIdentityIsAnError) {
  test::TempDir dir;
  spit(dir.path() / "platform.json", R"({"schema": 1, "firmware": {}})");
  const std::string error = openError(dir.path());
  EXPECT_NE(error.find("identity"), std::string::npos) << error;
}

TEST(PlatformModel, MissingOptionalSectionIsFilledAndStored) {
  test::TempDir dir;
  std::string text;
  std::array<std::uint8_t, 16> uuid{};
  {
    auto model = openOk(dir.path());
    uuid = model->uuid();
    text = slurp(model->filePath());
  }
  auto start = text.find("\"features\": {");
  auto end = text.find('}', start);
  ASSERT_NE(start, std::string::npos);
  text.erase(start, end - start + 2);  // the object and its trailing comma
  spit(dir.path() / "platform.json", text);
  auto model = openOk(dir.path());
  ASSERT_TRUE(model);
  EXPECT_EQ(model->uuid(), uuid);
  EXPECT_TRUE(model->features().webUiEnabled);
  EXPECT_NE(slurp(model->filePath()).find("\"features\""), std::string::npos);
}

TEST(PlatformModel, UnprovisionIsRefusedInAdminControlMode) {
  test::TempDir dir;
  auto model = openOk(dir.path());
  int notified = 0;
  model->subscribe([&] { ++notified; });
  EXPECT_EQ(model->unprovisionFromHost(), ChangeResult::InvalidState);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Post);
  EXPECT_EQ(notified, 0);
}

TEST(PlatformModel, ChangesPersistAcrossRestart) {
  test::TempDir dir;
  PlatformDefaults d;
  d.controlMode = ControlMode::Client;
  {
    auto model = openOk(dir.path(), d);
    ASSERT_EQ(model->unprovisionFromHost(), ChangeResult::Ok);
    platform::HostBasedSetup setup;
    setup.serverHashAlgorithm = platform::HashAlgorithm::Sha384;
    setup.serverCertHash.assign(48, 0xAB);
    setup.dnsSuffixes = {"corp.example.com"};
    ASSERT_EQ(model->startHostBasedConfiguration(setup), ChangeResult::Ok);
    ASSERT_EQ(model->setHostFqdn("host1.corp.example.com"), ChangeResult::Ok);
  }
  auto model = openOk(dir.path(), d);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::In);
  EXPECT_EQ(model->controlMode(), ControlMode::None);
  ASSERT_TRUE(model->state().hostBasedSetup);
  EXPECT_EQ(model->state().hostBasedSetup->serverHashAlgorithm, platform::HashAlgorithm::Sha384);
  EXPECT_EQ(model->state().hostBasedSetup->serverCertHash, std::vector<std::uint8_t>(48, 0xAB));
  EXPECT_EQ(model->state().hostBasedSetup->dnsSuffixes, std::vector<std::string>{"corp.example.com"});
  EXPECT_EQ(model->hostFqdn(), "host1.corp.example.com");

  EXPECT_EQ(model->startHostBasedConfiguration({}), ChangeResult::InvalidState);  // already in
  ASSERT_EQ(model->stopConfiguration(), ChangeResult::Ok);
  EXPECT_EQ(model->stopConfiguration(), ChangeResult::InvalidState);
  ASSERT_EQ(model->completeProvisioning(ControlMode::Admin), ChangeResult::Ok);
  model.reset();
  auto reread = openOk(dir.path(), d);
  EXPECT_EQ(reread->provisioningState(), ProvisioningState::Post);
  EXPECT_EQ(reread->controlMode(), ControlMode::Admin);
  EXPECT_FALSE(reread->state().hostBasedSetup);
}

TEST(PlatformModel, InvalidChangesAreRejectedWithoutEffect) {
  test::TempDir dir;
  auto model = openOk(dir.path());
  const std::string before = slurp(model->filePath());
  EXPECT_EQ(model->setHostFqdn(std::string(256, 'h')), ChangeResult::InvalidParameter);
  EXPECT_EQ(model->setAdminPasswordHash("not-hex"), ChangeResult::InvalidParameter);
  EXPECT_EQ(model->setAmtCertificateHash(platform::HashAlgorithm::Sha256, {1, 2, 3}), ChangeResult::InvalidParameter);
  // update() keeps the invariants too: control mode must be None unless provisioned.
  EXPECT_EQ(model->update([](platform::PlatformState& s) { s.controlMode = ControlMode::None; }),
            ChangeResult::InvalidParameter);
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
  EXPECT_EQ(slurp(model->filePath()), before);
}

TEST(PlatformModel, ObserversSeeEveryChangeUntilUnsubscribed) {
  test::TempDir dir;
  auto model = openOk(dir.path());
  std::vector<std::string> seen;
  auto token = model->subscribe([&] { seen.push_back(model->hostFqdn()); });
  ASSERT_EQ(model->setHostFqdn("a.example"), ChangeResult::Ok);
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.features.kvmSessionActive = true; }), ChangeResult::Ok);
  model->unsubscribe(token);
  ASSERT_EQ(model->setHostFqdn("b.example"), ChangeResult::Ok);
  EXPECT_EQ(seen, (std::vector<std::string>{"a.example", "a.example"}));
}

TEST(PlatformModel, StorageFailureLeavesStateUnchanged) {
  test::TempDir dir;
  auto model = openOk(dir.path());
  int notified = 0;
  model->subscribe([&] { ++notified; });
  // Make the next atomic rename fail: the state file's name is now a non-empty directory.
  fs::remove(model->filePath());
  fs::create_directory(model->filePath());
  spit(model->filePath() / "x", "x");
  EXPECT_EQ(model->setHostFqdn("lost.example"), ChangeResult::StorageError);
  EXPECT_FALSE(model->lastError().empty());
  EXPECT_EQ(model->hostFqdn(), "");
  EXPECT_EQ(notified, 0);
}

TEST(PlatformModel, AdminPasswordChangesVerify) {
  test::TempDir dir;
  auto model = openOk(dir.path());
  ASSERT_EQ(model->setAdminPassword("Another#1"), ChangeResult::Ok);
  EXPECT_TRUE(model->verifyAdminPassword("Another#1"));
  EXPECT_FALSE(model->verifyAdminPassword("P@ssw0rd"));
  const auto ha1 = platform::digestHa1("admin", model->digestRealm(), "Third$3");
  std::string upper = ha1;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_EQ(model->setAdminPasswordHash(upper), ChangeResult::Ok);
  EXPECT_TRUE(model->verifyAdminPassword("Third$3"));
}

// ------------------------------------------------------------------------------------------------
// StateStore: platform.json without the logs, the logs in append-only files
// ------------------------------------------------------------------------------------------------

std::vector<std::string> linesOf(const fs::path& file) {
  std::vector<std::string> lines;
  std::string text = slurp(file), line;
  for (char c : text) {
    if (c == '\n') lines.push_back(std::exchange(line, {}));
    else line.push_back(c);
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

std::vector<std::string> hexOf(const platform::LogRecords& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(text::toHex(r));
  return out;
}

std::vector<std::uint8_t> auditRecord(std::uint32_t timestamp) {
  platform::AuditInitiator who;
  who.user = "admin";
  return platform::makeAuditRecord(platform::audit::kSecurityAdmin, 23, who, timestamp);
}

ChangeResult appendAudit(PlatformModel& model, std::uint32_t timestamp) {
  return model.update([&](platform::PlatformState& s) { platform::appendAuditRecord(s, auditRecord(timestamp)); });
}

ino_t inodeOf(const fs::path& file) {
  struct stat st {};
  EXPECT_EQ(::stat(file.c_str(), &st), 0);
  return st.st_ino;
}

// tests/data/platform-schema1.json was written by the release before this store (logs inside platform.json).
TEST(StateStore, Schema1FileFromThePreviousReleaseLoadsAndItsLogsMoveOut) {
  test::TempDir dir;
  const std::string original = slurp(fs::path(MESIM_TEST_DATA_DIR) / "platform-schema1.json");
  spit(dir.path() / "platform.json", original);
  auto model = openOk(dir.path(), PlatformDefaults{.adminPassword = "other", .hostName = "fallback"});
  ASSERT_TRUE(model);

  // Every field survives: the rewritten file is the original minus the logs, at schema 2.
  auto expected = boost::json::parse(original).as_object();
  const auto logs = expected.at("logs").as_object();
  expected.erase("logs");
  expected["schema"] = 2;
  auto rewritten = boost::json::parse(slurp(dir.path() / "platform.json"));
  // Fields added since that release are written at their defaults.
  auto& provisioning = rewritten.as_object()["provisioning"].as_object();
  EXPECT_EQ(provisioning["mebxHa1"], "");
  provisioning.erase("mebxHa1");
  auto& admin = rewritten.as_object()["accounts"].as_object()["admin"].as_object();
  EXPECT_EQ(admin["setByProvisioning"], false);
  admin.erase("setByProvisioning");
  auto& hostPower = rewritten.as_object()["hostPower"].as_object();
  EXPECT_EQ(hostPower["powerStatesSupported"], boost::json::parse("[5,8,2,10,11,4,7,12,14]"));
  EXPECT_EQ(hostPower["bootReason"], 1);
  EXPECT_EQ(hostPower["bootReasonDetails"], "");
  EXPECT_EQ(hostPower["bootPreviousSxState"], 0);
  for (const char* added : {"powerStatesSupported", "bootReason", "bootReasonDetails", "bootPreviousSxState"})
    hostPower.erase(added);
  auto& localSystem = rewritten.as_object()["accounts"].as_object()["localSystem"].as_object();
  EXPECT_EQ(localSystem["passwordSetAt"], 0);
  localSystem.erase("passwordSetAt");
  // OptInState is no longer persisted (the running consent is RAM: firmware/platform/user_consent.h).
  expected["optIn"].as_object().erase("optInState");
  // RFBPassword is kept since KVM serves 5900 (it must be, for VNC authentication); none in that release.
  auto& redirection = rewritten.as_object()["redirection"].as_object();
  EXPECT_EQ(redirection["rfbPassword"], "");
  redirection.erase("rfbPassword");
  for (const char* lanName : {"wired", "wireless"}) {
    auto& lan = rewritten.as_object()["network"].as_object()[lanName].as_object();
    for (const char* added : {"subnetMask", "gateway", "primaryDns", "secondaryDns"}) {
      EXPECT_EQ(lan[added], "0.0.0.0") << lanName << " " << added;
      lan.erase(added);
    }
    EXPECT_EQ(lan["linkPolicy"], 0);
    lan.erase("linkPolicy");
  }
  // The alarm clock (none set) and the boot options' OptionsCleared and One Click Recovery parameters.
  EXPECT_EQ(rewritten.as_object()["alarmClock"],
            boost::json::parse(R"({"occurrences":[],"legacyNextAlarmTime":0,"legacyIntervalSeconds":0})"));
  rewritten.as_object().erase("alarmClock");
  auto& boot = rewritten.as_object()["boot"].as_object();
  EXPECT_EQ(boot["optionsCleared"], true);
  EXPECT_EQ(boot["uefiBootParameters"], "");
  EXPECT_EQ(boot["uefiBootNumberOfParams"], 0);
  for (const char* added : {"optionsCleared", "uefiBootParameters", "uefiBootNumberOfParams"}) boot.erase(added);
  // Added since: the key store, System Defense, the small services' settings, the wired port's IPv6 settings, the
  // MPS servers' password and certificate, and the rules' MPS types; all at their defaults.
  auto& top = rewritten.as_object();
  EXPECT_EQ(top["keyStore"].as_object()["keyPairs"], boost::json::array());
  EXPECT_EQ(top["systemDefense"].as_object()["policies"], boost::json::array());
  EXPECT_EQ(top["services"].as_object()["auditLogEnabled"], true);
  EXPECT_EQ(top["network"].as_object()["wiredIpv6"].as_object()["enabled"], false);
  // PET (docs/pet.md): AMT's 17 filters and no subscriber.
  EXPECT_EQ(top["pet"].as_object()["filters"].as_array().size(), 17u);
  EXPECT_EQ(top["pet"].as_object()["subscribers"], boost::json::array());
  // The third-party data storage: empty, at its default limits.
  EXPECT_EQ(top["thirdPartyStorage"].as_object()["applications"], boost::json::array());
  EXPECT_EQ(top["thirdPartyStorage"].as_object()["maxPartnerStorage"], 98304);
  for (const char* added : {"keyStore", "systemDefense", "services", "pet", "thirdPartyStorage"}) top.erase(added);
  // The wireless port and its profiles, and the wired port's 802.1X (docs/wireless-and-8021x.md).
  EXPECT_EQ(top["wifi"].as_object()["profiles"], boost::json::array());
  EXPECT_EQ(top["wifi"].as_object()["portState"], 3);
  EXPECT_EQ(top["wired8021x"].as_object()["enabled"], 3);
  for (const char* added : {"wifi", "wired8021x"}) top.erase(added);
  top["network"].as_object().erase("wiredIpv6");
  auto& remote = top["remoteAccessConfig"].as_object();
  for (auto& server : remote["mpsServers"].as_array()) {
    EXPECT_EQ(server.as_object()["password"], "");
    for (const char* added : {"password", "certificateId"}) server.as_object().erase(added);
  }
  for (auto& rule : remote["policies"].as_array()) rule.as_object().erase("mpsTypes");
  EXPECT_EQ(rewritten, boost::json::value(expected)) << slurp(dir.path() / "platform.json");

  // Typed values, spot-checked through the model.
  const auto& s = model->state();
  EXPECT_EQ(model->uuidString(), "12345678-9abc-4def-8123-456789abcdef");
  EXPECT_EQ(s.provisioningState, ProvisioningState::In);
  ASSERT_TRUE(s.hostBasedSetup);
  EXPECT_EQ(s.hostBasedSetup->serverCertHash, std::vector<std::uint8_t>(48, 0xAB));
  ASSERT_EQ(s.aclUsers.size(), 1u);
  EXPECT_EQ(s.aclUsers[0].realms, (std::vector<std::uint32_t>{3, 5, 24}));
  EXPECT_EQ(s.aclUsers[0].access, platform::AclAccess::NetworkOnly);
  EXPECT_EQ(text::macText(s.wired.mac), "02:11:22:33:44:55");
  EXPECT_EQ(s.wired.ipv4, 0x0A000105u);
  EXPECT_EQ(s.enterpriseAccess.hostIp[0], 0xFE);
  EXPECT_EQ(s.firmware.biosVersion, "BIOS.\xC3\xBC");
  EXPECT_EQ(s.hostName, "mesim");  // from the file, not from the defaults
  EXPECT_EQ(s.amtClockOffset, -42);
  EXPECT_EQ(s.httpProxies.at(0).port, 8080u);
  EXPECT_TRUE(model->verifyAdminPassword("P@ssw0rd"));

  // Every log record survives, now in its own file.
  std::vector<std::string> audit, messages;
  for (const auto& r : logs.at("auditLog").as_array()) audit.emplace_back(r.as_string());
  for (const auto& r : logs.at("messageLog").as_array()) messages.emplace_back(r.as_string());
  ASSERT_EQ(audit.size(), 3u);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(hexOf(s.logs.auditLog), audit);
  EXPECT_EQ(hexOf(s.logs.messageLog), messages);
  EXPECT_EQ(linesOf(dir.path() / "audit-log.hex"), audit);
  EXPECT_EQ(linesOf(dir.path() / "message-log.hex"), messages);

  model.reset();
  auto again = openOk(dir.path());
  EXPECT_EQ(hexOf(again->state().logs.auditLog), audit);
  EXPECT_EQ(hexOf(again->state().logs.messageLog), messages);
}

TEST(StateStore, AppendingARecordDoesNotRewritePlatformJson) {
  test::TempDir dir;
  auto model = openOk(dir.path());
  const auto platformJson = dir.path() / "platform.json";
  const std::string before = slurp(platformJson);
  const ino_t inode = inodeOf(platformJson);
  for (std::uint32_t t = 1; t <= 3; ++t) ASSERT_EQ(appendAudit(*model, t), ChangeResult::Ok);
  EXPECT_EQ(inodeOf(platformJson), inode);  // an atomic rewrite would have renamed a new file over it
  EXPECT_EQ(slurp(platformJson), before);
  EXPECT_EQ(before.find("\"auditLog\""), std::string::npos);  // the key (services.auditLogEnabled is a setting)
  EXPECT_EQ(linesOf(dir.path() / "audit-log.hex"), hexOf(model->state().logs.auditLog));
  EXPECT_EQ(linesOf(dir.path() / "audit-log.hex").size(), 3u);
}

TEST(StateStore, TornLastLineIsDroppedOnLoad) {
  test::TempDir dir;
  std::vector<std::string> kept;
  {
    auto model = openOk(dir.path());
    for (std::uint32_t t = 1; t <= 2; ++t) ASSERT_EQ(appendAudit(*model, t), ChangeResult::Ok);
    kept = hexOf(model->state().logs.auditLog);
  }
  std::ofstream(dir.path() / "audit-log.hex", std::ios::app) << text::toHex(auditRecord(3)).substr(0, 9);
  auto model = openOk(dir.path());
  ASSERT_TRUE(model);
  EXPECT_EQ(hexOf(model->state().logs.auditLog), kept);
  ASSERT_EQ(appendAudit(*model, 4), ChangeResult::Ok);  // lands on a line of its own
  kept.push_back(text::toHex(auditRecord(4)));
  EXPECT_EQ(linesOf(dir.path() / "audit-log.hex"), kept);
}

TEST(StateStore, CorruptLogLineStopsStartUpNamingTheFile) {
  test::TempDir dir;
  { auto model = openOk(dir.path()); }
  spit(dir.path() / "message-log.hex", "not hex\n" + text::toHex(std::vector<std::uint8_t>(21, 1)) + "\n");
  const std::string error = openError(dir.path());
  EXPECT_NE(error.find("message-log.hex line 1"), std::string::npos) << error;
  EXPECT_EQ(error.find("state dir"), std::string::npos) << error;  // only that file is at fault
}

TEST(StateStore, LogsKeepTheirCapacityAcrossAppendsCompactionAndRestart) {
  test::TempDir dir;
  constexpr std::size_t kMax = platform::EventLogs::kMaxMessageLogRecords;
  std::vector<std::string> newest;
  {
    auto model = openOk(dir.path());
    for (std::uint32_t t = 0; t < 2 * kMax + 10; ++t) {
      ASSERT_EQ(model->update([&](platform::PlatformState& s) {
        platform::appendMessageLogRecord(s, platform::makeMessageLogRecord({}, t));
      }), ChangeResult::Ok);
    }
    ASSERT_EQ(model->state().logs.messageLog.size(), kMax);
    newest = hexOf(model->state().logs.messageLog);
    EXPECT_EQ(newest.back(), text::toHex(platform::makeMessageLogRecord({}, 2 * kMax + 9)));
    EXPECT_LE(linesOf(dir.path() / "message-log.hex").size(), 2 * kMax);  // compacted on the way
  }
  auto model = openOk(dir.path());
  EXPECT_EQ(hexOf(model->state().logs.messageLog), newest);
  // A change that is no continuation (a cleared log) rewrites the file.
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.logs.messageLog.clear(); }), ChangeResult::Ok);
  EXPECT_TRUE(linesOf(dir.path() / "message-log.hex").empty());
}

TEST(StateStore, TextThatIsNotUtf8IsRefusedAndNeverWritten) {
  test::TempDir dir;
  auto model = openOk(dir.path());
  const std::string before = slurp(model->filePath());
  const std::string bad = "\xFF\xFE";
  EXPECT_EQ(model->setHostFqdn(bad), ChangeResult::InvalidParameter);
  EXPECT_EQ(model->update([&](platform::PlatformState& s) { s.remoteAccess.mpsHostname = bad; }),
            ChangeResult::InvalidParameter);
  EXPECT_EQ(model->update([&](platform::PlatformState& s) { s.certificates.push_back({"id", bad, false}); }),
            ChangeResult::InvalidParameter);
  EXPECT_EQ(model->hostFqdn(), "");
  EXPECT_EQ(slurp(model->filePath()), before);

  platform::PlatformState state = model->state();
  state.boot.bootOrder = {"ok", bad};
  auto text = platform::serializeState(state);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("boot.bootOrder[1]"), std::string::npos) << text.error().message;
  // What is written always parses back.
  state.boot.bootOrder = {"ok", "gr\xC3\xBC\xC3\x9F"};
  auto parsed = platform::parseState(platform::serializeState(state).value(), state);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->state.boot.bootOrder, state.boot.bootOrder);
}

TEST(StateStore, UnknownSchemaStopsStartUpWithAClearError) {
  test::TempDir dir;
  std::string text;
  {
    auto model = openOk(dir.path());
    text = slurp(model->filePath());
  }
  text.replace(text.find("\"schema\": 2"), 11, "\"schema\": 7");
  spit(dir.path() / "platform.json", text);
  const std::string error = openError(dir.path());
  EXPECT_NE(error.find((dir.path() / "platform.json").string()), std::string::npos) << error;
  EXPECT_NE(error.find("schema is 7"), std::string::npos) << error;
  EXPECT_NE(error.find("move it aside"), std::string::npos) << error;
  EXPECT_EQ(slurp(dir.path() / "platform.json"), text);
}

TEST(StateStore, StructsConvertWithBoostJsonValueFromAndValueTo) {
  platform::LanInterface lan;
  lan.mac = {0x02, 1, 2, 3, 4, 5};
  lan.ipv4 = 0x01020304;
  lan.dhcpMode = 2;
  const auto jv = boost::json::value_from(lan);
  EXPECT_EQ(jv.at("mac"), "02:01:02:03:04:05");
  EXPECT_EQ(jv.at("ipv4"), "1.2.3.4");
  const auto back = boost::json::value_to<platform::LanInterface>(jv);
  EXPECT_EQ(back.mac, lan.mac);
  EXPECT_EQ(back.ipv4, lan.ipv4);
  EXPECT_EQ(back.dhcpMode, 2);
  auto wrong = jv;
  wrong.as_object()["ipv4"] = "1.2.3";
  EXPECT_THROW(boost::json::value_to<platform::LanInterface>(wrong), std::invalid_argument);
}


// ------------------------------------------------------------------------------------------------
// Identities derived from a seed (identity_seed.h)
// ------------------------------------------------------------------------------------------------

// Known answer, computed outside mesim (Python: hmac.new(seed, b"mesim identity v1\0" + subject + b"\0" + label,
// sha256), then the UUID's version/variant and the MAC's unicast/local bits): the derivation is what docs/fleet.md
// says, and a change to it, which would give every seeded fleet new identities, fails here.
TEST(IdentitySeed, DerivesTheDocumentedValues) {
  platform::IdentityDerivation d({"lab-fleet", "fleet/3"});
  EXPECT_EQ(text::toHex(d.uuid()), "1752a863caab41039197544944c1b737");
  EXPECT_EQ(text::toHex(d.wiredMac()), "a62f48203bb6");
  EXPECT_EQ(text::toHex(d.wirelessMac()), "0a73fd01aa95");
  EXPECT_EQ(d.digestRealm(), "Digest:334459660F08BC4E7F4231D41807F0B9");
}

TEST(IdentitySeed, EachSeedAndSubjectGivesItsOwnWellFormedIdentity) {
  std::set<std::string> uuids, macs, realms;
  for (const char* seed : {"a", "b"})
    for (int n = 1; n <= 50; ++n) {
      platform::IdentityDerivation d({seed, "fleet/" + std::to_string(n)});
      auto uuid = d.uuid();
      EXPECT_EQ(uuid[6] >> 4, 4) << "version 4";
      EXPECT_EQ(uuid[8] & 0xC0, 0x80) << "RFC 4122 variant";
      for (auto mac : {d.wiredMac(), d.wirelessMac()}) {
        EXPECT_EQ(mac[0] & 0x03, 0x02) << "unicast, locally administered";
        macs.insert(text::toHex(mac));
      }
      uuids.insert(text::toHex(uuid));
      realms.insert(d.digestRealm());
    }
  EXPECT_EQ(uuids.size(), 100u);
  EXPECT_EQ(macs.size(), 200u);
  EXPECT_EQ(realms.size(), 100u);
  platform::IdentityDerivation device({"a", "device/fleet/1"});
  EXPECT_NE(text::toHex(device.uuid()), text::toHex(platform::IdentityDerivation({"a", "fleet/1"}).uuid()));
}

// Two state dirs with the same seed and subject hold the same device (and the same hardware serials, which follow
// the UUID); a state dir made with one seed keeps its identity when opened with another, or with none.
TEST(IdentitySeed, ANewStateDirTakesItAndAnExistingOneKeepsItsOwn) {
  test::TempDir dir;
  PlatformDefaults seeded;
  seeded.identity = platform::IdentitySeed{"lab-fleet", "fleet/3"};
  seeded.hostName = "fleet-0003";
  auto one = openOk(dir.path() / "one", seeded);
  auto two = openOk(dir.path() / "two", seeded);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(text::toHex(one->state().uuid), "1752a863caab41039197544944c1b737");
  EXPECT_EQ(one->state().uuid, two->state().uuid);
  EXPECT_EQ(one->state().wired.mac, two->state().wired.mac);
  EXPECT_EQ(one->state().wireless.mac, two->state().wireless.mac);
  EXPECT_EQ(one->state().digestRealm, two->state().digestRealm);
  EXPECT_EQ(one->state().hostName, "fleet-0003");
  const auto bios = one->state().firmware.biosVersion;
  EXPECT_EQ(platform::defaultHardwareInventory(one->state().uuid, bios).systemSerialNumber,
            platform::defaultHardwareInventory(two->state().uuid, bios).systemSerialNumber);
  EXPECT_TRUE(one->verifyAdminPassword("P@ssw0rd")) << "the admin's digest hash uses the derived realm";
  const auto kept = one->state();
  one.reset();

  PlatformDefaults other;
  other.identity = platform::IdentitySeed{"another", "fleet/3"};
  other.hostName = "elsewhere";
  auto again = openOk(dir.path() / "one", other);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state().uuid, kept.uuid);
  EXPECT_EQ(again->state().wired.mac, kept.wired.mac);
  EXPECT_EQ(again->state().digestRealm, kept.digestRealm);
  EXPECT_EQ(again->state().hostName, "fleet-0003");

  auto random = openOk(dir.path() / "random");
  ASSERT_TRUE(random);
  EXPECT_NE(random->state().uuid, kept.uuid) << "no seed: a random identity";
}

}  // namespace
}  // namespace mesim
