// Crash-safe whole-file writes for the state dir: after a kill -9 at any instant the target holds
// either its old or its new contents, never a mix (write temp in the same dir, fsync, rename, fsync dir).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "firmware/core/disk_full_switch.h"

namespace mesim::core {

inline constexpr std::filesystem::perms kOwnerReadWrite =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;

// Replaces `path` with `data`. The new file gets exactly `mode` (umask not applied).
// On error the old file (if any) is left untouched and no temp file remains. While `disk` is full, ENOSPC and
// nothing touched.
std::error_code writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                                std::filesystem::perms mode = kOwnerReadWrite, const DiskFullSwitch* disk = nullptr);

// Appends `data` to `path` (created with mode 0600) in one write and syncs it, so a kill leaves at most one torn
// last part. While `disk` is full, ENOSPC and nothing touched.
std::error_code appendFileSynced(const std::filesystem::path& path, std::string_view data,
                                 const DiskFullSwitch* disk = nullptr);

// Reads the whole file into `out`. A missing file yields std::errc::no_such_file_or_directory.
std::error_code readFile(const std::filesystem::path& path, std::string& out);

}  // namespace mesim::core
