// Writes the alarm-clock requests @device-management-toolkit/wsman-messages builds (AMT.AlarmClockService.AddAlarm,
// IPS.AlarmClockOccurrence Enumerate/Pull/Delete), for wsman_clients_test to send with curl --digest.
// Usage: node wsman_messages_alarm.js OUTDIR
// Writes add.xml (a daily alarm "Nightly" one day from now, kept on completion), enumerate.xml, pull.xml (context
// @@CONTEXT@@) and delete.xml; prints the alarm's StartTime as the package wrote it.
'use strict';
const fs = require('fs');
const path = require('path');
const { AMT, IPS } = require(path.join(__dirname, 'node_modules', '@device-management-toolkit', 'wsman-messages'));

const outDir = process.argv[2];
if (!outDir) { console.error('usage: node wsman_messages_alarm.js OUTDIR'); process.exit(2); }
const amt = new AMT.Messages();
const ips = new IPS.Messages();
const start = new Date(Date.now() + 86400 * 1000);
start.setUTCSeconds(0, 0);
const write = (name, xml) => fs.writeFileSync(path.join(outDir, name), xml);
write('add.xml', amt.AlarmClockService.AddAlarm({
  InstanceID: 'Nightly', ElementName: 'Nightly update', StartTime: start, Interval: 1440, DeleteOnCompletion: false,
}));
write('enumerate.xml', ips.AlarmClockOccurrence.Enumerate());
write('pull.xml', ips.AlarmClockOccurrence.Pull('@@CONTEXT@@'));
write('delete.xml', ips.AlarmClockOccurrence.Delete({ name: 'InstanceID', value: 'Nightly' }));
console.log(start.toISOString().split('.')[0] + 'Z');
