// What every firmware fuzz harness starts from: logging off, a temporary state dir and a fresh platform
// model. A harness has no other way to fail than to abort.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "firmware/platform/platform_model.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::test {

struct FuzzPlatform {
  explicit FuzzPlatform(const std::string& tag) : dir(tag) {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    if (!opened) std::abort();
    platform = std::move(*opened);
  }
  LogThreshold quiet{log::Level::Off};
  TempDir dir;
  std::unique_ptr<platform::PlatformModel> platform;
};

}  // namespace mesim::test
