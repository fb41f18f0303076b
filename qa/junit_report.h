// JUnit XML for CI dashboards from scenario reports (the answers of GET /scenarios/{id}, docs/scenarios.md
// "JUnit"): one <testsuite> per scenario, one <testcase> per action and per expectation; a failed expectation or
// step is a <failure>, a run that could not go on (clock error, cancelled, bad file) an <error>, what never ran
// <skipped>.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace mesim::qa {

std::string junitXml(const std::vector<boost::json::object>& reports);

}  // namespace mesim::qa
