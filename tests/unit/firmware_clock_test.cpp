// The firmware clocks (firmware/core/firmware_clock.h) and the timer queue on them: a scaled clock runs N times as
// fast as real time and its queue waits the matching real time; a manual clock steps its queues through every
// deadline of a move (in order, each timer seeing its own due time, timers scheduled within the span included);
// and the clock texts of the command line and the control API (clock_text.h).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "firmware/core/clock_text.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"

namespace mesim::core {
namespace {

using namespace std::chrono_literals;
using time_point = FirmwareClock::time_point;

const time_point kStart{1'700'000'000s};

// ---- scaled clock

TEST(ScaledFirmwareClock, StartsWhereToldAndRunsScaleTimesAsFast) {
  ScaledFirmwareClock clock(60, kStart);
  const auto realStart = std::chrono::steady_clock::now();
  EXPECT_GE(clock.now(), kStart);
  EXPECT_LT(clock.now(), kStart + 1s) << "it starts at `start`";
  std::this_thread::sleep_for(50ms);
  const auto firmwareElapsed = clock.now() - kStart;
  const auto realElapsed = std::chrono::steady_clock::now() - realStart;
  EXPECT_GE(firmwareElapsed, 3s) << "50 ms of real time is at least 3 s at 60x";
  EXPECT_LE(firmwareElapsed, realElapsed * 60 + 60ms);
}

TEST(ScaledFirmwareClock, ASlowClockRunsSlower) {
  ScaledFirmwareClock clock(0.5, kStart);
  const auto realStart = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(40ms);
  const auto firmwareElapsed = clock.now() - kStart;
  const auto realElapsed = std::chrono::steady_clock::now() - realStart;
  EXPECT_GE(firmwareElapsed, 20ms);
  EXPECT_LE(firmwareElapsed, realElapsed / 2 + 1ms);
}

TEST(ScaledFirmwareClock, NeverGoesBack) {
  ScaledFirmwareClock clock(1000, kStart);
  auto last = clock.now();
  for (int i = 0; i < 100'000; ++i) {
    auto now = clock.now();
    ASSERT_GE(now, last);
    last = now;
  }
}

TEST(ScaledFirmwareClock, RealTimeForASpanIsTheSpanOverTheScaleRoundedUp) {
  EXPECT_EQ(ScaledFirmwareClock(60, kStart).realTimeFor(60s), std::optional<FirmwareClock::real_duration>(1s));
  EXPECT_EQ(ScaledFirmwareClock(0.5, kStart).realTimeFor(1s), std::optional<FirmwareClock::real_duration>(2s));
  EXPECT_EQ(ScaledFirmwareClock(3, kStart).realTimeFor(1ns), std::optional<FirmwareClock::real_duration>(1ns))
      << "rounded up: a wait never ends before the deadline";
  EXPECT_EQ(SystemFirmwareClock().realTimeFor(5s), std::optional<FirmwareClock::real_duration>(5s));
  EXPECT_EQ(ManualFirmwareClock().realTimeFor(5s), std::nullopt);
  EXPECT_LE(*ScaledFirmwareClock(0.001, kStart).realTimeFor(24h * 365 * 10), std::chrono::hours(24))
      << "a far deadline on a slow clock waits in bounded steps (no overflow)";
}

TEST(ScaledFirmwareClock, ItsQueueFiresAfterTheScaledRealTime) {
  boost::asio::io_context io;
  ScaledFirmwareClock clock(100, kStart);
  FirmwareTimerQueue timers(io, clock);
  std::vector<time_point> firedAt;
  const auto realStart = std::chrono::steady_clock::now();
  const auto deadline = clock.now() + 5s;  // 50 ms of real time
  timers.schedule(deadline, [&] { firedAt.push_back(clock.now()); });
  timers.scheduleAfter(2s, [&] { firedAt.push_back(clock.now()); });
  io.run_for(2s);
  const auto realElapsed = std::chrono::steady_clock::now() - realStart;
  ASSERT_EQ(firedAt.size(), 2u);
  EXPECT_LT(firedAt[0], firedAt[1]) << "in deadline order";
  EXPECT_GE(firedAt[1], deadline) << "never before its deadline";
  EXPECT_LT(firedAt[1], deadline + 5s) << "fired about 50 ms of real time in, not 5 s";
  EXPECT_LT(realElapsed, 2s) << "the queue went idle once both had fired";
}

// ---- manual clock stepping through deadlines

struct Fired {
  std::string name;
  time_point now;
};

TEST(ManualFirmwareClock, AnAdvanceFiresEachTimerInOrderAtItsOwnDueTime) {
  boost::asio::io_context io;
  ManualFirmwareClock clock(kStart);
  FirmwareTimerQueue timers(io, clock);
  std::vector<Fired> fired;
  auto record = [&](std::string name) { return [&, name] { fired.push_back({name, clock.now()}); }; };
  timers.scheduleAfter(90s, record("c"));
  timers.scheduleAfter(30s, record("a"));
  timers.scheduleAfter(60s, record("b"));
  timers.scheduleAfter(60s, record("b2"));   // same deadline: scheduling order
  timers.scheduleAfter(121s, record("late"));  // beyond the span
  clock.advance(120s);
  ASSERT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired[0].name, "a");
  EXPECT_EQ(fired[0].now, kStart + 30s) << "a timer sees its own due time, not the end of the advance";
  EXPECT_EQ(fired[1].name, "b");
  EXPECT_EQ(fired[1].now, kStart + 60s);
  EXPECT_EQ(fired[2].name, "b2");
  EXPECT_EQ(fired[3].name, "c");
  EXPECT_EQ(fired[3].now, kStart + 90s);
  EXPECT_EQ(clock.now(), kStart + 120s);
  EXPECT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers.nextDeadline(), kStart + 121s);
}

TEST(ManualFirmwareClock, TimersScheduledByCallbacksWithinTheSpanFireInTheSameAdvance) {
  boost::asio::io_context io;
  ManualFirmwareClock clock(kStart);
  FirmwareTimerQueue timers(io, clock);
  std::vector<Fired> fired;
  // A watchdog re-armed every 25 s by its own expiry, and one that schedules work "now" when it fires.
  std::function<void()> rearm = [&] {
    fired.push_back({"tick", clock.now()});
    timers.scheduleAfter(25s, rearm);
  };
  timers.scheduleAfter(25s, rearm);
  timers.scheduleAfter(40s, [&] {
    fired.push_back({"expiry", clock.now()});
    timers.schedule(clock.now(), [&] { fired.push_back({"at-once", clock.now()}); });
    timers.scheduleAfter(20ms, [&] { fired.push_back({"batch", clock.now()}); });
  });
  clock.advance(100s);
  std::vector<std::string> names;
  for (auto& f : fired) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"tick", "expiry", "at-once", "batch", "tick", "tick", "tick"}));
  EXPECT_EQ(fired[0].now, kStart + 25s);
  EXPECT_EQ(fired[2].now, kStart + 40s) << "scheduled for now at 40 s: runs at 40 s";
  EXPECT_EQ(fired[3].now, kStart + 40s + 20ms);
  EXPECT_EQ(fired[4].now, kStart + 50s);
  EXPECT_EQ(fired[6].now, kStart + 100s) << "a deadline at the end of the span fires";
  EXPECT_EQ(timers.nextDeadline(), kStart + 125s);
}

