// Runs a test process out of file descriptors on purpose, deterministically: the soft RLIMIT_NOFILE is lowered to a
// little above the highest descriptor in use, and every free descriptor below it is taken (opened /dev/null), so
// the next accept() of a server in this process fails with EMFILE. release() gives them back; the destructor also
// restores the limit. Sockets a test needs must be opened before.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace mesim::test {

// ASan and UBSan are not made for a process with no descriptor left: their runtime needs descriptors of its own
// (reports, the symbolizer), and UBSan flags Boost.Asio's scheduler once none is left. The tests that run a
// process out of descriptors skip themselves there; the Release build runs them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
inline constexpr const char* kNoSqueezeUnderSanitizers =
    "the sanitizer runtimes need descriptors of their own; the Release build runs this test";

// The highest descriptor this process has open, or -1.
inline int highestOpenDescriptor() {
  int highest = -1;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') highest = std::max(highest, std::atoi(entry->d_name));
    }
    ::closedir(dir);
  }
  return highest;
}

class DescriptorSqueeze {
 public:
  // `spare`: leave this many of the highest-numbered descriptors below the limit free.
  explicit DescriptorSqueeze(int spare = 0) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highestOpenDescriptor() + 1 + kHeadroom);
    ok_ = ::setrlimit(RLIMIT_NOFILE, &low) == 0;
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) held_.push_back(fd);
    for (int i = 0; i < spare && !held_.empty(); ++i) {  // the highest numbers: a new descriptor lands there
      ::close(held_.back());
      held_.pop_back();
    }
  }
  ~DescriptorSqueeze() {
    release();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  DescriptorSqueeze(const DescriptorSqueeze&) = delete;
  DescriptorSqueeze& operator=(const DescriptorSqueeze&) = delete;

  bool ok() const { return ok_ && !held_.empty(); }
  void release() {
    for (int fd : held_) ::close(fd);
    held_.clear();
  }

 private:
  static constexpr int kHeadroom = 16;

  rlimit saved_{};
  bool ok_ = false;
  std::vector<int> held_;
};

}  // namespace mesim::test
