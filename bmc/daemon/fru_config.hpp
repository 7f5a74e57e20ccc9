// The [[bmc.fru]] tables of the config: FRU inventory devices, each a raw image file or chassis /
// board / product info areas and multirecords built from values. The reference for every key is
// README.md "Configuration", [[bmc.fru]].
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "bmc/storage/fru.hpp"

namespace simbmc::daemon {

// Parses the value of the `fru` key of one [[bmc]] table (`where` names it, e.g. "bmc[0].fru") into
// `out`. Every problem is appended to `errors` as "<where>[i].<key>: message" and parsing goes on,
// so one run reports them all. A relative `image` path is resolved against the directory of
// `sourceName` (the config file). Checks what can be checked without building the BMC: types and
// ranges, unique IDs, fields that fit the FRU spec, areas that fit their length bytes, readable
// image files no larger than a FRU device.
void parseFruConfig(const toml::node& node, const std::string& where, const std::string& sourceName,
                    std::vector<bmc::FruConfig>& out, std::vector<std::string>& errors);

}  // namespace simbmc::daemon
