#include "app/ider_host.h"

#include "common/log.h"

namespace mesim::app {

namespace redir = wsman::redirection;

IderHost::IderHost(boost::asio::io_context& io, redir::IderHub& hub, std::filesystem::path nbdSocket) : hub_(hub) {
  hostif::nbd::NbdSource source;
  source.size = [&hub]() -> std::optional<std::uint64_t> {
    const auto* session = hub.session();
    if (!session || !session->attached() || !hub.media().known) return std::nullopt;
    return hub.media().bytes();
  };
  source.unavailableReason = [&hub]() -> std::string {
    const auto* session = hub.session();
    if (!session) return "no IDE-R session is open";
    if (!session->attached()) return "the console's IDE-R device is not attached to the host";
    if (!hub.media().known) return "the IDE-R media is not known: " + hub.media().error;
    return "";
  };
  source.blockSize = [&hub] { return hub.media().blockSize ? hub.media().blockSize : 2048u; };
  source.read = [&hub](std::uint64_t offset, std::uint32_t length,
                       std::function<void(Result<std::vector<std::uint8_t>>)> done) {
    hub.read(offset, length, std::move(done));
  };
  nbd_ = std::make_unique<hostif::nbd::NbdServer>(io, nbdSocket.string(), std::move(source));
}

IderHost::~IderHost() { stop(); }

Result<> IderHost::start() {
  if (auto r = nbd_->start(); !r) return r;
  serving_ = true;
  MESIM_LOG(Info, "ider", "IDE-R media as NBD: nbd+unix:///?socket=" << nbd_->path());
  return {};
}

void IderHost::stop() {
  if (nbd_) nbd_->stop();
}

void IderHost::powerChanged(const platform::PowerChange& change) {
  if (redir::IderHub::isHostBoot(change)) hub_.hostBooted();
}

const std::string& IderHost::nbdPath() const { return nbd_->path(); }

boost::json::object IderHost::statusJson() const {
  boost::json::object r;
  r["enabled"] = hub_.enabled();
  if (const auto* s = hub_.session()) {
    r["session"] = {{"user", s->user()},
                    {"peer", s->peer()},
                    {"state", s->state() == redir::IderSession::State::Open ? "open" : "opening"},
                    {"registered", s->enabled()},
                    {"start_mode", redir::startModeName(s->startMode())},
                    {"attached", s->attached()},
                    {"queued_commands", s->queuedCommands()}};
  } else {
    r["session"] = nullptr;
  }
  const auto& m = hub_.media();
  if (m.known)
    r["media"] = {{"blocks", m.blocks}, {"block_size", m.blockSize}, {"bytes", m.bytes()}};
  else
    r["media"] = nullptr;
  if (!m.error.empty() && hub_.session()) r["media_error"] = m.error;
  const auto& b = hub_.lastBoot();
  boost::json::object boot{{"state", b.state}, {"boots", b.boots}};
  if (b.state != "none") {
    boot["device"] = b.device;
    boot["at"] = b.at;
    if (!b.volumeId.empty() || b.device == "cd") boot["volume_id"] = b.volumeId;
    boot["el_torito"] = b.elTorito;
    if (b.elTorito) boot["boot_catalog_lba"] = b.bootCatalogLba;
    if (!b.error.empty()) boot["error"] = b.error;
  }
  r["boot"] = std::move(boot);
  const auto& st = hub_.stats();
  r["sessions"] = st.sessions;
  r["busy"] = st.busy;
  r["refused"] = st.refused;
  r["commands"] = st.commands;
  r["check_conditions"] = st.checkConditions;
  r["command_timeouts"] = st.commandTimeouts;
  r["bytes_read"] = st.bytesRead;
  r["resets"] = st.resets;
  r["protocol_errors"] = st.protocolErrors;
  r["idle_timeouts"] = st.idleTimeouts;
  const auto& n = nbd_->stats();
  if (!serving_) {
    r["nbd"] = nullptr;
    return r;
  }
  r["nbd"] = {{"socket", nbd_->path()},
              {"uri", "nbd+unix:///?socket=" + nbd_->path()},
              {"connections", nbd_->connections()},
              {"reads", n.reads},
              {"bytes_read", n.bytesRead},
              {"read_errors", n.readErrors},
              {"refused_writes", n.refusedWrites},
              {"protocol_errors", n.protocolErrors}};
  return r;
}

}  // namespace mesim::app
