// Helpers for firmware-side unit tests: a ClientConnection that records what a client sends, a temporary state
// dir removed at the end of the test, and the log's threshold set for a scope or the lines a call writes.
#pragma once

#include <stdlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "firmware/hbm/firmware_client.h"
#include "hostif/link/link.h"
#include "common/log.h"

namespace mesim::test {

// The host side of an HBM link as a test drives it: frames the firmware sends are kept, frames are delivered by hand.
class FakeEndpoint : public link::Endpoint {
 public:
  void send(hbm::Frame frame) override { sent.push_back(std::move(frame)); }
  void onFrame(FrameHandler handler) override { handler_ = std::move(handler); }
  void onDown(DownHandler) override {}
  void close() override {}
  void deliver(hbm::Frame frame) { handler_(std::move(frame)); }
  void bus(hbm::Bytes payload) {
    hbm::Frame f;
    f.header.length = static_cast<std::uint16_t>(payload.size());
    f.payload = std::move(payload);
    deliver(std::move(f));
  }
  std::vector<hbm::Frame> take() { return std::exchange(sent, {}); }
  std::vector<hbm::Frame> sent;

 private:
  FrameHandler handler_;
};

class RecordingConnection : public firmware::ClientConnection {
 public:
  explicit RecordingConnection(std::uint64_t id = 1, std::uint8_t hostAddress = 1) : id_(id), host_(hostAddress) {}
  void send(hbm::Bytes message) override {
    if (open_) sent.push_back(std::move(message));
  }
  void notify() override { ++notifications; }
  void disconnect() override { open_ = false; }
  void pauseReceive() override { paused = true; }
  void resumeReceive() override { paused = false; }
  bool isOpen() const override { return open_; }
  std::uint8_t hostAddress() const override { return host_; }
  std::uint64_t id() const override { return id_; }

  std::vector<hbm::Bytes> sent;
  int notifications = 0;
  bool paused = false;

 private:
  bool open_ = true;
  std::uint64_t id_;
  std::uint8_t host_;
};

// One request through FirmwareClient::onMessage; returns everything the client sent in answer.
inline std::vector<hbm::Bytes> exchange(firmware::FirmwareClient& client, const hbm::Bytes& request) {
  auto connection = std::make_shared<RecordingConnection>();
  client.onConnect(connection);
  client.onMessage(connection, request);
  client.onDisconnect(connection);
  return connection->sent;
}

// Quiets logging below `level` for one scope (fuzz-style tests make thousands of warnings).
class LogThreshold {
 public:
  explicit LogThreshold(log::Level level) : previous_(log::threshold()) { log::setThreshold(level); }
  ~LogThreshold() { log::setThreshold(previous_); }
  LogThreshold(const LogThreshold&) = delete;
  LogThreshold& operator=(const LogThreshold&) = delete;

 private:
  log::Level previous_;
};

// The log lines `run` writes (to stderr) with the threshold at `level`.
template <class Run>
std::string capturedLog(log::Level level, Run&& run) {
  LogThreshold threshold(level);
  testing::internal::CaptureStderr();
  run();
  return testing::internal::GetCapturedStderr();
}

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "fw") {
    std::string pattern = (std::filesystem::temp_directory_path() / ("mesim-" + tag + "-XXXXXX")).string();
    if (char* made = ::mkdtemp(pattern.data())) path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace mesim::test
