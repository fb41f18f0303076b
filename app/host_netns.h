// The simulated host's network as a Linux network namespace (--host-netns NAME): System Defense's policy in force
// becomes nftables rules in it, and its counters are read back (docs/system-defense.md). nft runs as
// `ip netns exec NAME nft ...` on the process shell's thread pool, never on the loop; results come back on the loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/log.h"
#include "common/result.h"
#include "firmware/sysdef/system_defense_engine.h"

namespace mesim::app {

// A program's exit status and what it wrote (stdout and stderr together).
struct ProgramOutput {
  int exitStatus = -1;
  std::string output;
};
// Runs `argv` (searched in PATH) with `input` on its stdin and waits for it. Blocking: not on the loop.
Result<ProgramOutput> runProgram(const std::vector<std::string>& argv, const std::string& input);

// True for a name `ip netns` accepts as a file under /run/netns (no '/', not "." or "..", at most 255 bytes).
bool validNetnsName(const std::string& name);

class NetnsHostNetwork final : public sysdef::HostNetwork {
 public:
  using RunBlocking = std::function<void(std::function<void()>)>;
  // `runBlocking` runs a job off the loop (Device::Services); unset, jobs run on a thread of their own.
  NetnsHostNetwork(boost::asio::io_context& io, std::string netns, RunBlocking runBlocking, log::Context log);
  ~NetnsHostNetwork() override;

  void apply(std::string ruleset, std::function<void(Result<>)> done) override;
  void readCounters(std::function<void(Result<Counters>)> done) override;

  const std::string& netns() const { return netns_; }
  const log::Context& logContext() const { return log_; }

 private:
  void run(std::function<void()> job);

  boost::asio::io_context& io_;
  std::string netns_;
  RunBlocking runBlocking_;
  log::Context log_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::app
