// Who may open a file the daemon makes for host programs (dev/mei0 and dev/watchdog0 on the FUSE mount, the preload
// and HBM link sockets): permission bits and an owning group, as udev gives /dev/mei0 (0600 root, or 0660 to a
// group on some distributions).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mesim {

struct FileAccess {
  unsigned mode = 0600;         // permission bits only (no setuid, setgid or sticky)
  std::optional<gid_t> group;   // unset: the daemon's own group
  bool grantsOthers() const { return (mode & 0007) != 0; }
};

// "0600", "660", "0660": one to four octal digits, at most 0777.
Result<unsigned> parseFileMode(std::string_view text);
// A group name known to this system (getgrnam), or a numeric gid.
Result<gid_t> resolveGroup(std::string_view text);
// Text for messages: "0660" and, if set, " group adm" (the name when the system knows one, else the number).
std::string describe(const FileAccess& access);

// chmod and, if a group is set, chown to it (the daemon's user must be root or a member of the group).
Result<> applyFileAccess(const std::filesystem::path& path, const FileAccess& access);

}  // namespace mesim