TEST(ManualFirmwareClock, StepsThroughTheDeadlinesOfEveryQueueItDrives) {
  boost::asio::io_context io;
  ManualFirmwareClock clock(kStart);
  FirmwareTimerQueue first(io, clock), second(io, clock);
  std::vector<std::string> fired;
  first.scheduleAfter(3s, [&] { fired.push_back("first@3"); });
  second.scheduleAfter(1s, [&] { fired.push_back("second@1"); });
  first.scheduleAfter(2s, [&] { fired.push_back("first@2"); });
  second.scheduleAfter(2s, [&] {
    fired.push_back("second@2");
    first.scheduleAfter(500ms, [&] { fired.push_back("first@2.5"); });  // across queues, within the span
  });
  clock.advance(10s);
  EXPECT_EQ(fired, (std::vector<std::string>{"second@1", "first@2", "second@2", "first@2.5", "first@3"}));
}

TEST(ManualFirmwareClock, SettingItBackFiresNothingAndTimersWaitForTheirDeadline) {
  boost::asio::io_context io;
  ManualFirmwareClock clock(kStart);
  FirmwareTimerQueue timers(io, clock);
  int fired = 0;
  timers.scheduleAfter(10s, [&] { ++fired; });
  clock.set(kStart - 1h);
  io.poll();
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(clock.now(), kStart - 1h);
  clock.advance(1h + 9s);
  EXPECT_EQ(fired, 0);
  clock.advance(1s);
  EXPECT_EQ(fired, 1);
}

