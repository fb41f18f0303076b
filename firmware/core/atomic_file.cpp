#include "firmware/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace mesim::core {
namespace {

std::error_code lastError() { return {errno, std::generic_category()}; }

// Closes a descriptor on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  std::error_code close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? std::error_code{} : lastError();
  }

 private:
  int fd_;
};

std::error_code writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return lastError();
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::error_code fsyncRetry(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return lastError();
  }
  return {};
}

std::filesystem::path tempPathFor(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  auto name = "." + path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
              std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  return path.parent_path() / name;
}

}  // namespace

std::error_code writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                                std::filesystem::perms mode, const DiskFullSwitch* disk) {
  if (path.filename().empty()) return std::make_error_code(std::errc::invalid_argument);
  if (disk) {
    if (auto ec = disk->checkWrite()) return ec;
  }
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const auto temp = tempPathFor(dir / path.filename());
  const auto rawMode = static_cast<mode_t>(mode & std::filesystem::perms::mask);

  Fd file(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, rawMode));
  if (file.get() < 0) return lastError();

  auto fail = [&](std::error_code ec) {
    ::unlink(temp.c_str());
    return ec;
  };
  if (::fchmod(file.get(), rawMode) != 0) return fail(lastError());  // open() applied the umask
  if (auto ec = writeAll(file.get(), data)) return fail(ec);
  if (auto ec = fsyncRetry(file.get())) return fail(ec);
  if (auto ec = file.close()) return fail(ec);
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail(lastError());

  // The rename is durable only once the directory entry is on disk.
  Fd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirFd.get() < 0) return lastError();
  return fsyncRetry(dirFd.get());
}

std::error_code appendFileSynced(const std::filesystem::path& path, std::string_view data,
                                 const DiskFullSwitch* disk) {
  if (disk) {
    if (auto ec = disk->checkWrite()) return ec;
  }
  Fd file(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (file.get() < 0) return lastError();
  if (auto ec = writeAll(file.get(), data)) return ec;
  while (::fdatasync(file.get()) != 0)
    if (errno != EINTR) return lastError();
  return file.close();
}

std::error_code readFile(const std::filesystem::path& path, std::string& out) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return lastError();
  out.clear();
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(file.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return lastError();
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace mesim::core
