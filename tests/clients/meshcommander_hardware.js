// MeshCommander's hardware page against a WS-Man endpoint, through MeshCentral's own stack (node_modules/meshcentral/
// amt): the BatchEnum of commander.htm's PullHardware and the fields its processHardware draws, by the same
// indexes (CIM_Chip[i] beside CIM_Processor[i], CIM_PhysicalPackage[i + 1] beside CIM_MediaAccessDevice[i], the
// battery's package found by PackageType 11), plus the asset table and the sensors.
// Usage: node meshcommander_hardware.js PORT USER PASS EXPECT_BATTERY(0|1)
// Prints one JSON line with what the page would show and "OK"/"FAIL" lines; exits non-zero on any failure.
'use strict';
const path = require('path');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));

const [port, user, pass, expectBattery] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4], process.argv[5] == '1'];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, 0);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function check(step, cond, detail) { console.log((cond ? 'OK ' : 'FAIL ') + step + (detail ? ' ' + detail : '')); if (!cond) failures++; return cond; }
const call = (fn) => new Promise((resolve) => fn(resolve));

async function main() {
  const names = ['*CIM_ComputerSystemPackage', 'CIM_SystemPackaging', '*CIM_Chassis', 'CIM_Chip', '*CIM_Card', '*CIM_BIOSElement',
    'CIM_Processor', 'CIM_PhysicalMemory', 'CIM_MediaAccessDevice', 'CIM_PhysicalPackage', '*CIM_Battery'];
  const hw = await call((done) => amt.BatchEnum('', names, (stack, name, responses, status) => done({ responses, status })));
  // processHardware draws only when the batch's last answer (the Get of CIM_Battery) is 200.
  if (!check('hardware BatchEnum', hw.status == 200, 'status=' + hw.status)) return;
  const a = hw.responses;
  const page = { platform: {}, baseboard: {}, bios: {}, processors: [], memory: [], storage: [], battery: null };
  const c = a.CIM_Chassis.response, d = a.CIM_Card.response;
  page.platform = { model: c.Model, manufacturer: c.Manufacturer, version: c.Version, serial: c.SerialNumber,
    systemId: a.CIM_SystemPackaging.responses[0].PlatformGUID };
  page.baseboard = { manufacturer: d.Manufacturer, product: d.Model, version: d.Version, serial: d.SerialNumber, tag: d.Tag, fru: d.CanBeFRUed };
  page.bios = { vendor: a.CIM_BIOSElement.response.Manufacturer, version: a.CIM_BIOSElement.response.SoftwareElementID,
    date: new Date(a.CIM_BIOSElement.response.ReleaseDate.Datetime).toISOString().slice(0, 10) };
  for (const e in a.CIM_Processor.responses) {
    const p = a.CIM_Processor.responses[e], chip = a.CIM_Chip.responses[e];
    page.processors.push({ manufacturer: chip.Manufacturer, family: p.Family, version: chip.Version, maxSpeed: p.MaxClockSpeed, status: p.CPUStatus });
  }
  for (const e in a.CIM_PhysicalMemory.responses) {
    const m = a.CIM_PhysicalMemory.responses[e];
    page.memory.push({ bank: m.BankLabel, manufacturer: m.Manufacturer, serial: m.SerialNumber, sizeMB: parseInt(m.Capacity / 1048576),
      formFactor: m.FormFactor, type: m.MemoryType, tag: m.Tag, part: m.PartNumber });
  }
  for (const e in a.CIM_MediaAccessDevice.responses) {
    const m = a.CIM_MediaAccessDevice.responses[e], pkg = a.CIM_PhysicalPackage.responses[+e + 1];
    page.storage.push({ model: pkg && pkg.Model, serial: pkg && pkg.SerialNumber, sizeMB: parseInt(Math.round(1000 * m.MaxMediaSize / 1048576)) });
  }
  if (a.CIM_Battery.response != null) {
    let pkg = null;
    for (const e in a.CIM_PhysicalPackage.responses) if (a.CIM_PhysicalPackage.responses[e].PackageType == 11) pkg = a.CIM_PhysicalPackage.responses[e];
    if (pkg != null) page.battery = { name: a.CIM_Battery.response.DeviceID, manufacturer: pkg.Manufacturer,
      date: new Date(pkg.ManufactureDate.Datetime).toISOString().slice(0, 10), serial: pkg.SerialNumber,
      chemistry: a.CIM_Battery.response.Chemistry, capacity: a.CIM_Battery.response.DesignCapacity, voltage: a.CIM_Battery.response.DesignVoltage };
  }
  console.log(JSON.stringify(page));
  check('platform', page.platform.model && page.platform.serial && /^[0-9A-F]{32}$/.test(page.platform.systemId));
  check('baseboard', page.baseboard.product && page.baseboard.serial && page.baseboard.fru === true);
  check('bios', page.bios.version && /^\d{4}-\d\d-\d\d$/.test(page.bios.date));
  check('processors', page.processors.length > 0 && page.processors.every((p) => p.version && p.maxSpeed > 0 && p.family > 0));
  check('memory', page.memory.length > 0 && page.memory.every((m) => m.sizeMB > 0 && m.serial && m.part));
  check('storage', page.storage.length > 0 && page.storage.every((s) => s.model && s.serial && s.sizeMB > 0),
        JSON.stringify(page.storage));
  check('battery', expectBattery ? (page.battery != null && page.battery.capacity > 0) : page.battery == null, JSON.stringify(page.battery));

  // The asset table and the sensors, enumerated as amt.js does.
  const more = await call((done) => amt.BatchEnum('', ['AMT_AssetTable', 'CIM_Sensor', 'CIM_Fan', 'CIM_PowerSupply', 'AMT_PCIDevice'],
    (stack, name, responses, status) => done({ responses, status })));
  if (!check('sensor BatchEnum', more.status == 200, 'status=' + more.status)) return;
  const tables = more.responses.AMT_AssetTable.responses || [];
  const types = tables.map((t) => t.TableType);
  check('asset tables', [0, 1, 2, 3, 4, 17, 130, 131].every((t) => types.includes(t)), 'types=' + types.join(','));
  const system = tables.find((t) => t.TableType == 1);
  const bytes = system ? Buffer.from(system.TableData, 'base64') : Buffer.alloc(0);
  // SMBIOS type 1 holds the UUID at 8..23 in the byte order of PlatformGUID.
  check('asset table UUID', bytes.length > 24 && bytes.slice(8, 24).toString('hex').toUpperCase() == page.platform.systemId);
  const sensors = more.responses.CIM_Sensor.responses || [];
  check('sensors', sensors.length > 0 && sensors.every((s) => ['Good', 'Bad', 'Unknown'].includes(s.CurrentState)),
        sensors.map((s) => s.DeviceID + '=' + s.CurrentState).join(','));
  check('fans', (more.responses.CIM_Fan.responses || []).length > 0);
  check('PCI devices', (more.responses.AMT_PCIDevice.responses || []).length > 0);
}

main().then(() => process.exit(failures ? 1 : 0), (e) => { console.log('FAIL exception ' + e); process.exit(1); });
