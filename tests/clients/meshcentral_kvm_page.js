// Glue of our own for meshcentral_kvm.html: starts MeshCentral's KVM viewer the way its web UI does
// (CreateAmtRemoteDesktop + CreateAmtRedirect, Start(host, port, user, pass, tls)) and publishes what a test
// needs in window.mesimKvm: the redirection state (3 = connected), how many whole frames amt-desktop drew, the
// last error, and the canvas pixels on request.
(function () {
  var params = new URLSearchParams(window.location.search);
  var status = document.getElementById('status');
  var kvm = window.mesimKvm = { state: 0, frames: 0, ready: false, error: null, width: 0, height: 0 };
  function show() { status.textContent = 'state ' + kvm.state + ', frames ' + kvm.frames + (kvm.error ? ', ' + kvm.error : ''); }
  window.onerror = function (message) { kvm.error = String(message); show(); };
  try {
    var desktop = CreateAmtRemoteDesktop('Desk');
    var redirect = CreateAmtRedirect(desktop);
    // amt-desktop asks for the next frame (FramebufferUpdateRequest, message 3) once after ServerInit and then
    // each time it has drawn every tile of an update: the requests after the first count whole frames drawn.
    var requests = 0, send = redirect.send;
    redirect.send = redirect.Send = function (x) {
      if (x.length > 0 && x.charCodeAt(0) == 3) {
        requests++;
        kvm.frames = Math.max(0, requests - 1);
        kvm.width = desktop.width; kvm.height = desktop.height;
        kvm.ready = kvm.frames >= 1 && kvm.state == 3;
        show();
      }
      return send(x);
    };
    redirect.onStateChanged = function (r, state) {
      kvm.state = state;
      if (state == 3) desktop.GrabKeyInput();  // keys typed on the page go to the host, as in MeshCentral
      if (state == 0 && !kvm.error) kvm.error = 'the redirection session ended';
      show();
    };
    kvm.pixels = function () {  // the canvas as base64 RGB, 3 bytes a pixel, row by row
      var c = document.getElementById('Desk'), data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      var rgb = '';
      for (var i = 0; i < data.length; i += 4) rgb += String.fromCharCode(data[i], data[i + 1], data[i + 2]);
      return { width: c.width, height: c.height, rgb: btoa(rgb) };
    };
    redirect.Start(params.get('host') || '127.0.0.1', Number(params.get('port') || 16994), params.get('user') || 'admin',
                   params.get('pass') || '', 0);
  } catch (ex) {
    kvm.error = String(ex);
  }
  show();
})();
