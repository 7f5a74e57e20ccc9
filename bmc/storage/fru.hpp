// FruService: the FRU inventory devices of one BMC and the Storage NetFn FRU commands (IPMI v2.0
// §34): Get FRU Inventory Area Info (10h), Read FRU Data (11h) and Write FRU Data (12h).
//
// Each device is an image built from config values (bmc/storage/fru_image.hpp) or a raw image file
// served byte for byte, padded with 00h to the configured size. A raw image that breaks the FRU
// spec is served anyway (clients are tested against broken FRUs) with a warning at start-up.
//
// Write FRU Data changes the device's current image and persists the whole image in the StateStore
// (key "fru.<id>", with "fru.<id>.base" holding a fingerprint of the configured image it applies
// to) before the reply; the image file on disk is never touched. When the configured image changes,
// earlier writes no longer apply and the configured image is served.
// Single-threaded (the io_context thread); `store` may be null (nothing persists) and must outlive
// this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bmc/registry.hpp"
#include "bmc/storage/fru_image.hpp"
#include "common/result.hpp"
#include "storage/state_store.hpp"

namespace simbmc::bmc {

// One [[bmc.fru]] table.
struct FruConfig {
  uint8_t id = 0;          // FRU device ID 0..254; 0 is the BMC's own FRU, FFh is reserved (§34)
  std::string name;        // the device ID string of its SDR FRU device locator record (§43.8)
  std::string imagePath;   // a raw image file served as is; when empty, `contents` is built
  FruContents contents;
  size_t size = 0;         // the device's size in bytes, 1..65535; 0 = the image's own size
};

// What the SDR repository needs for a FRU device locator record.
struct FruDevice {
  uint8_t id = 0;
  std::string name;
  size_t size = 0;
};

class FruService {
 public:
  // The most bytes one Read FRU Data returns: 1 count byte + data must fit an IPMI 1.5 LAN message
  // (one length byte: 7 header/trailer bytes + completion code + data <= 255). More -> CAh.
  static constexpr size_t kMaxReadCount = 246;

  FruService(std::vector<FruConfig> config, storage::StateStore* store);
  FruService(const FruService&) = delete;
  FruService& operator=(const FruService&) = delete;

  // Builds or reads every image and applies persisted writes. Fails with a message naming the
  // device for an unreadable or oversized image file, a duplicate ID, a size smaller than the image
  // or a store error. Warns (once per problem) about a raw image that breaks the FRU spec.
  Result<void> load();
  void registerCommands(CommandRegistry& registry);

  // Devices in ID order.
  std::vector<FruDevice> devices() const;
  bool hasDevices() const { return !devices_.empty(); }
  // The device's current contents (after writes), or null for an unknown ID.
  const Bytes* image(uint8_t id) const;

  // The commands, as the registry calls them (public for tests and a future control plane).
  Reply getAreaInfo(uint8_t id) const;
  Reply read(uint8_t id, uint16_t offset, uint8_t count) const;
  Reply write(uint8_t id, uint16_t offset, ByteView data);

 private:
  struct Device {
    std::string name;
    Bytes image;
    uint64_t baseFingerprint = 0;  // of the configured image, padded to size
    bool baseStored = false;       // "fru.<id>.base" holds baseFingerprint
  };

  Result<void> loadDevice(const FruConfig& c);

  std::vector<FruConfig> config_;
  storage::StateStore* store_;
  std::map<uint8_t, Device> devices_;
};

}  // namespace simbmc::bmc
