#include "bmc/sensor_event/sensor_service.hpp"

#include <array>
#include <string>

#include "common/log.hpp"
#include "sensors/executor.hpp"
#include "sensors/sdr.hpp"

namespace simbmc::bmc {
namespace {

using sensors::kThresholdCount;
using sensors::Sensor;

// IPMI v2.0 Appendix G, Sensor/Event NetFn command numbers.
namespace cmd {
constexpr uint8_t setEventReceiver = 0x00;
constexpr uint8_t getEventReceiver = 0x01;
constexpr uint8_t platformEvent = 0x02;
constexpr uint8_t getReadingFactors = 0x23;
constexpr uint8_t setHysteresis = 0x24;
constexpr uint8_t getHysteresis = 0x25;
constexpr uint8_t setThresholds = 0x26;
constexpr uint8_t getThresholds = 0x27;
constexpr uint8_t setEventEnable = 0x28;
constexpr uint8_t getEventEnable = 0x29;
constexpr uint8_t rearmEvents = 0x2A;
constexpr uint8_t getEventStatus = 0x2B;
constexpr uint8_t getReading = 0x2D;
constexpr uint8_t setSensorType = 0x2E;
constexpr uint8_t getSensorType = 0x2F;
}  // namespace cmd

constexpr uint8_t kReceiverDisabled = 0xFF;  // §30.4: event message generation disabled
constexpr uint8_t kRemoteConsoleSoftwareId = 0x81;  // software ID 40h as a generator ID byte (§5.5)

std::string key(uint8_t number, const char* what) { return "sensor." + std::to_string(number) + "." + what; }
const std::string kKeyReceiver = "sensor.event_receiver";

uint16_t le16(uint8_t lo, uint8_t hi) { return static_cast<uint16_t>(lo | (hi << 8)); }

// ---- Requests -------------------------------------------------------------------------------

// Every sensor command starts with the sensor number (§35).
struct SensorNumber {
  uint8_t number = 0;
  static std::optional<SensorNumber> decode(Reader& r) { return SensorNumber{r.u8()}; }
};

// §35.5 Get Sensor Reading Factors: sensor number, reading byte.
struct ReadingFactorsRequest {
  uint8_t number = 0;
  uint8_t reading = 0;
  static std::optional<ReadingFactorsRequest> decode(Reader& r) {
    ReadingFactorsRequest q;
    q.number = r.u8();
    q.reading = r.u8();
    return q;
  }
};

// §35.6 Set Sensor Hysteresis: number, hysteresis mask (reserved, FFh), positive, negative.
struct SetHysteresisRequest {
  uint8_t number = 0;
  uint8_t positive = 0;
  uint8_t negative = 0;
  static std::optional<SetHysteresisRequest> decode(Reader& r) {
    SetHysteresisRequest q;
    q.number = r.u8();
    r.u8();
    q.positive = r.u8();
    q.negative = r.u8();
    return q;
  }
};

// §35.7 Get Sensor Hysteresis: number, hysteresis mask (reserved, FFh).
struct GetHysteresisRequest {
  uint8_t number = 0;
  static std::optional<GetHysteresisRequest> decode(Reader& r) {
    GetHysteresisRequest q{r.u8()};
    r.u8();
    return q;
  }
};

// §35.8 Set Sensor Thresholds, Table 35-8: number, set mask ([5] unr .. [0] lnc, [7:6] reserved),
// then lnc, lc, lnr, unc, uc, unr (the order of the mask bits).
struct SetThresholdsRequest {
  uint8_t number = 0;
  uint8_t mask = 0;
  std::array<uint8_t, kThresholdCount> raw{};
  static std::optional<SetThresholdsRequest> decode(Reader& r) {
    SetThresholdsRequest q;
    q.number = r.u8();
    q.mask = r.u8();
    for (auto& v : q.raw) v = r.u8();
    if ((q.mask & 0xC0) != 0) return std::nullopt;
    return q;
  }
};

// §35.10 Set Sensor Event Enable: number, flags ([7] all event messages, [6] scanning, [5:4]
// 00b keep, 01b enable selected, 10b disable selected, 11b reserved), then up to four mask bytes
// (assertion 7:0, 14:8, deassertion 7:0, 14:8). §35.12 Re-arm Sensor Events has the same shape
// ([7] 0b re-arm all, 1b re-arm selected).
struct EnableRequest {
  uint8_t number = 0;
  uint8_t flags = 0;
  std::array<uint8_t, 4> masks{};
  static std::optional<EnableRequest> decode(Reader& r) {
    EnableRequest q;
    q.number = r.u8();
    q.flags = r.u8();
    const size_t n = std::min<size_t>(r.remaining(), 4);
    for (size_t i = 0; i < n; ++i) q.masks[i] = r.u8();
    return q;
  }
  uint16_t assertion() const { return le16(masks[0], masks[1] & 0x7F); }
  uint16_t deassertion() const { return le16(masks[2], masks[3] & 0x7F); }
};

// §35.15 Set Sensor Type: number, sensor type, [6:0] event/reading type code ([7] reserved).
struct SetTypeRequest {
  uint8_t number = 0;
  uint8_t type = 0;
  uint8_t readingType = 0;
  static std::optional<SetTypeRequest> decode(Reader& r) {
    SetTypeRequest q;
    q.number = r.u8();
    q.type = r.u8();
    q.readingType = r.u8() & 0x7F;
    return q;
  }
};

// §30.4 Set Event Receiver: slave address ([7:1], FFh disables), [1:0] LUN.
struct ReceiverRequest {
  uint8_t address = 0;
  uint8_t lun = 0;
  static std::optional<ReceiverRequest> decode(Reader& r) {
    ReceiverRequest q;
    q.address = r.u8();
    q.lun = r.u8();
    if ((q.lun & 0xFC) != 0) return std::nullopt;
    if (q.address != kReceiverDisabled && (q.address & 0x01) != 0) return std::nullopt;
    return q;
  }
};

}  // namespace

// ---- State ----------------------------------------------------------------------------------

struct SensorService::Impl {
  Impl(std::vector<sensors::SensorConfig> c, TimerQueue& t, storage::StateStore* s)
      : configs(std::move(c)), timers(t), store(s) {}

