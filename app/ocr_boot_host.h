// The simulated BIOS's One Click Recovery HTTPS boot (docs/alarm-clock-and-boot.md): on a host boot whose armed
// options ask for "Force OCR UEFI HTTPS Boot" (platform::armedOcrHttpsBoot), it downloads the URI with an HTTPS GET
// off the firmware's loop (real-time deadline, server checked against AMT's trusted roots when the parameters say
// so), writes the BIOS's progress and error records to the message log as it goes, checks the image hash, and
// "boots" the image: what it says it is (a name: / version: manifest) becomes the host OS the console shows.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/ocr_boot.h"
#include "firmware/platform/platform_model.h"

namespace mesim::app {

class OcrBootHost {
 public:
  OcrBootHost(boost::asio::io_context& io, platform::PlatformModel& platform, const core::FirmwareClock& clock);
  ~OcrBootHost();
  OcrBootHost(const OcrBootHost&) = delete;
  OcrBootHost& operator=(const OcrBootHost&) = delete;

  // From the host power state machine's hook, before the boot options are used up.
  void powerChanged(const platform::PowerChange& change);
  // "NAME VERSION" of the image the host runs after a successful OCR boot; "" when it runs its own OS.
  const std::string& runningImage() const { return runningImage_; }
  // Called when a download ends (either way); tests and the console use it.
  void onFinished(std::function<void()> callback) { finished_ = std::move(callback); }
  boost::json::object statusJson() const;

 private:
  void start(platform::OcrHttpsBoot plan);
  void record(std::initializer_list<platform::MessageLogEvent> events);
  void finish(const std::string& uri, std::optional<platform::OcrError> error, std::string detail, std::string image);

  boost::asio::io_context& io_;
  platform::PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::function<void()> finished_;
  std::uint64_t generation_ = 0;  // a boot during a download makes that download's answer stale
  std::string runningImage_;
  // For /status.
  std::uint64_t boots_ = 0;
  bool inProgress_ = false;
  std::string lastUri_, lastResult_ = "none", lastError_, lastImageName_, lastImageVersion_;
  std::size_t lastImageBytes_ = 0;
};

}  // namespace mesim::app
