// The files of one platform's state dir: platform.json (everything but the logs, replaced atomically when it
// changes) and the audit and message logs, each in its own append-only file of hex lines (one record a line,
// oldest first), so recording an event appends a line instead of rewriting platform.json. A log file is
// compacted (rewritten atomically) once it holds twice its capacity; on load only the newest `capacity`
// records count, and a torn last line (kill -9 mid-append) is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "firmware/core/disk_full_switch.h"
#include "firmware/platform/platform_state.h"

namespace mesim::platform {

using LogRecords = std::vector<std::vector<std::uint8_t>>;

// One append-only record file.
class RecordLogFile {
 public:
  // `recordSize` 0 = records of any length.
  RecordLogFile(std::filesystem::path file, std::size_t capacity, std::size_t recordSize);

  // The newest `capacity` records; a missing file is an empty log. A torn last line is dropped (and the
  // file rewritten without it); any other bad line is an error naming the file and the line.
  Result<LogRecords> load();
  // Persists `next`: appends the records it added at the end of what the file holds (dropping old ones at
  // the front is the load's job), or rewrites the file if `next` is no such continuation, the file grew to
  // twice its capacity or an earlier append failed.
  Result<> save(const LogRecords& next);
  Result<> rewrite(const LogRecords& records);

  const std::filesystem::path& path() const { return file_; }
  // Writes fail with ENOSPC while `disk` is full (null: never).
  void setDiskFullSwitch(const core::DiskFullSwitch* disk) { disk_ = disk; }

 private:
  Result<> append(LogRecords::const_iterator first, LogRecords::const_iterator last);

  std::filesystem::path file_;
  std::size_t capacity_;
  std::size_t recordSize_;
  LogRecords onDisk_;      // the newest `capacity` records of the file
  std::size_t lines_ = 0;  // records in the file, including those beyond the capacity
  bool suspect_ = false;   // an append failed: the file may end in a partial line
  const core::DiskFullSwitch* disk_ = nullptr;
};

class StateStore {
 public:
  static constexpr const char* kPlatformFile = "platform.json";
  static constexpr const char* kAuditLogFile = "audit-log.hex";
  static constexpr const char* kMessageLogFile = "message-log.hex";

  explicit StateStore(const std::filesystem::path& stateDir);

  struct Loaded {
    PlatformState state;
    bool needsSave = false;  // fields were defaulted, or the logs moved out of a schema-1 platform.json
  };
  // Loads the state; a missing platform.json loads `fallback` (with the logs found in the dir) and asks to be
  // saved. Errors name the file and what to do.
  Result<Loaded> load(const PlatformState& fallback);
  // Persists `next`, writing only what changed: log records are appended first (an action is never on disk
  // without its record), then platform.json if its text changed. `platformJson` is serializeState(next).
  Result<> save(const PlatformState& next, const std::string& platformJson);

  const std::filesystem::path& platformFile() const { return platformFile_; }
  // Every write (platform.json, log appends and compactions) fails with ENOSPC while `disk` is full.
  void setDiskFullSwitch(const core::DiskFullSwitch* disk);

 private:
  std::filesystem::path platformFile_;
  RecordLogFile auditLog_;
  RecordLogFile messageLog_;
  std::string lastPlatformJson_;
  const core::DiskFullSwitch* disk_ = nullptr;
};

}  // namespace mesim::platform
