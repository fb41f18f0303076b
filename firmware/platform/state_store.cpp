#include "firmware/platform/state_store.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"
#include "firmware/platform/platform_json.h"

namespace mesim::platform {
namespace {

std::string recordLines(LogRecords::const_iterator first, LogRecords::const_iterator last) {
  std::string out;
  for (auto it = first; it != last; ++it) out += text::toHex(*it) + "\n";
  return out;
}

// Temp files of writes that a kill cut short (core::writeFileAtomic names them ".<file>.tmp.<pid>.<n>").
// One process owns a state dir, so none of them is still being written.
void removeStaleTempFiles(const std::filesystem::path& stateDir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(stateDir, ec)) {
    const std::string name = entry.path().filename().string();
    for (const char* file : {StateStore::kPlatformFile, StateStore::kAuditLogFile, StateStore::kMessageLogFile}) {
      if (name.rfind(std::string(".") + file + ".tmp.", 0) == 0) std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace

RecordLogFile::RecordLogFile(std::filesystem::path file, std::size_t capacity, std::size_t recordSize)
    : file_(std::move(file)), capacity_(capacity), recordSize_(recordSize) {}

Result<LogRecords> RecordLogFile::load() {
  std::string text;
  if (auto ec = core::readFile(file_, text)) {
    if (ec == std::errc::no_such_file_or_directory) return LogRecords{};
    return fail("cannot read " + file_.string() + ": " + ec.message());
  }
  LogRecords records;
  bool torn = false;
  std::size_t lineNumber = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = text.find('\n', pos);
    const bool last = end == std::string::npos || end + 1 == text.size();
    const std::string_view line(text.data() + pos, (end == std::string::npos ? text.size() : end) - pos);
    ++lineNumber;
    auto record = text::fromHex(line);
    const bool valid = record && !record->empty() && (recordSize_ == 0 || record->size() == recordSize_);
    if (end == std::string::npos || (!valid && last)) {
      torn = true;  // cut short by a kill: the append never completed
      break;
    }
    if (!valid)
      return fail(file_.string() + " line " + std::to_string(lineNumber) +
                  " is not a log record; fix or remove that file (the rest of the state is kept)");
    records.push_back(std::move(*record));
    pos = end + 1;
  }
  lines_ = records.size();
  if (records.size() > capacity_)
    records.erase(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(records.size() - capacity_));
  onDisk_ = records;
  if (torn) {
    if (auto rewritten = rewrite(records); !rewritten) return rewritten.error();
  }
  return records;
}

Result<> RecordLogFile::save(const LogRecords& next) {
  const LogRecords& previous = onDisk_;
  if (next == previous) return {};
  if (suspect_) return rewrite(next);
  // `next` continues `previous` if, for some count of added records, what precedes them is a tail of
  // `previous` (the oldest dropped by the cap). Usually one record was added: the first try fits.
  for (std::size_t added = 1; added <= next.size(); ++added) {
    const std::size_t kept = next.size() - added;
    if (kept > previous.size()) continue;
    if (!std::equal(next.begin(), next.begin() + static_cast<std::ptrdiff_t>(kept),
                    previous.end() - static_cast<std::ptrdiff_t>(kept)))
      continue;
    if (lines_ + added > 2 * capacity_) return rewrite(next);
    if (auto appended = append(next.end() - static_cast<std::ptrdiff_t>(added), next.end()); !appended)
      return appended;
    onDisk_ = next;
    return {};
  }
  return rewrite(next);
}

Result<> RecordLogFile::append(LogRecords::const_iterator first, LogRecords::const_iterator last) {
  if (auto ec = core::appendFileSynced(file_, recordLines(first, last), disk_)) {
    suspect_ = true;
    return fail("cannot append to " + file_.string() + ": " + ec.message());
  }
  lines_ += static_cast<std::size_t>(last - first);
  return {};
}

Result<> RecordLogFile::rewrite(const LogRecords& records) {
  if (auto ec = core::writeFileAtomic(file_, recordLines(records.begin(), records.end()), core::kOwnerReadWrite, disk_))
    return fail("cannot write " + file_.string() + ": " + ec.message());
  lines_ = records.size();
  onDisk_ = records;
  suspect_ = false;
  return {};
}

StateStore::StateStore(const std::filesystem::path& stateDir)
    : platformFile_(stateDir / kPlatformFile),
      auditLog_(stateDir / kAuditLogFile, EventLogs::kMaxAuditLogRecords, 0),
      messageLog_(stateDir / kMessageLogFile, EventLogs::kMaxMessageLogRecords, EventLogs::kMessageLogRecordSize) {}

void StateStore::setDiskFullSwitch(const core::DiskFullSwitch* disk) {
  disk_ = disk;
  auditLog_.setDiskFullSwitch(disk);
  messageLog_.setDiskFullSwitch(disk);
}

Result<StateStore::Loaded> StateStore::load(const PlatformState& fallback) {
  const auto stateDir = platformFile_.parent_path();
  std::error_code ec;
  std::filesystem::create_directories(stateDir, ec);
  if (ec) return fail("cannot create state dir " + stateDir.string() + ": " + ec.message());
  removeStaleTempFiles(stateDir);

  std::string text;
  ec = core::readFile(platformFile_, text);
  if (ec && ec != std::errc::no_such_file_or_directory)
    return fail("cannot read " + platformFile_.string() + ": " + ec.message());

  Loaded loaded{fallback, true};
  bool logsInside = false;
  if (!ec) {
    auto parsed = parseState(text, fallback);
    if (!parsed)
      return fail(platformFile_.string() + " is not a usable mesim platform state (" + parsed.error().message +
                  "); fix that file, or move it aside to start with a new platform");
    loaded.state = std::move(parsed->state);
    loaded.needsSave = parsed->defaulted || parsed->logsInside;
    logsInside = parsed->logsInside;
    lastPlatformJson_ = text;
  }

  // A schema-1 file carried the logs; files of their own (written by an interrupted migration) are newer.
  for (auto [file, records] : {std::pair{&auditLog_, &loaded.state.logs.auditLog},
                               std::pair{&messageLog_, &loaded.state.logs.messageLog}}) {
    const bool exists = std::filesystem::exists(file->path(), ec);
    if (logsInside && !exists) {
      if (auto written = file->rewrite(*records); !written) return written.error();
      continue;
    }
    auto fromFile = file->load();
    if (!fromFile) return fromFile.error();
    *records = std::move(*fromFile);
  }
  return loaded;
}

Result<> StateStore::save(const PlatformState& next, const std::string& platformJson) {
  if (auto saved = auditLog_.save(next.logs.auditLog); !saved) return saved;
  if (auto saved = messageLog_.save(next.logs.messageLog); !saved) return saved;
  if (platformJson == lastPlatformJson_) return {};
  if (auto ec = core::writeFileAtomic(platformFile_, platformJson, core::kOwnerReadWrite, disk_))
    return fail("cannot write " + platformFile_.string() + ": " + ec.message());
  lastPlatformJson_ = platformJson;
  return {};
}

}  // namespace mesim::platform
