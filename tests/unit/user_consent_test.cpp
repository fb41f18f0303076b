// The user-consent machine (firmware/platform/user_consent.h) on a manual firmware clock: the code and its display
// timeout, the code timeout, wrong codes, sessions holding consent, the policy per control mode, and its audit
// records.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/user_consent.h"
#include "firmware_test_support.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;
using platform::ConsentResult;
using platform::ConsentState;
using platform::ConsentUse;
using platform::ControlMode;
using platform::UserConsent;

class UserConsentTest : public ::testing::Test {
 protected:
  void SetUp() override { openModel(ControlMode::Client); }

  void openModel(ControlMode mode) {
    consent.reset();
    model.reset();
    platform::PlatformDefaults defaults;
    defaults.controlMode = mode;
    // A state dir of its own: an existing one keeps the control mode it was opened with.
    auto opened = platform::PlatformModel::open(dir.path() / std::to_string(++opens), defaults);
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    consent = std::make_unique<UserConsent>(*model, timers);
  }

  std::uint64_t shownCode() {
    auto code = consent->code();
    EXPECT_TRUE(code);
    return code ? std::stoull(*code) : 0;
  }
  std::uint64_t wrongCode() { return (shownCode() + 1) % 1000000; }

  // The audit records of app 30 (User Opt-In) as (event, first extended byte).
  std::vector<std::pair<std::uint16_t, int>> optInRecords() {
    std::vector<std::pair<std::uint16_t, int>> out;
    for (const auto& raw : model->state().logs.auditLog) {
      auto r = platform::decodeAuditRecord(raw);
      if (r && r->app == platform::audit::kUserOptIn)
        out.emplace_back(r->event, r->extendedData.empty() ? -1 : r->extendedData[0]);
    }
    return out;
  }

  boost::asio::io_context io;
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{} + std::chrono::hours(24 * 365 * 60)};
  core::FirmwareTimerQueue timers{io, clock};
  test::TempDir dir;
  int opens = 0;
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<UserConsent> consent;
  platform::AuditInitiator console{"admin", false, "192.0.2.7"};
};

TEST_F(UserConsentTest, ARightCodeGivesConsentThatASessionHoldsAndThatEndsAfterTheCodeTimeout) {
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_FALSE(consent->code());
  EXPECT_FALSE(consent->allows(ConsentUse::Sol));
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  EXPECT_EQ(consent->state(), ConsentState::Displayed);
  ASSERT_TRUE(consent->code());
  EXPECT_EQ(consent->code()->size(), 6u);
  EXPECT_EQ(*consent->displayDeadline(), clock.now() + 300s);
  EXPECT_EQ(consent->start(console), ConsentResult::InvalidState);  // one attempt at a time
  EXPECT_FALSE(consent->allows(ConsentUse::Sol));
  EXPECT_FALSE(consent->openSession(ConsentUse::Sol));

  ASSERT_EQ(consent->sendCode(shownCode(), console), ConsentResult::Ok);
  EXPECT_EQ(consent->state(), ConsentState::Received);
  EXPECT_FALSE(consent->code());  // no longer shown
  EXPECT_FALSE(consent->displayDeadline());
  EXPECT_EQ(*consent->codeDeadline(), clock.now() + 120s);
  EXPECT_EQ(consent->sendCode(0, console), ConsentResult::InvalidState);
  EXPECT_TRUE(consent->allows(ConsentUse::Sol));
  EXPECT_TRUE(consent->allows(ConsentUse::Kvm));
  EXPECT_TRUE(consent->allows(ConsentUse::Boot));

  clock.advance(100s);
  auto session = consent->openSession(ConsentUse::Sol);
  ASSERT_TRUE(session);
  EXPECT_EQ(consent->state(), ConsentState::InSession);
  EXPECT_FALSE(consent->codeDeadline());
  clock.advance(1h);  // a session keeps it however long it lasts
  EXPECT_EQ(consent->state(), ConsentState::InSession);
  auto second = consent->openSession(ConsentUse::Kvm);
  ASSERT_TRUE(second);
  consent->closeSession(*session);
  EXPECT_EQ(consent->state(), ConsentState::InSession);  // KVM still holds it
  consent->closeSession(*second);
  // The last session closed: consent stays for OptInCodeTimeout (a console reconnecting after a reboot), then ends.
  EXPECT_EQ(consent->state(), ConsentState::Received);
  EXPECT_EQ(*consent->codeDeadline(), clock.now() + 120s);
  clock.advance(119s);
  EXPECT_EQ(consent->state(), ConsentState::Received);
  clock.advance(1s);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_FALSE(consent->allows(ConsentUse::Sol));
  EXPECT_EQ(consent->stats().codeTimeouts, 1u);
  EXPECT_EQ(consent->stats().granted, 1u);
  EXPECT_EQ(consent->stats().refused, 1u);
  EXPECT_EQ(optInRecords(), (std::vector<std::pair<std::uint16_t, int>>{{platform::audit::kSendConsentCode, 0}}));
}

