// Subscribes an event sink to every alert of a mesim device with MeshCentral's own WS-Man stack (amt-wsman-comm,
// amt-wsman, amt.js) as MeshCentral's Events panel does, and lists the subscriptions as that panel shows them;
// or removes them all again.
// Usage: NODE_PATH=tests/clients/node_modules node meshcentral_subscribe.js NOTIFY_URL [MODE [SINK_USER SINK_PASS]]
//        NODE_PATH=tests/clients/node_modules node meshcentral_subscribe.js --unsubscribe-all
//   MODE: PushWithAck (default) or Push. SINK_USER/SINK_PASS: Digest credentials mesim uses to POST to NOTIFY_URL.
//   The device: MESIM_HOST (127.0.0.1), MESIM_PORT (16992), MESIM_USER (admin), MESIM_PASSWORD (P@ssw0rd).
'use strict';
const CreateWsmanComm = require('meshcentral/amt/amt-wsman-comm.js');
const WsmanStackCreateService = require('meshcentral/amt/amt-wsman.js');
const AmtStackCreateService = require('meshcentral/amt/amt.js');

const [url, mode = 'PushWithAck', sinkUser = null, sinkPass = null] = process.argv.slice(2);
if (!url) {
  console.error('usage: meshcentral_subscribe.js NOTIFY_URL [Push|PushWithAck] [SINK_USER SINK_PASS] | --unsubscribe-all');
  process.exit(2);
}
const env = process.env;
const comm = CreateWsmanComm(env.MESIM_HOST || '127.0.0.1', parseInt(env.MESIM_PORT || '16992', 10),
                             env.MESIM_USER || 'admin', env.MESIM_PASSWORD || 'P@ssw0rd', 0);
const amt = AmtStackCreateService(WsmanStackCreateService(comm));
const call = (fn) => new Promise((resolve) => fn((stack, name, response, status) => resolve({ response, status })));

async function main() {
  if (url === '--unsubscribe-all') {
    const { response, status } = await call((done) => amt.Enum('CIM_FilterCollectionSubscription', done));
    if (status != 200) throw new Error('Enum: HTTP ' + status);
    for (const s of response || []) {  // the Filter and Handler EPRs select the subscription
      const un = await call((done) => amt.UnSubscribe('CIM_FilterCollectionSubscription', done, 0, 0,
                                                      { Filter: s.Filter, Handler: s.Handler }));
      console.log('UnSubscribe: HTTP ' + un.status);
    }
    return;
  }
  // amt.js Subscribe(class, delivery, url, callback, tag, pri, selectors, opaque, user, pass)
  const sub = await call((done) => amt.Subscribe('CIM_FilterCollection', mode, url, done, 0, 0,
                                                 { InstanceID: 'Intel(r) AMT:All' }, null, sinkUser, sinkPass));
  console.log('Subscribe: HTTP ' + sub.status);
  if (sub.status != 200) throw new Error('Subscribe failed');
  const classes = ['CIM_ListenerDestination', 'CIM_FilterCollectionSubscription'];
  const { response } = await call((done) => amt.BatchEnum(null, classes, done));
  for (const l of response['CIM_ListenerDestination'].responses || [])
    console.log(l.Name + ': ' + l.Destination + ', DeliveryMode ' + l.DeliveryMode);
  for (const s of response['CIM_FilterCollectionSubscription'].responses || [])
    console.log('subscription: SubscriptionState ' + s.SubscriptionState + ', OnFatalErrorPolicy ' + s.OnFatalErrorPolicy);
}

main().then(() => { comm.destroy(); process.exit(0); },
            (e) => { console.error(e.message); comm.destroy(); process.exit(1); });
