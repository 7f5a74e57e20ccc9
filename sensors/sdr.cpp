#include "sensors/sdr.hpp"

#include <algorithm>

namespace simbmc::sensors {
namespace {

void u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v & 0xFF));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

// Bytes 1-8 of every sensor record: header (record ID 0, version, type, length patched at the end)
// and the record key (owner ID, owner LUN / channel, sensor number).
void header(std::vector<uint8_t>& out, uint8_t type, const Sensor& s, uint8_t owner, uint8_t lun, uint8_t channel) {
  u16(out, 0x0000);
  out.push_back(kSdrVersion);
  out.push_back(type);
  out.push_back(0);  // record length, set by finish()
  out.push_back(static_cast<uint8_t>(owner & 0xFE));  // [0] 0 = IPMB slave address
  out.push_back(static_cast<uint8_t>(((channel & 0x0F) << 4) | (lun & 0x03)));
  out.push_back(s.number());
}

uint8_t entityInstance(const SensorConfig& c) {
  return static_cast<uint8_t>((c.logicalEntity ? 0x80 : 0x00) | (c.entityInstance & 0x7F));
}

// ID string type/length code: [7:6] 11b = 8-bit ASCII + Latin 1, [4:0] length (§43.15).
void idString(std::vector<uint8_t>& out, const std::string& name) {
  const size_t n = std::min<size_t>(name.size(), 16);
  out.push_back(static_cast<uint8_t>(0xC0 | n));
  out.insert(out.end(), name.begin(), name.begin() + static_cast<std::ptrdiff_t>(n));
}

std::vector<uint8_t> finish(std::vector<uint8_t> out) {
  out[4] = static_cast<uint8_t>(out.size() - 5);
  return out;
}

// Byte 12, sensor capabilities: [6] auto re-arm, [5:4] hysteresis, [3:2] threshold access, [1:0]
// event message control (00b per threshold/state enables, 11b no events).
uint8_t capabilities(const Sensor& s) {
  uint8_t caps = 0x40;
  if (s.isThreshold()) {
    caps |= 0x20;  // hysteresis readable and settable
    if (s.thresholds().settable != 0) caps |= 0x08;
    else if (s.thresholds().readable != 0) caps |= 0x04;
  }
  if (!s.config().events) caps |= 0x03;
  return caps;
}

// Byte 11, sensor initialization: [6] init scanning, [5] init events, [4] init thresholds, [3] init
// hysteresis (threshold sensors), [2] init sensor type, [1] event generation on, [0] scanning on.
uint8_t initialization(const Sensor& s) {
  uint8_t init = 0x40 | 0x20 | 0x04 | 0x01;
  if (s.isThreshold()) init |= 0x10 | 0x08;
  if (s.config().events) init |= 0x02;
  return init;
}

uint8_t units1(const SensorConfig& c, AnalogFormat format) {
  return static_cast<uint8_t>((static_cast<uint8_t>(format) << 6) | ((c.rateUnit & 0x07) << 3) |
                              ((c.modifierUse & 0x03) << 1) | (c.percentage ? 1 : 0));
}

