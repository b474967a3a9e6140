// nfq/queue_message: NFQUEUE messages as the queue socket receives them
// (one recv buffer, walked with libmnl's rules), parsed by
// parse_queue_message, the packet then parsed by the packet view and its
// verdict batched. Besides ASan/UBSan it checks that a queued packet's
// bytes lie inside its message and that a verdict batch accounts for what
// it was given.
#include <cstring>

#include "forwarders/packet_view.hpp"
#include "fuzz_common.hpp"
#include "nfq/queue_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vsd;
  std::vector<std::uint8_t> buf = fuzz::copy(data, size);
  nfq::VerdictBatch batch(4);
  std::size_t payload_bytes = 0;
  fuzz::for_each_message(buf, [&](const nlmsghdr* nlh) {
    nfq::QueuedPacket pkt;
    int error = 0;
    const nfq::MessageKind kind = nfq::parse_queue_message(nlh, pkt, &error);
    if (kind != nfq::MessageKind::packet) return;
    const auto* msg = reinterpret_cast<const std::uint8_t*>(nlh);
    if (pkt.len) {
      FUZZ_CHECK(pkt.data >= msg && pkt.data + pkt.len <= msg + nlh->nlmsg_len,
                 "a queued packet outside its message");
    }
    (void)pkt.truncated();
    PacketView v;
    std::vector<std::uint8_t> copy(pkt.data, pkt.data + pkt.len);
    (void)parse_packet(copy.data(), copy.size(), v);
    if (batch.full()) {
      batch.clear();
      payload_bytes = 0;
    }
    const bool with_payload = pkt.mark & 1;
    batch.add(0, pkt.id, (pkt.mark & 2) ? NF_DROP : NF_ACCEPT, pkt.mark, with_payload ? pkt.data : nullptr,
              with_payload ? pkt.len : 0);
    payload_bytes += with_payload ? pkt.len : 0;
    FUZZ_CHECK(batch.bytes() >= payload_bytes, "a batch shorter than its payloads");
    std::size_t iovs = 0;
    for (std::size_t i = 0; i < batch.count(); ++i) iovs += batch.message_iov_count(i);
    FUZZ_CHECK(iovs == batch.iov_count(), "iovecs per message do not add up");
  });
  return 0;
}
