#include "common/file_access.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

namespace mesim {
namespace {

// The group's name when the system knows one, else its number.
std::string groupText(gid_t gid) {
  std::vector<char> buffer(4096);
  group entry{};
  group* found = nullptr;
  while (::getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == ERANGE && buffer.size() < (1u << 20))
    buffer.resize(buffer.size() * 2);
  return found ? std::string(found->gr_name) : std::to_string(gid);
}

std::string modeText(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

}  // namespace

Result<unsigned> parseFileMode(std::string_view text) {
  const auto bad = [&] {
    return fail("'" + std::string(text) + "' is not a file mode: give octal permission bits such as 0600 or 0660");
  };
  if (text.empty() || text.size() > 4) return bad();
  unsigned mode = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  if (ec != std::errc{} || end != text.data() + text.size()) return bad();
  if (mode > 0777) return fail("file mode " + std::string(text) + " sets more than permission bits (at most 0777)");
  return mode;
}

Result<gid_t> resolveGroup(std::string_view text) {
  if (text.empty()) return fail("an empty group name");
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    unsigned long gid = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), gid);
    if (ec != std::errc{} || end != text.data() + text.size() || gid >= std::numeric_limits<gid_t>::max())
      return fail("group id " + std::string(text) + " is out of range");
    return static_cast<gid_t>(gid);
  }
  const std::string name(text);
  std::vector<char> buffer(4096);
  group entry{};
  group* found = nullptr;
  int err = 0;
  while ((err = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1u << 20))
    buffer.resize(buffer.size() * 2);
  if (found) return found->gr_gid;
  if (err != 0) return fail("cannot look up group '" + name + "': " + std::strerror(err));
  return fail("no group named '" + name + "' on this system");
}

std::string describe(const FileAccess& access) {
  std::string text = modeText(access.mode);
  if (access.group) text += " group " + groupText(*access.group);
  return text;
}

Result<> applyFileAccess(const std::filesystem::path& path, const FileAccess& access) {
  if (::chmod(path.c_str(), access.mode) != 0)
    return fail("cannot set mode " + modeText(access.mode) + " on " + path.string() + ": " + std::strerror(errno));
  if (access.group && ::chown(path.c_str(), static_cast<uid_t>(-1), *access.group) != 0) {
    const int err = errno;
    return fail("cannot give " + path.string() + " to group " + groupText(*access.group) + ": " + std::strerror(err) +
                (err == EPERM ? " (the daemon's user must be root or a member of that group)" : ""));
  }
  return {};
}

}  // namespace mesim
