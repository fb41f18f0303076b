// Shared by the benchmarks that time WS-Man Gets: percentiles of latency samples, and a loop of
// Get AMT_GeneralSettings on one WsmanDigestClient (whatever path its port leads through).
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "tests/support/wsman_digest_client.h"

namespace mesim::bench {

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
  std::size_t count = 0;
};

// Nearest-rank percentiles of `samples` (any unit); zeros when there are none.
inline Percentiles percentiles(std::vector<double> samples) {
  Percentiles p;
  p.count = samples.size();
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  p.p50 = samples[samples.size() / 2];
  p.p99 = samples[samples.size() * 99 / 100];
  p.max = samples.back();
  return p;
}

// `count` Gets of AMT_GeneralSettings on `client`, each one's latency in microseconds appended to `us`. Empty
// on success, else what failed (a benchmark of failures is no benchmark).
inline std::string timeGets(test::WsmanDigestClient& client, int count, std::vector<double>& us) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    auto answer = client.post(test::wsmanGetGeneralSettings(std::to_string(i)));
    if (answer.status != 200) return "Get failed: status " + std::to_string(answer.status) + " " + answer.error;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return {};
}

}  // namespace mesim::bench
