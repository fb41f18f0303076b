// RedirectionSession's KVMR part (features.md §1.4): kept apart from SOL's code. The session logs in as for SOL;
// from then on its bytes go to a KvmRedirection (0x40/0x41, then RFB).
#include "common/log.h"
#include "wsman/redirection/kvm_redirection.h"
#include "wsman/redirection/redirection_session.h"

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "redirection";
}

SessionStatus RedirectionSession::startKvmStatus() {
  auto& service = *service_;
  auto& kvm = *service.kvm_;
  if (!service.accepting() || !kvm.kvmEnabled()) {
    ++service.stats_.refused;
    MESIM_LOG(Info, kLog, "KVM refused to " << peer_ << ": KVM is disabled (CIM_KVMRedirectionSAP)");
    return SessionStatus::Error;
  }
  if (kvm.busy()) {
    ++service.stats_.busy;
    MESIM_LOG(Info, kLog, "KVM refused to " << peer_ << ": another KVM session is active");
    return SessionStatus::Busy;
  }
  return SessionStatus::Ok;
}

void RedirectionSession::startKvm() {
  auto& service = *service_;
  ++service.stats_.kvmSessions;
  MESIM_LOG(Info, kLog, "'" << user_ << "' from " << peer_ << " logged in for KVM");
  RfbSession::Transport transport;
  transport.write = transport_.write;
  transport.close = [this] { close("the KVM session ended"); };
  kvm_ = std::make_unique<KvmRedirection>(*service.kvm_, std::move(transport), peer_, user_);
  state_ = State::Kvm;
  armSilence();
}

std::chrono::milliseconds RedirectionSession::kvmIdleLimit() const {
  // IPS_KVMRedirectionSettingData.SessionTimeout (minutes): a viewer waiting for a change sends nothing, so the
  // limit is KVM's own, not the login's.
  const auto minutes = std::max<std::uint32_t>(1, service_->platform_.state().redirection.sessionTimeout);
  return std::chrono::minutes(minutes);
}

}  // namespace mesim::wsman::redirection
