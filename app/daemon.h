// The mesim daemon: composes the platform model, the firmware (HBM engine and clients), the
// host side (host model, FUSE, preload server) or an external-driver socket, and the control API.
#pragma once

#include <memory>

#include "app/config.h"

namespace mesim::app {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  // Runs until SIGTERM/SIGINT or a fatal start-up error; returns the process exit code.
  int run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesim::app
