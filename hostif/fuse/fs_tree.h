// The fixed tree a FuseFrontEnd serves: a device node and the mei sysfs attributes (spec/mei.md §1.3).
// A new node (dev/watchdog0) is one more row and, if it behaves differently, one more NodeKind.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace mesim::fuse {

enum class NodeKind { Directory, MeiDevice, WatchdogDevice, SysfsAttribute };
enum class SysfsAttribute { None, FwStatus, FwVer, HbmVer, HbmVerDrv, DevState, Trc, Kind, TxQueueLimit };

struct Node {
  std::uint64_t ino;
  std::uint64_t parent;
  std::string_view name;
  NodeKind kind;
  unsigned mode;  // permission bits (the device nodes' come from FuseFrontEnd's NodeAccess)
  SysfsAttribute attribute = SysfsAttribute::None;
};

constexpr std::uint64_t kRootIno = 1;  // FUSE_ROOT_ID

inline constexpr std::array kNodes{
    Node{kRootIno, kRootIno, "", NodeKind::Directory, 0755},
    Node{2, kRootIno, "dev", NodeKind::Directory, 0755},
    Node{3, 2, "mei0", NodeKind::MeiDevice, 0600},
    Node{4, kRootIno, "sys", NodeKind::Directory, 0755},
    Node{5, 4, "class", NodeKind::Directory, 0755},
    Node{6, 5, "mei", NodeKind::Directory, 0755},
    Node{7, 6, "mei0", NodeKind::Directory, 0755},
    Node{8, 7, "fw_status", NodeKind::SysfsAttribute, 0444, SysfsAttribute::FwStatus},
    Node{9, 7, "fw_ver", NodeKind::SysfsAttribute, 0444, SysfsAttribute::FwVer},
    Node{10, 7, "hbm_ver", NodeKind::SysfsAttribute, 0444, SysfsAttribute::HbmVer},
    Node{11, 7, "hbm_ver_drv", NodeKind::SysfsAttribute, 0444, SysfsAttribute::HbmVerDrv},
    Node{12, 7, "dev_state", NodeKind::SysfsAttribute, 0444, SysfsAttribute::DevState},
    Node{13, 7, "trc", NodeKind::SysfsAttribute, 0444, SysfsAttribute::Trc},
    Node{14, 7, "kind", NodeKind::SysfsAttribute, 0444, SysfsAttribute::Kind},
    Node{15, 7, "tx_queue_limit", NodeKind::SysfsAttribute, 0644, SysfsAttribute::TxQueueLimit},
    Node{16, 2, "watchdog0", NodeKind::WatchdogDevice, 0600},  // iamt_wdt (host::MeiWdt), if the daemon has one
};

constexpr const Node* findNode(std::uint64_t ino) {
  for (const Node& node : kNodes)
    if (node.ino == ino) return &node;
  return nullptr;
}

constexpr const Node* findChild(std::uint64_t parent, std::string_view name) {
  for (const Node& node : kNodes)
    if (node.parent == parent && node.ino != kRootIno && node.name == name) return &node;
  return nullptr;
}

}  // namespace mesim::fuse
