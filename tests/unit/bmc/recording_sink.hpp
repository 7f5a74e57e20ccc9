// An EventSink that keeps every event it is given, for bmc/ tests; `accept = false` makes it refuse
// them the way a full or failing SEL does.
#pragma once

#include <vector>

#include "bmc/event_sink.hpp"

namespace simbmc::bmc::testing {

class RecordingSink final : public EventSink {
 public:
  bool logEvent(const SystemEvent& e) override {
    events.push_back(e);
    return accept;
  }
  std::vector<SystemEvent> events;
  bool accept = true;
};

}  // namespace simbmc::bmc::testing