  std::vector<sensors::SensorConfig> configs;
  // Sensors the BMC feeds itself (addSensor), built after the configured ones.
  struct BuiltIn {
    sensors::SensorConfig config;
    std::unique_ptr<sensors::SensorSource> source;
    std::optional<double> initial;
  };
  std::vector<BuiltIn> builtIn;
  SdrChanged sdrChanged;
  TimerQueue& timers;
  storage::StateStore* store;
  Post post;
  sensors::SourceEnv env;
  EventSink* sink = nullptr;
  uint8_t receiverAddress = kBmcSlaveAddress;
  uint8_t receiverLun = 0;
  // Declared before the hub: the hub goes first, then the worker is joined.
  std::unique_ptr<sensors::ReadExecutor> executor;
  std::unique_ptr<sensors::SensorHub> hub;
  log::RateLimit sinkFailures{5, std::chrono::seconds(60)};

  Result<void> put(const std::string& k, const std::vector<uint8_t>& v) {
    if (store == nullptr) return {};
    return store->put(k, v);
  }

  std::vector<uint8_t> factorBytes(const Sensor& s) const {
    uint8_t f[6];
    s.factors().encode(f);
    std::vector<uint8_t> v(f, f + 6);
    v.push_back(static_cast<uint8_t>(s.factors().format));
    return v;
  }

  Result<void> restore(Sensor& s);
  void onEvent(const sensors::SensorEvent& e);
  void emit(const std::vector<sensors::SensorEvent>& events) { hub->emit(events); }