std::vector<uint8_t> fullRecord(const Sensor& s, uint8_t owner, uint8_t lun, uint8_t channel) {
  const SensorConfig& c = s.config();
  const Factors& f = s.factors();
  const Thresholds& t = s.thresholds();
  std::vector<uint8_t> out;
  header(out, kFullSensorRecord, s, owner, lun, channel);
  out.push_back(c.entityId);                 // 9
  out.push_back(entityInstance(c));          // 10
  out.push_back(initialization(s));          // 11
  out.push_back(capabilities(s));            // 12
  out.push_back(s.sensorType());             // 13
  out.push_back(s.readingType());            // 14
  if (s.isThreshold()) {
    // 15-16: assertion events [11:0] and the lower thresholds the reading is compared with [14:12];
    // 17-18: deassertion events and the upper comparisons; 19: readable, 20: settable thresholds.
    const uint16_t lower = static_cast<uint16_t>((t.readable & 0x07) << 12);
    const uint16_t upper = static_cast<uint16_t>(((t.readable >> 3) & 0x07) << 12);
    u16(out, static_cast<uint16_t>(s.supportedAssertions() | lower));
    u16(out, static_cast<uint16_t>(s.supportedDeassertions() | upper));
    out.push_back(t.readable);
    out.push_back(t.settable);
  } else {
    u16(out, s.supportedAssertions());
    u16(out, s.supportedDeassertions());
    u16(out, s.readingMask());
  }
  out.push_back(units1(c, s.isThreshold() ? f.format : AnalogFormat::none));  // 21
  out.push_back(c.baseUnit);                 // 22
  out.push_back(c.modifierUnit);             // 23
  out.push_back(0x00);                       // 24: linearization, linear
  uint8_t mb[6];
  f.encode(mb);                              // 25-30
  out.insert(out.end(), mb, mb + 6);
  // 31: analog characteristic flags [0] nominal, [1] normal max, [2] normal min specified.
  uint8_t flags = 0;
  if (c.nominal) flags |= 0x01;
  if (c.normalMax) flags |= 0x02;
  if (c.normalMin) flags |= 0x04;
  out.push_back(flags);
  out.push_back(c.nominal ? f.toRaw(*c.nominal) : 0x00);       // 32
  out.push_back(c.normalMax ? f.toRaw(*c.normalMax) : 0x00);   // 33
  out.push_back(c.normalMin ? f.toRaw(*c.normalMin) : 0x00);   // 34
  out.push_back(f.fromX(f.maxX()));                            // 35: sensor maximum reading
  out.push_back(f.fromX(f.minX()));                            // 36: sensor minimum reading
  for (ThresholdIndex i : {kUnr, kUc, kUnc, kLnr, kLc, kLnc}) { // 37-42
    out.push_back((t.readable & (1u << i)) != 0 ? t.raw[i] : 0x00);
  }
  out.push_back(s.positiveHysteresis());     // 43
  out.push_back(s.negativeHysteresis());     // 44
  out.push_back(0x00);                       // 45-46 reserved
  out.push_back(0x00);
  out.push_back(0x00);                       // 47 OEM
  idString(out, c.name);                     // 48-
  return finish(std::move(out));
}

std::vector<uint8_t> compactRecord(const Sensor& s, uint8_t owner, uint8_t lun, uint8_t channel) {
  const SensorConfig& c = s.config();
  std::vector<uint8_t> out;
  header(out, kCompactSensorRecord, s, owner, lun, channel);
  out.push_back(c.entityId);                 // 9
  out.push_back(entityInstance(c));          // 10
  out.push_back(initialization(s));          // 11
  out.push_back(capabilities(s));            // 12
  out.push_back(s.sensorType());             // 13
  out.push_back(s.readingType());            // 14
  u16(out, s.supportedAssertions());         // 15-16
  u16(out, s.supportedDeassertions());       // 17-18
  u16(out, s.readingMask());                 // 19-20
  out.push_back(units1(c, AnalogFormat::unsignedRaw));  // 21: no linearization in a compact record
  out.push_back(c.baseUnit);                 // 22
  out.push_back(c.modifierUnit);             // 23
  out.push_back(0x01);                       // 24: direction unspecified, no ID modifier, share count 1
  out.push_back(0x00);                       // 25: no entity instance sharing
  out.push_back(s.positiveHysteresis());     // 26
  out.push_back(s.negativeHysteresis());     // 27
  out.push_back(0x00);                       // 28-30 reserved
  out.push_back(0x00);
  out.push_back(0x00);
  out.push_back(0x00);                       // 31 OEM
  idString(out, c.name);                     // 32-
  return finish(std::move(out));
}

std::vector<uint8_t> eventOnlyRecord(const Sensor& s, uint8_t owner, uint8_t lun, uint8_t channel) {
  const SensorConfig& c = s.config();
  std::vector<uint8_t> out;
  header(out, kEventOnlyRecord, s, owner, lun, channel);
  out.push_back(c.entityId);                 // 9
  out.push_back(entityInstance(c));          // 10
  out.push_back(s.sensorType());             // 11
  out.push_back(s.readingType());            // 12
  out.push_back(0x01);                       // 13: share count 1
  out.push_back(0x00);                       // 14
  out.push_back(0x00);                       // 15 reserved
  out.push_back(0x00);                       // 16 OEM
  idString(out, c.name);                     // 17-
  return finish(std::move(out));
}

}  // namespace

std::vector<uint8_t> encodeSdr(const Sensor& sensor, uint8_t ownerAddress, uint8_t lun, uint8_t channel) {
  switch (sensor.recordKind()) {
    case RecordKind::eventOnly: return eventOnlyRecord(sensor, ownerAddress, lun, channel);
    case RecordKind::compact: return compactRecord(sensor, ownerAddress, lun, channel);
    default: return fullRecord(sensor, ownerAddress, lun, channel);
  }
}

}  // namespace simbmc::sensors