TEST_F(UserConsentTest, AReceivedConsentThatNoSessionUsesEndsAfterTheCodeTimeout) {
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  ASSERT_EQ(consent->sendCode(shownCode(), console), ConsentResult::Ok);
  clock.advance(120s);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_FALSE(consent->openSession(ConsentUse::Ider));
}

TEST_F(UserConsentTest, TheCodeIsShownForTheDisplayTimeoutOnly) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.optIn.optInDisplayTimeout = 60; }),
            platform::ChangeResult::Ok);
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  const auto code = shownCode();
  clock.advance(59s);
  EXPECT_EQ(consent->state(), ConsentState::Displayed);
  clock.advance(1s);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_FALSE(consent->code());
  EXPECT_EQ(consent->sendCode(code, console), ConsentResult::InvalidState);
  EXPECT_EQ(consent->stats().displayTimeouts, 1u);
  // A new attempt draws a new code and a new deadline.
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  EXPECT_EQ(*consent->displayDeadline(), clock.now() + 60s);
}

TEST_F(UserConsentTest, ThreeWrongCodesEndTheAttempt) {
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  EXPECT_EQ(consent->sendCode(wrongCode(), console), ConsentResult::InvalidCode);
  EXPECT_EQ(consent->sendCode(wrongCode(), console), ConsentResult::InvalidCode);
  EXPECT_EQ(consent->wrongCodes(), 2u);
  EXPECT_EQ(consent->state(), ConsentState::Displayed);
  const auto right = shownCode();
  EXPECT_EQ(consent->sendCode(wrongCode(), console), ConsentResult::InvalidCode);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_FALSE(consent->displayDeadline());
  EXPECT_EQ(consent->sendCode(right, console), ConsentResult::InvalidState);  // too late for the right one
  EXPECT_EQ(consent->stats().wrongCodes, 3u);
  EXPECT_EQ(consent->stats().attemptsFailed, 1u);
  // Audited as "Send Consent Code Event", failed.
  EXPECT_EQ(optInRecords(), (std::vector<std::pair<std::uint16_t, int>>{{platform::audit::kSendConsentCode, 1}}));
  // Two wrong codes then the right one: accepted, and the count starts again with the next attempt.
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  EXPECT_EQ(consent->sendCode(wrongCode(), console), ConsentResult::InvalidCode);
  EXPECT_EQ(consent->sendCode(wrongCode(), console), ConsentResult::InvalidCode);
  EXPECT_EQ(consent->sendCode(shownCode(), console), ConsentResult::Ok);
  EXPECT_EQ(consent->wrongCodes(), 0u);
}

TEST_F(UserConsentTest, CancelEndsAnAttemptOrAConsentAndWithdrawsItFromSessions) {
  EXPECT_EQ(consent->cancel(console), ConsentResult::Ok);  // nothing to cancel
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  EXPECT_EQ(consent->cancel(console), ConsentResult::Ok);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_FALSE(consent->code());

  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  ASSERT_EQ(consent->sendCode(shownCode(), console), ConsentResult::Ok);
  int withdrawn = 0;
  std::optional<UserConsent::SessionId> session;
  session = consent->openSession(ConsentUse::Sol, [&] {
    ++withdrawn;
    consent->closeSession(*session);  // as a session closes itself
  });
  ASSERT_TRUE(session);
  EXPECT_EQ(consent->cancel(console), ConsentResult::Ok);
  EXPECT_EQ(withdrawn, 1);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_EQ(consent->sessions(), 0u);
  EXPECT_FALSE(consent->codeDeadline());
}

