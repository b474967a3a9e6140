// Applies nftables ruleset text (what `nft -f` reads) through libnftables,
// the library nft itself is built on (Debian libnftables1): the real
// server's arp-family table is written as text so that the operator sees
// the same words in `nft list ruleset`, and the kernel takes each text
// file as one atomic transaction.
#pragma once

#include <string>

namespace vsd::arp {

// False with *error holding nft's own message (it names the line).
bool apply_nft_text(const std::string& text, std::string* error);

}  // namespace vsd::arp
