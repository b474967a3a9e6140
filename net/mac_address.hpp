// An Ethernet (link-layer) address, shared by the ARP manager (announcement
// frames), the rtnetlink adapter (neighbour entries) and the data path (the
// MAC a DR packet is sent to).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace vsd {

using MacAddress = std::array<std::uint8_t, 6>;

// "00:00:5e:00:53:01"
std::string mac_to_string(const MacAddress& mac);

}  // namespace vsd
