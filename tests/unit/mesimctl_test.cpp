// mesimctl's command line without a daemon: help for every command, usage errors (exit 2), an unreachable control
// API (exit 3). tests/integration/control_api_test.cpp runs it against the real daemon.
#include <gtest/gtest.h>

#include <sstream>

#include "tools/mesimctl/commands.h"

namespace mesim::ctl {
namespace {

struct Run {
  int status;
  std::string out, err;
};

Run run(std::vector<std::string> args, std::string url = "http://127.0.0.1:1") {
  std::ostringstream out, err;
  const int status = runMesimctl(args, url, out, err);
  return {status, out.str(), err.str()};
}

TEST(Mesimctl, EveryCommandHasHelpAndIsInTheOverview) {
  const auto overview = run({"--help"});
  EXPECT_EQ(overview.status, kExitOk);
  for (const auto& command : makeCommands()) {
    EXPECT_NE(overview.out.find("  " + command.name + " "), std::string::npos) << command.name;
    for (auto args : {std::vector<std::string>{"help", command.name}, std::vector<std::string>{command.name, "--help"}}) {
      const auto help = run(args);
      EXPECT_EQ(help.status, kExitOk) << command.name;
      EXPECT_EQ(help.out.rfind("usage: mesimctl [OPTIONS] " + command.name, 0), 0u) << help.out;
      EXPECT_FALSE(command.summary.empty() || command.details.empty()) << command.name;
    }
  }
}

TEST(Mesimctl, BadCommandLinesExitTwoWithAReason) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{{{}, "usage: mesimctl"},
                                         {{"frob"}, "no command 'frob'"},
                                         {{"--frob", "status"}, "unknown option --frob"},
                                         {{"--url"}, "--url needs a value"},
                                         {{"--timeout", "-1", "status"}, "positive number"},
                                         {{"--url", "ftp://x", "status"}, "plain http://"},
                                         {{"--url", "::nope", "status"}, "is not a URL"},
                                         {{"--device", "../x", "status"}, "not a device name"},
                                         {{"raise"}, "MESSAGE_ID is required"},
                                         {{"raise", "iAMT0005", "--arg"}, "--arg needs a value"},
                                         {{"raise", "iAMT0005", "--colour", "red"}, "unknown option --colour"},
                                         {{"clock", "advance", "soon"}, "number of seconds"},
                                         {{"fault", "hbm", "client"}, "not KEY=VALUE"},
                                         {{"logs"}, "which log"},
                                         {{"provisioning", "reset"}, "the only action is factory-reset"},
                                         {{"consent", "now"}, "consent takes no arguments"},
                                         {{"call", "GET"}, "METHOD and PATH"},
                                         {{"call", "GET", "status"}, "PATH starts with /"},
                                         {{"health", "--wait", "x"}, "--wait SECONDS"},
                                         {{"help", "frob"}, "no command 'frob'"},
                                         {{"scenario"}, "run, list, show or cancel"},
                                         {{"scenario", "run"}, "one or more scenario files"},
                                         {{"scenario", "run", "a.yaml", "--limit", "soon"}, "positive number of seconds"},
                                         {{"scenario", "run", "a.yaml", "--junit"}, "--junit needs a value"},
                                         {{"scenario", "show"}, "show ID"}}) {
    const auto r = run(c.args);
    EXPECT_EQ(r.status, kExitUsage) << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

TEST(Mesimctl, NoDaemonExitsThreeAndSaysWhere) {
  const auto r = run({"status"});
  EXPECT_EQ(r.status, kExitUnreachable);
  EXPECT_NE(r.err.find("cannot reach the control API at http://127.0.0.1:1"), std::string::npos) << r.err;
}

TEST(Mesimctl, KeyValueWordsBecomeQueryPairs) {
  std::ostringstream err;
  auto pairs = keyValues({"client=amthi", "note=a=b", "empty="}, err);
  ASSERT_TRUE(pairs);
  ASSERT_EQ(pairs->size(), 3u);
  EXPECT_EQ((*pairs)[1], std::make_pair(std::string("note"), std::string("a=b")));
  EXPECT_EQ((*pairs)[2].second, "");
  EXPECT_FALSE(keyValues({"=x"}, err));
}

}  // namespace
}  // namespace mesim::ctl