TEST(ManualFirmwareClock, ATimerThatReArmsForNowCannotHangAnAdvance) {
  boost::asio::io_context io;
  ManualFirmwareClock clock(kStart);
  FirmwareTimerQueue timers(io, clock);
  std::size_t spins = 0;
  std::function<void()> spin = [&] {
    ++spins;
    timers.schedule(clock.now(), spin);
  };
  int later = 0;
  timers.scheduleAfter(1s, spin);
  timers.scheduleAfter(5s, [&] { ++later; });
  clock.advance(10s);
  EXPECT_EQ(clock.now(), kStart + 10s) << "the move completes";
  EXPECT_GE(spins, ManualFirmwareClock::kMaxPassesAtOneInstant);
  EXPECT_EQ(later, 1) << "what was due at the end still ran";
}

TEST(ManualFirmwareClock, AMoveFromATimerCallbackExtendsTheMoveInProgress) {
  boost::asio::io_context io;
  ManualFirmwareClock clock(kStart);
  FirmwareTimerQueue timers(io, clock);
  std::vector<time_point> fired;
  timers.scheduleAfter(1s, [&] {
    fired.push_back(clock.now());
    clock.advance(20s);  // a scenario step that lets more time pass
  });
  timers.scheduleAfter(15s, [&] { fired.push_back(clock.now()); });
  clock.advance(5s);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[1], kStart + 15s);
  EXPECT_EQ(clock.now(), kStart + 21s);
}

TEST(ManualFirmwareClock, AQueueThatGoesStopsFollowing) {
  boost::asio::io_context io;
  ManualFirmwareClock clock(kStart);
  int fired = 0;
  {
    FirmwareTimerQueue gone(io, clock);
    gone.scheduleAfter(1s, [&] { ++fired; });
  }
  FirmwareTimerQueue kept(io, clock);
  kept.scheduleAfter(2s, [&] { ++fired; });
  clock.advance(5s);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(kept.timersRun(), 1u);
}

// ---- makeFirmwareClock

TEST(MakeFirmwareClock, EachModeAndItsStart) {
  ClockSetting manual;
  manual.mode = ClockSetting::Mode::Manual;
  manual.start = kStart;
  auto m = makeFirmwareClock(manual);
  ASSERT_NE(dynamic_cast<ManualFirmwareClock*>(m.get()), nullptr);
  EXPECT_EQ(m->now(), kStart);
  EXPECT_EQ(describe(manual), "manual");

  manual.start.reset();
  const auto before = SystemFirmwareClock().now();
  auto fromNow = makeFirmwareClock(manual);
  EXPECT_GE(fromNow->now(), before) << "without a start: the real time at start-up";
  EXPECT_LE(fromNow->now(), SystemFirmwareClock().now());

  ClockSetting scaled;
  scaled.mode = ClockSetting::Mode::Scaled;
  scaled.scale = 0.5;
  scaled.start = kStart;
  auto s = makeFirmwareClock(scaled);
  ASSERT_NE(dynamic_cast<ScaledFirmwareClock*>(s.get()), nullptr);
  EXPECT_EQ(dynamic_cast<ScaledFirmwareClock*>(s.get())->scale(), 0.5);
  EXPECT_GE(s->now(), kStart);
  EXPECT_EQ(describe(scaled), "scaled:0.5");

  auto r = makeFirmwareClock({});
  EXPECT_NE(dynamic_cast<SystemFirmwareClock*>(r.get()), nullptr);
  EXPECT_EQ(describe({}), "real");
}

// ---- texts