  Reply getReading(const Sensor& s) const;
  Reply getReadingFactors(const Sensor& s) const;
  Reply setHysteresis(Sensor& s, const SetHysteresisRequest& q);
  Reply setThresholds(Sensor& s, const SetThresholdsRequest& q);
  Reply getThresholds(const Sensor& s) const;
  Reply setEventEnable(Sensor& s, const EnableRequest& q);
  Reply getEventEnable(const Sensor& s) const;
  Reply getEventStatus(const Sensor& s) const;
  Reply setSensorType(Sensor& s, const SetTypeRequest& q);
  Reply platformEvent(const RequestContext& ctx, Reader& r);
};

// Get Sensor Reading / Event Status byte 2 ([7] all event messages enabled, [6] scanning enabled,
// [5] reading/state unavailable).
uint8_t flagsByte(const Sensor& s) {
  const auto& e = s.enables();
  return static_cast<uint8_t>((e.allEvents ? 0x80 : 0) | (e.scanning ? 0x40 : 0) | (s.reading().available ? 0 : 0x20));
}

// §35.14 Get Sensor Reading, Table 35-15: reading, flags, then threshold comparison status
// ([7:6] returned as 1b, [5:0] at or above unr, uc, unc / at or below lnr, lc, lnc) or discrete
// states 0-7 and ([7] returned as 1b) states 8-14.
Reply SensorService::Impl::getReading(const Sensor& s) const {
  const Sensor::Reading r = s.reading();
  if (s.isThreshold()) {
    return Reply::ok({r.available ? r.raw : uint8_t{0x00}, flagsByte(s), static_cast<uint8_t>(0xC0 | (r.states & 0x3F))});
  }
  return Reply::ok({0x00, flagsByte(s), static_cast<uint8_t>(r.states & 0xFF),
                    static_cast<uint8_t>(0x80 | ((r.states >> 8) & 0x7F))});
}

// §35.5 Get Sensor Reading Factors: next reading, then bytes 25-30 of the full record. The
// sensors are linear, one set of factors for all readings, so the next reading with other factors
// does not exist and the answer is the last reading, FFh.
Reply SensorService::Impl::getReadingFactors(const Sensor& s) const {
  if (!s.isThreshold()) return Cc::illegalForSensorOrRecord;
  uint8_t f[6];
  s.factors().encode(f);
  Bytes out{0xFF};
  out.insert(out.end(), f, f + 6);
  return Reply::ok(std::move(out));
}

Reply SensorService::Impl::setHysteresis(Sensor& s, const SetHysteresisRequest& q) {
  if (!s.isThreshold()) return Cc::illegalForSensorOrRecord;
  std::vector<uint8_t> v = factorBytes(s);
  v.push_back(q.positive);
  v.push_back(q.negative);
  if (auto r = put(key(s.number(), "hysteresis"), v); !r) return storeErrorCc(r.error());
  s.setHysteresis(q.positive, q.negative);
  if (sdrChanged) sdrChanged(sensors::encodeSdr(s));
  emit(s.reevaluate());
  return Reply::ok();
}

Reply SensorService::Impl::setThresholds(Sensor& s, const SetThresholdsRequest& q) {
  if (!s.isThreshold()) return Cc::illegalForSensorOrRecord;
  if ((q.mask & ~s.thresholds().settable) != 0) return Cc::invalidField;
  std::array<uint8_t, kThresholdCount> next = s.thresholds().raw;
  for (size_t i = 0; i < kThresholdCount; ++i) {
    if ((q.mask & (1u << i)) != 0) next[i] = q.raw[i];
  }
  std::vector<uint8_t> v = factorBytes(s);
  v.insert(v.end(), next.begin(), next.end());
  if (auto r = put(key(s.number(), "thresholds"), v); !r) return storeErrorCc(r.error());
  s.setThresholds(q.mask, q.raw);
  log::info("sensor thresholds set number={} name=\"{}\" mask=0x{:02x}", s.number(), s.name(), q.mask);
  if (sdrChanged) sdrChanged(sensors::encodeSdr(s));
  emit(s.reevaluate());
  return Reply::ok();
}

// §35.9 Get Sensor Thresholds: readable mask, then lnc, lc, lnr, unc, uc, unr (0 when not
// readable).
Reply SensorService::Impl::getThresholds(const Sensor& s) const {
  if (!s.isThreshold()) return Cc::illegalForSensorOrRecord;
  const sensors::Thresholds& t = s.thresholds();
  Bytes out{t.readable};
  for (size_t i = 0; i < kThresholdCount; ++i) out.push_back((t.readable & (1u << i)) != 0 ? t.raw[i] : 0x00);
  return Reply::ok(std::move(out));
}

Reply SensorService::Impl::setEventEnable(Sensor& s, const EnableRequest& q) {
  const uint8_t op = (q.flags >> 4) & 0x03;
  if (op == 0x03) return Cc::invalidField;
  sensors::EventEnables e = s.enables();
  e.allEvents = (q.flags & 0x80) != 0;
  e.scanning = (q.flags & 0x40) != 0;
  if (op == 0x01) {
    e.assertion |= q.assertion();
    e.deassertion |= q.deassertion();
  } else if (op == 0x02) {
    e.assertion &= static_cast<uint16_t>(~q.assertion());
    e.deassertion &= static_cast<uint16_t>(~q.deassertion());
  }
  e.assertion &= s.supportedAssertions();
  e.deassertion &= s.supportedDeassertions();
  const std::vector<uint8_t> v{static_cast<uint8_t>((e.allEvents ? 0x80 : 0) | (e.scanning ? 0x40 : 0)),
                               static_cast<uint8_t>(e.assertion), static_cast<uint8_t>(e.assertion >> 8),
                               static_cast<uint8_t>(e.deassertion), static_cast<uint8_t>(e.deassertion >> 8)};
  if (auto r = put(key(s.number(), "events"), v); !r) return storeErrorCc(r.error());
  s.setEnables(e);
  emit(s.reevaluate());
  return Reply::ok();
}

// §35.11 Get Sensor Event Enable: flags ([7] all events, [6] scanning), assertion and deassertion
// enables (LS byte first, bit 15 reserved).
Reply SensorService::Impl::getEventEnable(const Sensor& s) const {
  const auto& e = s.enables();
  return Reply::ok({static_cast<uint8_t>((e.allEvents ? 0x80 : 0) | (e.scanning ? 0x40 : 0)),
                    static_cast<uint8_t>(e.assertion), static_cast<uint8_t>(e.assertion >> 8),
                    static_cast<uint8_t>(e.deassertion), static_cast<uint8_t>(e.deassertion >> 8)});
}

// §35.13 Get Sensor Event Status: flags, then the asserted and deasserted event states.
Reply SensorService::Impl::getEventStatus(const Sensor& s) const {
  const uint16_t a = s.assertedEvents(), d = s.deassertedEvents();
  return Reply::ok({flagsByte(s), static_cast<uint8_t>(a), static_cast<uint8_t>(a >> 8), static_cast<uint8_t>(d),
                    static_cast<uint8_t>(d >> 8)});
}

// §35.15 Set Sensor Type. The sensor keeps its class: a threshold sensor stays 01h, a discrete one
// stays discrete (its readings could not mean anything else).
Reply SensorService::Impl::setSensorType(Sensor& s, const SetTypeRequest& q) {
  const bool threshold = q.readingType == sensors::kThresholdReadingType;
  if (threshold != s.isThreshold() || q.readingType == 0x00 || (q.readingType > 0x0C && q.readingType < 0x6F)) {
    return Cc::invalidField;
  }
  if (auto r = put(key(s.number(), "type"), {q.type, q.readingType}); !r) return storeErrorCc(r.error());
  s.setType(q.type, q.readingType);
  log::info("sensor type set number={} name=\"{}\" type=0x{:02x} reading_type=0x{:02x}", s.number(), s.name(),
            q.type, q.readingType);
  if (sdrChanged) sdrChanged(sensors::encodeSdr(s));
  return Reply::ok();
}

// §29.3 / §30.3 Platform Event Message: [generator ID (system interface only)], EvMRev, sensor
// type, sensor number, event dir | type, event data 1-3. Over LAN and IPMB the generator is the
// requester; ipmitool and FreeIPMI send as remote console software ID 40h (rqSA 81h).
Reply SensorService::Impl::platformEvent(const RequestContext& ctx, Reader& r) {
  const bool systemInterface = ctx.channel == kSystemInterfaceChannel;
  if (r.remaining() != (systemInterface ? 8u : 7u)) return Cc::invalidLength;
  SystemEvent e;
  const uint8_t generator = systemInterface ? r.u8() : kRemoteConsoleSoftwareId;
  const uint8_t channel = systemInterface ? 0 : ctx.channel & 0x0F;
  e.generatorId = static_cast<uint16_t>(generator | (channel << 12));
  e.evmRev = r.u8();
  e.sensorType = r.u8();
  e.sensorNumber = r.u8();
  const uint8_t dirType = r.u8();
  e.deassertion = (dirType & 0x80) != 0;
  e.eventType = dirType & 0x7F;
  for (auto& b : e.data) b = r.u8();
  if (e.evmRev != 0x04 && e.evmRev != 0x03) return Cc::invalidField;  // IPMI 2.0/1.5, or 1.0
  if (sink == nullptr) {
    log::debug("platform event dropped: no event log sensor={} type=0x{:02x}", e.sensorNumber, e.sensorType);
    return Reply::ok();
  }
  if (!sink->logEvent(e)) return Cc::outOfSpace;
  return Reply::ok();
}

void SensorService::Impl::onEvent(const sensors::SensorEvent& ev) {
  log::info("sensor event number={} type=0x{:02x} {} data={:02x}{:02x}{:02x}", ev.sensorNumber, ev.sensorType,
            ev.deassertion ? "deassert" : "assert", ev.data[0], ev.data[1], ev.data[2]);
  if (receiverAddress == kReceiverDisabled || sink == nullptr) return;
  SystemEvent e;
  e.generatorId = kBmcSlaveAddress;  // the BMC, channel 0, LUN 0
  e.sensorType = ev.sensorType;
  e.sensorNumber = ev.sensorNumber;
  e.deassertion = ev.deassertion;
  e.eventType = ev.readingType & 0x7F;
  e.data = ev.data;
  if (!sink->logEvent(e) && sinkFailures.allow()) {
    log::warn("sensor event not logged number={} (event log full or failing)", ev.sensorNumber);
  }
}

// Reads one persisted setting of `size` bytes; nullopt when absent or (with a warning) malformed.
namespace {
std::optional<std::vector<uint8_t>> setting(storage::StateStore* store, const std::string& k, size_t size,
                                            Result<void>& err) {
  if (store == nullptr) return std::nullopt;
  auto v = store->get(k);
  if (!v) {
    err = v.error();
    return std::nullopt;
  }
  if (!*v) return std::nullopt;
  if ((*v)->size() != size) {
    log::warn("ignoring persisted setting key={}: {} bytes, expected {}", k, (*v)->size(), size);
    return std::nullopt;
  }
  return **v;
}
}  // namespace

Result<void> SensorService::Impl::restore(Sensor& s) {
  Result<void> err;
  const std::vector<uint8_t> factors = factorBytes(s);
  auto sameFactors = [&](const std::vector<uint8_t>& v, const std::string& k) {
    if (std::equal(factors.begin(), factors.end(), v.begin())) return true;
    log::warn("ignoring persisted setting key={}: the sensor's range changed in the config", k);
    return false;
  };
  const std::string tk = key(s.number(), "thresholds");
  if (auto v = setting(store, tk, factors.size() + kThresholdCount, err); v && sameFactors(*v, tk)) {
    std::array<uint8_t, kThresholdCount> raw{};
    std::copy(v->begin() + static_cast<std::ptrdiff_t>(factors.size()), v->end(), raw.begin());
    s.setThresholds(s.thresholds().settable, raw);
  }
  if (!err) return err;
  const std::string hk = key(s.number(), "hysteresis");
  if (auto v = setting(store, hk, factors.size() + 2, err); v && sameFactors(*v, hk)) {
    s.setHysteresis((*v)[factors.size()], (*v)[factors.size() + 1]);
  }
  if (!err) return err;
  if (auto v = setting(store, key(s.number(), "events"), 5, err)) {
    sensors::EventEnables e;
    e.allEvents = ((*v)[0] & 0x80) != 0;
    e.scanning = ((*v)[0] & 0x40) != 0;
    e.assertion = le16((*v)[1], (*v)[2]);
    e.deassertion = le16((*v)[3], (*v)[4]);
    s.setEnables(e);
  }
  if (!err) return err;
  if (auto v = setting(store, key(s.number(), "type"), 2, err)) {
    const bool threshold = (*v)[1] == sensors::kThresholdReadingType;
    if (threshold == s.isThreshold()) s.setType((*v)[0], (*v)[1]);
  }
  return err;
}

// ---- SensorService --------------------------------------------------------------------------

SensorService::SensorService(std::vector<sensors::SensorConfig> sensors, TimerQueue& timers,
                             storage::StateStore* store)
    : impl_(std::make_unique<Impl>(std::move(sensors), timers, store)) {}

SensorService::~SensorService() = default;

void SensorService::setPost(Post post) { impl_->post = std::move(post); }
void SensorService::setSourceEnv(sensors::SourceEnv env) { impl_->env = std::move(env); }
void SensorService::setEventSink(EventSink* sink) { impl_->sink = sink; }
void SensorService::setSdrListener(SdrChanged listener) { impl_->sdrChanged = std::move(listener); }

void SensorService::addSensor(sensors::SensorConfig config, std::unique_ptr<sensors::SensorSource> source,
                              std::optional<double> initial) {
  impl_->builtIn.push_back(Impl::BuiltIn{std::move(config), std::move(source), initial});
}

bool SensorService::refresh(uint8_t number) { return impl_->hub && impl_->hub->refresh(number); }

const sensors::SensorHub* SensorService::hub() const { return impl_->hub.get(); }

Result<void> SensorService::load() {
  Impl& m = *impl_;
  if (m.hub) return makeError(Error::Kind::internal, "sensors already loaded");
  if (m.post) m.executor = std::make_unique<sensors::ThreadExecutor>(m.post);
  else m.executor = std::make_unique<sensors::InlineExecutor>();
  m.hub = std::make_unique<sensors::SensorHub>(m.timers, *m.executor);

  auto add = [&](const sensors::SensorConfig& c, std::unique_ptr<sensors::SensorSource> source,
                 std::optional<double> initial = std::nullopt) -> Result<void> {
    auto sensor = Sensor::create(c, source->range());
    if (!sensor) return sensor.error();
    if (auto r = m.restore(*sensor); !r) return r;
    if (initial) sensor->prime(*initial);
    if (!m.hub->add(std::move(*sensor), std::move(source))) {
      return makeError(Error::Kind::invalidArgument,
                       "sensor " + std::to_string(c.number) + " '" + c.name + "': duplicate sensor number");
    }
    return {};
  };
  for (const sensors::SensorConfig& c : m.configs) {
    auto source = sensors::makeSource(c.source, m.env);
    if (!source) {
      return makeError(Error::Kind::invalidArgument,
                       "sensor " + std::to_string(c.number) + " '" + c.name + "': " + source.error().message);
    }
    if (auto r = add(c, std::move(*source)); !r) return r;
  }
  for (auto& b : m.builtIn) {
    if (!b.source) return makeError(Error::Kind::internal, "sensor " + std::to_string(b.config.number) + " has no source");
    if (auto r = add(b.config, std::move(b.source), b.initial); !r) return r;
  }
  m.builtIn.clear();

  if (m.store != nullptr) {
    Result<void> err;
    if (auto v = setting(m.store, kKeyReceiver, 2, err)) {
      m.receiverAddress = (*v)[0];
      m.receiverLun = (*v)[1] & 0x03;
    }
    if (!err) return err;
  }
  m.configs.clear();  // the sensors and sources hold what they need
  m.configs.shrink_to_fit();
  m.hub->setEventHandler([self = &m](const sensors::SensorEvent& e) { self->onEvent(e); });
  m.hub->start();
  if (m.hub->size() > 0) log::info("sensors started count={}", m.hub->size());
  return {};
}

std::vector<Bytes> SensorService::sensorSdrs() const {
  std::vector<Bytes> out;
  if (!impl_->hub) return out;
  for (const Sensor* s : impl_->hub->sensors()) out.push_back(sensors::encodeSdr(*s));
  return out;
}

std::vector<Bytes> SensorService::configuredSdrs() const {
  std::vector<Bytes> out;
  if (!impl_->hub) return out;
  for (const Sensor* s : impl_->hub->sensors()) {
    Sensor configured = *s;
    configured.resetThresholds();
    configured.setType(s->config().sensorType, s->config().readingType);
    out.push_back(sensors::encodeSdr(configured));
  }
  return out;
}

void SensorService::registerCommands(CommandRegistry& registry) {
  Impl* m = impl_.get();
  const uint8_t nf = netfn::sensorEvent;
  using P = Privilege;

  // A sensor command: look the sensor up (0xCB when absent), then run `fn` on it.
  auto withSensor = [m](auto fn) {
    return [m, fn](const RequestContext&, const auto& q) -> Reply {
      Sensor* s = m->hub ? m->hub->find(q.number) : nullptr;
      if (s == nullptr) return Cc::notPresent;
      return fn(*s, q);
    };
  };

  // Privileges: IPMI v2.0 Appendix G.
  registry.add<ReceiverRequest>(nf, cmd::setEventReceiver, P::administrator,
                                [m](const RequestContext&, const ReceiverRequest& q) -> Reply {
                                  if (auto r = m->put(kKeyReceiver, {q.address, q.lun}); !r) {
                                    return storeErrorCc(r.error());
                                  }
                                  m->receiverAddress = q.address;
                                  m->receiverLun = q.lun;
                                  return Reply::ok();
                                });
  registry.add<NoData>(nf, cmd::getEventReceiver, P::user, [m](const RequestContext&, const NoData&) {
    return Reply::ok({m->receiverAddress, m->receiverLun});
  });
  registry.addRaw(nf, cmd::platformEvent, P::operator_,
                  [m](const RequestContext& ctx, Reader& r) { return m->platformEvent(ctx, r); });

  registry.add<ReadingFactorsRequest>(
      nf, cmd::getReadingFactors, P::user,
      withSensor([m](Sensor& s, const ReadingFactorsRequest&) { return m->getReadingFactors(s); }));
  registry.add<SetHysteresisRequest>(
      nf, cmd::setHysteresis, P::operator_,
      withSensor([m](Sensor& s, const SetHysteresisRequest& q) { return m->setHysteresis(s, q); }));
  registry.add<GetHysteresisRequest>(nf, cmd::getHysteresis, P::user,
                                     withSensor([](Sensor& s, const GetHysteresisRequest&) -> Reply {
                                       if (!s.isThreshold()) return Cc::illegalForSensorOrRecord;
                                       return Reply::ok({s.positiveHysteresis(), s.negativeHysteresis()});
                                     }));
  registry.add<SetThresholdsRequest>(
      nf, cmd::setThresholds, P::operator_,
      withSensor([m](Sensor& s, const SetThresholdsRequest& q) { return m->setThresholds(s, q); }));
  registry.add<SensorNumber>(nf, cmd::getThresholds, P::user,
                             withSensor([m](Sensor& s, const SensorNumber&) { return m->getThresholds(s); }));
  registry.addRaw(nf, cmd::setEventEnable, P::operator_, [m, withSensor](const RequestContext& ctx, Reader& r) -> Reply {
    if (r.remaining() < 2 || r.remaining() > 6) return Cc::invalidLength;
    auto q = EnableRequest::decode(r);
    return withSensor([m](Sensor& s, const EnableRequest& e) { return m->setEventEnable(s, e); })(ctx, *q);
  });
  registry.add<SensorNumber>(nf, cmd::getEventEnable, P::user,
                             withSensor([m](Sensor& s, const SensorNumber&) { return m->getEventEnable(s); }));
  registry.addRaw(nf, cmd::rearmEvents, P::operator_, [m, withSensor](const RequestContext& ctx, Reader& r) -> Reply {
    if (r.remaining() < 2 || r.remaining() > 6) return Cc::invalidLength;
    auto q = EnableRequest::decode(r);
    return withSensor([m](Sensor& s, const EnableRequest& e) -> Reply {
      const bool selected = (e.flags & 0x80) != 0;
      m->emit(s.rearm(!selected, e.assertion(), e.deassertion()));
      return Reply::ok();
    })(ctx, *q);
  });
  registry.add<SensorNumber>(nf, cmd::getEventStatus, P::user,
                             withSensor([m](Sensor& s, const SensorNumber&) { return m->getEventStatus(s); }));
  registry.add<SensorNumber>(nf, cmd::getReading, P::user,
                             withSensor([m](Sensor& s, const SensorNumber&) { return m->getReading(s); }));
  registry.add<SetTypeRequest>(nf, cmd::setSensorType, P::operator_,
                               withSensor([m](Sensor& s, const SetTypeRequest& q) { return m->setSensorType(s, q); }));
  registry.add<SensorNumber>(nf, cmd::getSensorType, P::user, withSensor([](Sensor& s, const SensorNumber&) {
                               return Reply::ok({s.sensorType(), static_cast<uint8_t>(s.readingType() & 0x7F)});
                             }));
}

}  // namespace simbmc::bmc
