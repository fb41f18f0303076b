// What is process-wide: the event loop and its thread, SIGINT/SIGTERM, the log threshold, the control API that
// addresses devices by name. It creates the configured devices, reports ready when all are, and stops them all.
#pragma once

#include <memory>

#include "app/config.h"

namespace mesim::app {

class ProcessShell {
 public:
  explicit ProcessShell(Config config);
  ~ProcessShell();
  // Runs until SIGINT/SIGTERM or a fatal error; the process's exit code.
  int run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesim::app
