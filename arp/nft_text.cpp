#include "arp/nft_text.hpp"

#include <nftables/libnftables.h>

#include <memory>

namespace vsd::arp {

bool apply_nft_text(const std::string& text, std::string* error) {
  std::unique_ptr<nft_ctx, decltype(&nft_ctx_free)> ctx(nft_ctx_new(NFT_CTX_DEFAULT), nft_ctx_free);
  if (!ctx) {
    *error = "cannot create an nftables context (out of memory?)";
    return false;
  }
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  if (nft_run_cmd_from_buffer(ctx.get(), text.c_str()) != 0) {
    const char* msg = nft_ctx_get_error_buffer(ctx.get());
    *error = std::string("nft refused the ruleset: ") + (msg && *msg ? msg : "(no message)");
    while (!error->empty() && error->back() == '\n') error->pop_back();
    return false;
  }
  return true;
}

}  // namespace vsd::arp
