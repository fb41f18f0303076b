// docs/configuration.md is the configuration reference: it names every option `mesim --help` prints, and no option
// the daemon does not have.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/program_run.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;

std::set<std::string> optionsInHelp() {
  auto help = test::runProgram({MESIM_BINARY, "--help"}, {}, 30s);
  EXPECT_EQ(help.status, 0) << help.output;
  std::set<std::string> options;
  static const std::regex option(R"(^  (?:-\w \[ )?--([a-z0-9-]+))");
  std::istringstream lines(help.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, option)) options.insert(m[1].str());
  }
  return options;
}

// The first column of the doc's tables: `name` or `name`, `other`.
std::set<std::string> optionsInDoc() {
  std::ifstream file(std::string(MESIM_SOURCE_DIR) + "/docs/configuration.md");
  EXPECT_TRUE(file);
  std::set<std::string> options;
  std::string line;
  static const std::regex name("`([a-z0-9-]+)`");
  while (std::getline(file, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    const std::string firstColumn = line.substr(1, line.find('|', 1) - 1);
    for (std::sregex_iterator it(firstColumn.begin(), firstColumn.end(), name), end; it != end; ++it)
      options.insert((*it)[1].str());
  }
  return options;
}

TEST(ConfigurationDoc, NamesEveryOptionOfMesimHelpAndNoOther) {
  const auto help = optionsInHelp();
  const auto doc = optionsInDoc();
  ASSERT_GT(help.size(), 20u) << "the help text was not read";
  const std::set<std::string> notConfiguration{"help", "version", "config"};
  for (const auto& option : help) {
    if (notConfiguration.count(option)) continue;
    EXPECT_TRUE(doc.count(option)) << "--" << option << " is not in docs/configuration.md";
  }
  for (const auto& option : doc) EXPECT_TRUE(help.count(option)) << option << " is documented but mesim has no --" << option;
}

}  // namespace
}  // namespace mesim
