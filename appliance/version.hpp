#pragma once

namespace vsd {
inline constexpr const char* kVersion = "0.1.0";
}
