// EventSink: where platform events go (IPMI v2.0 §29.7 event message format, Table 29-6 SEL
// system event record): sensor threshold crossings, discrete state changes, the watchdog, chassis
// power changes and Platform Event Message commands all become one of these. Implemented by the
// SEL service; generators do not know about storage.
#pragma once

#include <array>
#include <cstdint>

namespace simbmc::bmc {

struct SystemEvent {
  uint16_t generatorId = 0x0020;   // byte 1: slave address (bit 0 = 0) or software id (bit 0 = 1); byte 2: channel/LUN
  uint8_t evmRev = 0x04;           // IPMI v2.0 event message format
  uint8_t sensorType = 0;          // Table 42-3
  uint8_t sensorNumber = 0;
  bool deassertion = false;        // event dir bit 7
  uint8_t eventType = 0;           // event/reading type code, 7 bits (0x01 threshold, 0x6F sensor-specific)
  std::array<uint8_t, 3> data{0xFF, 0xFF, 0xFF};
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Logs the event (adds a SEL record with a BMC timestamp). False when it could not be stored
  // (SEL full with stop-when-full policy, storage error); generators never retry.
  virtual bool logEvent(const SystemEvent& event) = 0;
};

}  // namespace simbmc::bmc