TEST(ClockText, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(formatUtc(kStart), "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(formatUtc(kStart + 250ms + 7us + 999ns), "2023-11-14T22:13:20.250007Z");
  EXPECT_EQ(formatUtc(time_point{}), "1970-01-01T00:00:00.000000Z");
}

TEST(ClockText, ParsesUtcAndRefusesTheRest) {
  EXPECT_EQ(parseUtc("2023-11-14T22:13:20Z").value(), kStart);
  EXPECT_EQ(parseUtc("2023-11-14T22:13:20.25Z").value(), kStart + 250ms);
  EXPECT_EQ(parseUtc("2023-11-14t22:13:20.000000001z").value(), kStart + 1ns);
  EXPECT_EQ(parseUtc("2024-02-29T00:00:00Z").value(), time_point(1'709'164'800s));
  EXPECT_EQ(parseUtc(formatUtc(kStart + 123456us)).value(), kStart + 123456us) << "reads back what it writes";
  EXPECT_EQ(parseUtc("2099-12-31T23:59:59Z").value(), kLatestClockTime);
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14T22:13:20+01:00", "2023-11-14 22:13:20Z",
                          "2023-02-29T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:60:00Z", "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20.1234567890Z", "2100-01-01T00:00:00Z", "+023-11-14T22:13:20Z",
                          "2023-11-14T22:13:20ZZ", "2023-1-14T22:13:20Z"})
    EXPECT_FALSE(parseUtc(bad)) << bad;
  EXPECT_EQ(errorOf(parseUtc("2023-02-30T00:00:00Z")).rfind("no such date or time of day", 0), 0u);
  EXPECT_EQ(errorOf(parseUtc("2100-01-01T00:00:00Z")), "must be from 1970-01-01T00:00:00Z to 2099-12-31T23:59:59Z");
}

TEST(ClockText, ParsesSecondsWithAFraction) {
  EXPECT_EQ(parseSeconds("120").value(), 120s);
  EXPECT_EQ(parseSeconds("0.25").value(), 250ms);
  EXPECT_EQ(parseSeconds("1.000000001").value(), 1s + 1ns);
  EXPECT_EQ(parseSeconds("315576000").value(), kLongestAdvance);
  EXPECT_EQ(errorOf(parseSeconds("0")), "must be more than 0");
  EXPECT_EQ(errorOf(parseSeconds("0.000")), "must be more than 0");
  EXPECT_EQ(errorOf(parseSeconds("315576000.5")), "must be at most 315576000 (ten years)");
  EXPECT_EQ(errorOf(parseSeconds("99999999999999999999999")), "too large a number");
  EXPECT_EQ(errorOf(parseSeconds("1.0000000001")), "at most nine digits after the '.' (nanoseconds)");
  for (const char* bad : {"", "-1", "+1", "1e3", ".5", "5.", "1,5", " 1", "1 ", "0x10", "inf", "nan", "1..2"})
    EXPECT_FALSE(parseSeconds(bad)) << bad;
}

TEST(ClockText, ParsesTheClockMode) {
  EXPECT_EQ(parseClockMode("real").value().mode, ClockSetting::Mode::Real);
  EXPECT_EQ(parseClockMode("manual").value().mode, ClockSetting::Mode::Manual);
  auto scaled = parseClockMode("scaled:60").value();
  EXPECT_EQ(scaled.mode, ClockSetting::Mode::Scaled);
  EXPECT_EQ(scaled.scale, 60);
  EXPECT_EQ(parseClockMode("scaled:0.5").value().scale, 0.5);
  EXPECT_EQ(parseClockMode("scaled:1000000").value().scale, 1e6);
  EXPECT_EQ(errorOf(parseClockMode("scaled:0")), "scaled:N takes a factor from 0.001 to 1000000");
  EXPECT_EQ(errorOf(parseClockMode("scaled:0.0001")), "scaled:N takes a factor from 0.001 to 1000000");
  EXPECT_EQ(errorOf(parseClockMode("scaled:2000000")), "scaled:N takes a factor from 0.001 to 1000000");
  for (const char* bad : {"", "Real", "scaled", "scaled:", "scaled:-1", "scaled:1e3", "scaled:x", "manual:1", "fast"})
    EXPECT_FALSE(parseClockMode(bad)) << bad;
  EXPECT_EQ(errorOf(parseClockMode("fast")), "'fast': takes real, scaled:N (e.g. scaled:60, scaled:0.5) or manual");
}

}  // namespace
}  // namespace mesim::core
