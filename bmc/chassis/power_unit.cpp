#include "bmc/chassis/power_unit.hpp"

#include <array>

#include "common/log.hpp"

namespace simbmc::bmc {
namespace {

constexpr uint16_t kStatePowerOff = 1u << kPowerUnitPowerOff;
constexpr uint16_t kStatePowerCycle = 1u << kPowerUnitPowerCycle;

constexpr uint8_t kEntityPowerUnit = 0x13;  // Table 43-13: power unit / power domain

}  // namespace

PowerUnit::PowerUnit(HostControl& host, SensorService& sensors) : host_(host), sensors_(sensors) {}

PowerUnit::~PowerUnit() = default;

uint16_t PowerUnit::states(const HostControl& host) {
  uint16_t s = 0;
  if (!host.powerOn()) s |= kStatePowerOff;
  if (host.powerCycleInProgress()) s |= kStatePowerCycle;
  return s;
}

sensors::SensorConfig PowerUnit::sensorConfig(uint8_t number, const std::string& name) {
  sensors::SensorConfig c;
  c.number = number;
  c.name = name;
  c.entityId = kEntityPowerUnit;
  c.entityInstance = 1;
  c.sensorType = kSensorTypePowerUnit;
  c.readingType = sensors::kSensorSpecificReadingType;
  c.readingMask = kStatePowerOff | kStatePowerCycle;
  c.deassertionEvents = kStatePowerOff;
  c.record = sensors::RecordKind::compact;
  c.poll = Millis(1000);
  return c;
}

Result<void> PowerUnit::attach(const PowerUnitConfig& config, const std::vector<sensors::SensorConfig>& configured,
                               std::optional<bool> previousPowerOn) {
  if (!config.enabled || number_) return {};
  auto fail = [](const std::string& what) { return makeError(Error::Kind::invalidArgument, "power unit sensor: " + what); };
  if (config.name.empty() || config.name.size() > 16) return fail("name must be 1..16 characters");

  std::array<bool, 256> taken{};
  taken[0xFF] = true;  // reserved (§35)
  for (const auto& c : configured) taken[c.number] = true;
  uint8_t number = config.number.value_or(PowerUnitConfig::kDefaultNumber);
  if (config.number && taken[number]) {
    for (const auto& c : configured) {
      if (c.number == number) {
        return fail("number " + std::to_string(number) + " is also sensor '" + c.name +
                    "' in the config; choose another power_unit_sensor");
      }
    }
    return fail("sensor number 255 is reserved");
  }
  if (!config.number && taken[number]) {
    int n = 0xFE;
    while (n >= 0 && taken[static_cast<size_t>(n)]) --n;
    if (n < 0) return fail("every sensor number is in use");
    number = static_cast<uint8_t>(n);
  }

  const uint16_t baseline = previousPowerOn ? (*previousPowerOn ? 0 : kStatePowerOff) : states(host_);
  HostControl* host = &host_;
  // The first read happens inside BMC start-up, before the restore policy decides the host's state.
  auto source = std::make_unique<sensors::CallbackSource>([host, baseline, first = true]() mutable {
    if (first) {
      first = false;
      return static_cast<double>(baseline);
    }
    return static_cast<double>(states(*host));
  });
  sensors_.addSensor(sensorConfig(number, config.name), std::move(source), static_cast<double>(baseline));
  number_ = number;

  std::weak_ptr<bool> alive = alive_;
  host_.addListener([this, alive, number](PowerEvent e) {
    if (alive.expired()) return;
    if (e == PowerEvent::poweredOn || e == PowerEvent::poweredOff) sensors_.refresh(number);
  });
  log::debug("power unit sensor number={} name=\"{}\"", number, config.name);
  return {};
}

}  // namespace simbmc::bmc