TEST_F(UserConsentTest, ThePolicyInAdminControlModeFollowsOptInRequired) {
  openModel(ControlMode::Admin);
  auto setPolicy = [&](std::uint32_t required) {
    ASSERT_EQ(model->update([&](platform::PlatformState& s) { s.optIn.optInRequired = required; }),
              platform::ChangeResult::Ok);
  };
  setPolicy(0);
  for (auto use : {ConsentUse::Kvm, ConsentUse::Sol, ConsentUse::Ider, ConsentUse::Boot}) {
    EXPECT_FALSE(consent->required(use)) << platform::toString(use);
    EXPECT_TRUE(consent->allows(use));
  }
  // A session that needs no consent neither needs nor holds one.
  auto free = consent->openSession(ConsentUse::Sol);
  ASSERT_TRUE(free);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  consent->closeSession(*free);

  setPolicy(1);
  EXPECT_TRUE(consent->required(ConsentUse::Kvm));
  EXPECT_FALSE(consent->required(ConsentUse::Sol));
  EXPECT_FALSE(consent->required(ConsentUse::Ider));
  EXPECT_FALSE(consent->required(ConsentUse::Boot));
  EXPECT_FALSE(consent->openSession(ConsentUse::Kvm));
  EXPECT_TRUE(consent->authorize(ConsentUse::Boot));

  setPolicy(platform::kOptInRequiredAll);
  for (auto use : {ConsentUse::Kvm, ConsentUse::Sol, ConsentUse::Ider, ConsentUse::Boot})
    EXPECT_TRUE(consent->required(use)) << platform::toString(use);
  EXPECT_FALSE(consent->authorize(ConsentUse::Boot));
}

TEST_F(UserConsentTest, ClientControlModeAlwaysRequiresConsentAndAnUnprovisionEndsIt) {
  for (auto use : {ConsentUse::Kvm, ConsentUse::Sol, ConsentUse::Ider, ConsentUse::Boot})
    EXPECT_TRUE(consent->required(use)) << platform::toString(use);
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  ASSERT_EQ(consent->sendCode(shownCode(), console), ConsentResult::Ok);
  ASSERT_EQ(model->unprovision(platform::UnprovisionScope::Full), platform::ChangeResult::Ok);
  EXPECT_EQ(consent->state(), ConsentState::NotStarted);
  EXPECT_FALSE(consent->codeDeadline());
  EXPECT_FALSE(consent->required(ConsentUse::Kvm));  // nothing to consent to before provisioning
}

TEST_F(UserConsentTest, ObserversHearEveryChangeOfState) {
  std::vector<ConsentState> seen;
  auto token = consent->subscribe([&] { seen.push_back(consent->state()); });
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  ASSERT_EQ(consent->sendCode(shownCode(), console), ConsentResult::Ok);
  auto session = consent->openSession(ConsentUse::Kvm);
  consent->closeSession(*session);
  clock.advance(120s);
  consent->unsubscribe(token);
  ASSERT_EQ(consent->start(console), ConsentResult::Ok);
  EXPECT_EQ(seen, (std::vector<ConsentState>{ConsentState::Displayed, ConsentState::Received, ConsentState::InSession,
                                             ConsentState::Received, ConsentState::NotStarted}));
}

TEST_F(UserConsentTest, ABootWithOptionsIsWhatNeedsConsentAmongPowerChanges) {
  platform::PlatformState state = model->state();
  EXPECT_FALSE(platform::powerChangeBootsWithOptions(state, 2));
  state.boot.bootConfigActive = true;
  for (std::uint32_t code : {2u, 5u, 9u, 10u, 14u, 15u, 16u}) EXPECT_TRUE(platform::powerChangeBootsWithOptions(state, code)) << code;
  for (std::uint32_t code : {8u, 6u, 12u, 13u, 11u, 4u, 7u})
    EXPECT_FALSE(platform::powerChangeBootsWithOptions(state, code)) << code;
}

TEST_F(UserConsentTest, CodesAreSixDigitsAndVary) {
  std::set<std::string> codes;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(consent->start(console), ConsentResult::Ok);
    auto code = *consent->code();
    EXPECT_EQ(code.size(), 6u);
    EXPECT_EQ(code.find_first_not_of("0123456789"), std::string::npos) << code;
    codes.insert(code);
    consent->cancel(console);
  }
  EXPECT_GT(codes.size(), 10u);
}

}  // namespace
}  // namespace mesim
