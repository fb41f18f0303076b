#include "app/kvm_routes.h"

#include "app/device.h"
#include "app/device_kvm.h"

namespace mesim::app {
namespace {

constexpr const char* kNoKvm = "no KVM on this device (both redirection ports are off)";
constexpr std::size_t kMaxOverlay = 80;

}  // namespace

void addKvmRoutes(ControlRoutes& routes) {
  routes.add("GET", "/kvm", "KVM: the 5900 port, whether KVM and 5900 are served, the session on the screen, counters",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               auto* kvm = device.kvm();
               if (!kvm) return jsonError(409, kNoKvm);
               return jsonResponse(200, kvm->statusJson());
             });
  routes.add("GET", "/kvm/screen", "the KVM screen as text: rows, cursor, overlay, size in pixels and the font",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               auto* kvm = device.kvm();
               if (!kvm) return jsonError(409, kNoKvm);
               return jsonResponse(200, kvm->screenJson());
             });
  routes.add("POST", "/kvm/overlay", "draw ?text= inverse at the screen's top right (empty removes it)",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({"text"})) return jsonError(400, "unknown parameter " + *unknown);
               auto text = request.param("text");
               if (!text) return jsonError(400, "missing parameter text");
               if (text->size() > kMaxOverlay)
                 return jsonError(400, "text has " + std::to_string(text->size()) + " characters; at most 80");
               for (unsigned char c : *text)
                 if (c < 0x20 || c > 0x7E) return jsonError(400, "text must be printable ASCII");
               auto* kvm = device.kvm();
               if (!kvm) return jsonError(409, kNoKvm);
               kvm->setOverlay(*text);
               return jsonResponse(200, kvm->screenJson());
             });
}

}  // namespace mesim::app
