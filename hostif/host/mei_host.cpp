#include "hostif/host/mei_host.h"

#include <cstdio>
#include <utility>

#include "hostif/host/bus_fixup.h"
#include "hostif/host/hbm_bus.h"
#include "hostif/host/host_clients.h"

namespace mesim::host {

// Joins the three parts as the kernel's mei_device does: the bus reports to the clients and the fixup.
class MeiHost::Impl final : public HbmBus::Listener {
 public:
  Impl(boost::asio::io_context& io, std::shared_ptr<link::Endpoint> link, const HostOptions& options)
      : bus(io, std::move(link), options, *this), clients(io, bus, options), fixup(io, bus, clients) {}

  void onConnectRes(const hbm::ConnectRes& res) override { clients.onConnectRes(res); }
  void onDisconnectRes(const hbm::ConnectRes& res) override { clients.onDisconnectRes(res); }
  void onFirmwareDisconnect(const hbm::ConnectReq& req) override { clients.onFirmwareDisconnect(req); }
  void onFlowControl(const hbm::FlowControl& credit) override { clients.onFlowControl(credit); }
  void onNotifyRes(const hbm::NotifyRes& res) override { clients.onNotifyRes(res); }
  void onNotification(const hbm::Notification& n) override { clients.onNotification(n); }
  void onClientMessage(std::uint8_t meAddr, std::uint8_t hostAddr, hbm::Bytes message) override {
    clients.onClientMessage(meAddr, hostAddr, std::move(message));
  }
  void onBusLost() override { clients.onBusLost(); }
  void onEnabling() override { fixup.begin(); }
  void onEnabled() override { fixup.run(); }

  HbmBus bus;
  HostClients clients;
  BusFixup fixup;
};

MeiHost::MeiHost(boost::asio::io_context& io, std::shared_ptr<link::Endpoint> link, HostOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(link), options)) {}
MeiHost::~MeiHost() = default;

void MeiHost::start() { impl_->bus.start(); }
void MeiHost::reset(const std::string& reason) { impl_->bus.reset(reason); }
void MeiHost::stop() { impl_->bus.stop(); }
DevState MeiHost::state() const { return impl_->bus.state(); }
void MeiHost::onStateChange(std::function<void(DevState)> callback) { impl_->bus.onStateChange(std::move(callback)); }
void MeiHost::whenFixupDone(std::function<void()> done) { impl_->fixup.whenDone(std::move(done)); }
hbm::Version MeiHost::negotiatedVersion() const { return impl_->bus.negotiatedVersion(); }
std::vector<MeClient> MeiHost::clients() const { return impl_->bus.clients(); }
const log::Context& MeiHost::logContext() const { return impl_->bus.logContext(); }

int MeiHost::open(FileId& out) { return impl_->clients.open(out); }
void MeiHost::close(FileId file, std::function<void()> done) { impl_->clients.close(file, std::move(done)); }
void MeiHost::connect(FileId file, const hbm::Guid& guid, ConnectCallback done) {
  impl_->clients.connect(file, guid, std::move(done));
}
void MeiHost::connectVtag(FileId file, const hbm::Guid&, std::uint8_t, ConnectCallback done) {
  impl_->clients.connectVtag(file, std::move(done));
}
void MeiHost::notifySet(FileId file, std::uint32_t enable, ErrCallback done) {
  impl_->clients.notifySet(file, enable, std::move(done));
}
Ticket MeiHost::notifyGet(FileId file, bool nonblocking, NotifyGetCallback done) {
  return impl_->clients.notifyGet(file, nonblocking, std::move(done));
}
Ticket MeiHost::write(FileId file, hbm::Bytes message, bool nonblocking, WriteCallback done) {
  return impl_->clients.write(file, std::move(message), nonblocking, std::move(done));
}
Ticket MeiHost::read(FileId file, std::size_t length, bool nonblocking, ReadCallback done) {
  return impl_->clients.read(file, length, nonblocking, std::move(done));
}
void MeiHost::fsync(FileId file, ErrCallback done) { impl_->clients.fsync(file, std::move(done)); }
void MeiHost::cancel(Ticket ticket) { impl_->clients.cancel(ticket); }
short MeiHost::poll(FileId file, short requested, std::function<void()> wake) {
  return impl_->clients.poll(file, requested, std::move(wake));
}

// ---- sysfs (spec §1.3) ----
std::string MeiHost::sysfsFwStatus() const {
  std::string out;
  char line[16];
  for (auto v : impl_->bus.registers().fwStatus) {
    std::snprintf(line, sizeof line, "%08X\n", v);
    out += line;
  }
  return out;
}
std::string MeiHost::sysfsFwVer() const { return formatFwVer(impl_->fixup.firmwareVersions()); }
std::string MeiHost::sysfsHbmVer() const {
  const hbm::Version v = impl_->bus.negotiatedVersion();
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "\n";
}
std::string MeiHost::sysfsHbmVerDrv() const { return "2.2\n"; }
std::string MeiHost::sysfsDevState() const { return devStateName(impl_->bus.state()); }
std::string MeiHost::sysfsTrc() const {
  char line[16];
  std::snprintf(line, sizeof line, "%08X\n", impl_->bus.registers().trc);
  return line;
}
std::string MeiHost::sysfsKind() const { return "mei\n"; }
std::string MeiHost::sysfsTxQueueLimit() const { return std::to_string(impl_->clients.txQueueLimit()) + "\n"; }
int MeiHost::setTxQueueLimit(unsigned limit) { return impl_->clients.setTxQueueLimit(limit); }

MeiHost::Stats MeiHost::stats() const {
  const HostClients::Stats files = impl_->clients.stats();
  return {files.openFiles, files.connectedFiles, files.pendingCalls, impl_->bus.totalResets()};
}

}  // namespace mesim::host
