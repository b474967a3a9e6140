// The ruleset's kernel I/O: batches sent on a NETLINK_NETFILTER socket,
// and the dumps that tell an in-place update what the tables hold now.
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
// glibc headers before the kernel uapi ones.
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <system_error>

#include "nfq/ruleset.hpp"
#include "nfq/ruleset_nftnl.hpp"

namespace vsd::nfq {

namespace {

using Socket = std::unique_ptr<mnl_socket, int (*)(mnl_socket*)>;

Socket open_socket() {
  mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!nl)
    throw std::system_error(errno, std::generic_category(),
                            "cannot open a netfilter netlink socket (run vsd as root)");
  Socket s(nl, mnl_socket_close);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    throw std::system_error(errno, std::generic_category(), "cannot bind the netfilter netlink socket");
  timeval tv{5, 0};
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

std::string str(const char* s) { return s ? s : ""; }

// What a batch message does, for error messages: "NEWSET nat_dests".
std::string describe(const nlmsghdr* nlh) {
  static const char* const names[NFT_MSG_MAX] = {
      "NEWTABLE", "GETTABLE", "DELTABLE", "NEWCHAIN", "GETCHAIN", "DELCHAIN", "NEWRULE", "GETRULE",
      "DELRULE", "NEWSET", "GETSET", "DELSET", "NEWSETELEM", "GETSETELEM", "DELSETELEM", "NEWGEN",
      "GETGEN", "TRACE", "NEWOBJ", "GETOBJ", "DELOBJ"};
  const int type = nlh->nlmsg_type & 0xff;
  std::string d = type < NFT_MSG_MAX && names[type] ? names[type] : "message " + std::to_string(type);
  std::string name;
  switch (type) {
    case NFT_MSG_NEWCHAIN:
    case NFT_MSG_DELCHAIN: {
      std::unique_ptr<nftnl_chain, void (*)(const nftnl_chain*)> c(nftnl_chain_alloc(), nftnl_chain_free);
      if (nftnl_chain_nlmsg_parse(nlh, c.get()) == 0) name = str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME));
      break;
    }
    case NFT_MSG_NEWRULE:
    case NFT_MSG_DELRULE: {
      std::unique_ptr<nftnl_rule, void (*)(const nftnl_rule*)> r(nftnl_rule_alloc(), nftnl_rule_free);
      if (nftnl_rule_nlmsg_parse(nlh, r.get()) == 0) name = "in " + str(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
      break;
    }
    case NFT_MSG_NEWSET:
    case NFT_MSG_DELSET: {
      std::unique_ptr<nftnl_set, void (*)(const nftnl_set*)> st(nftnl_set_alloc(), nftnl_set_free);
      if (nftnl_set_nlmsg_parse(nlh, st.get()) == 0) name = str(nftnl_set_get_str(st.get(), NFTNL_SET_NAME));
      break;
    }
    case NFT_MSG_NEWSETELEM:
    case NFT_MSG_DELSETELEM: {
      std::unique_ptr<nftnl_set, void (*)(const nftnl_set*)> st(nftnl_set_alloc(), nftnl_set_free);
      if (nftnl_set_elems_nlmsg_parse(nlh, st.get()) == 0) name = str(nftnl_set_get_str(st.get(), NFTNL_SET_NAME));
      break;
    }
    case NFT_MSG_NEWOBJ:
    case NFT_MSG_DELOBJ: {
      std::unique_ptr<nftnl_obj, void (*)(const nftnl_obj*)> o(nftnl_obj_alloc(), nftnl_obj_free);
      if (nftnl_obj_nlmsg_parse(nlh, o.get()) == 0) name = str(nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME));
      break;
    }
    default:
      break;
  }
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  d += nfg->nfgen_family == NFPROTO_IPV6 ? " ip6" : " ip";
  return name.empty() ? d : d + " " + name;
}

struct CommitResult {
  int error = 0;       // the first error's errno
  std::string where;   // the message it answered
};

// Sends a batch and reads one answer per message (all carry NLM_F_ACK).
CommitResult commit(const std::vector<std::uint8_t>& batch) {
  Socket nl = open_socket();
  const int fd = mnl_socket_get_fd(nl.get());
  // A big batch (many set elements) must fit the socket buffers: the
  // kernel reads it in one piece and queues one ack per message.
  int snd = static_cast<int>(batch.size()) + 4096;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  int rcv = 1 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  // Count the messages that expect an answer (all but BATCH_BEGIN/END).
  std::size_t expected = 0;
  for (std::size_t off = 0; off + sizeof(nlmsghdr) <= batch.size();) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.data() + off);
    if (nlh->nlmsg_flags & NLM_F_ACK) ++expected;
    off += NLMSG_ALIGN(nlh->nlmsg_len);
  }
  if (mnl_socket_sendto(nl.get(), batch.data(), batch.size()) < 0)
    throw std::system_error(errno, std::generic_category(), "cannot send the nftables batch");
  const std::uint32_t portid = mnl_socket_get_portid(nl.get());
  CommitResult result;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  while (expected > 0) {
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) {
      if (result.error) break;
      throw std::system_error(errno, std::generic_category(), "no answer from nftables");
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, len)) {
      if (nlh->nlmsg_pid == portid && nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (err->error != 0 && !result.error) {
          result.error = -err->error;
          // The answer carries the sequence number of the message it is about.
          for (std::size_t off = 0; off + sizeof(nlmsghdr) <= batch.size();) {
            const auto* m = reinterpret_cast<const nlmsghdr*>(batch.data() + off);
            if (m->nlmsg_seq == err->msg.nlmsg_seq) result.where = describe(m);
            off += NLMSG_ALIGN(m->nlmsg_len);
          }
        }
        if (expected > 0) --expected;
      }
      nlh = mnl_nlmsg_next(nlh, &len);
    }
  }
  return result;
}

std::uint32_t next_seq() {
  static std::uint32_t seq = static_cast<std::uint32_t>(time(nullptr));
  return seq += 1000;
}

// Sends one request (a dump or a get) and hands every answer to `each`.
// Returns 0 or the errno the kernel answered with.
int request(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& each) {
  Socket nl = open_socket();
  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0)
    throw std::system_error(errno, std::generic_category(), "cannot send an nftables request");
  const std::uint32_t portid = mnl_socket_get_portid(nl.get());
  std::vector<char> buf(32 * 1024);  // MNL_SOCKET_DUMP_SIZE in newer libmnl
  auto cb = [](const nlmsghdr* m, void* data) -> int {
    (*static_cast<const std::function<void(const nlmsghdr*)>*>(data))(m);
    return MNL_CB_OK;
  };
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) throw std::system_error(errno, std::generic_category(), "no answer from nftables");
    int ret = mnl_cb_run(buf.data(), static_cast<std::size_t>(n), nlh->nlmsg_seq, portid, cb,
                         const_cast<std::function<void(const nlmsghdr*)>*>(&each));
    if (ret == MNL_CB_STOP) return 0;
    if (ret < 0) return errno;
    if (!(nlh->nlmsg_flags & NLM_F_DUMP)) return 0;  // a get: one answer
  }
}

TableContents read_family(const std::string& table, std::uint16_t family) {
  TableContents c;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  {
    std::unique_ptr<nftnl_table, void (*)(const nftnl_table*)> t(nftnl_table_alloc(), nftnl_table_free);
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, next_seq());
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    int err = request(nlh, [&](const nlmsghdr* m) {
      if ((m->nlmsg_type & 0xff) == NFT_MSG_NEWTABLE) c.exists = true;
    });
    if (err == ENOENT || !c.exists) return c;
    if (err) throw std::system_error(err, std::generic_category(), "cannot read nft table '" + table + "'");
  }
  {
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_DUMP, next_seq());
    int err = request(nlh, [&](const nlmsghdr* m) {
      std::unique_ptr<nftnl_chain, void (*)(const nftnl_chain*)> ch(nftnl_chain_alloc(), nftnl_chain_free);
      if (nftnl_chain_nlmsg_parse(m, ch.get()) < 0) return;
      if (table == str(nftnl_chain_get_str(ch.get(), NFTNL_CHAIN_TABLE)))
        c.chains.push_back(str(nftnl_chain_get_str(ch.get(), NFTNL_CHAIN_NAME)));
    });
    if (err) throw std::system_error(err, std::generic_category(), "cannot list the chains of '" + table + "'");
  }
  {
    std::unique_ptr<nftnl_set, void (*)(const nftnl_set*)> s(nftnl_set_alloc(), nftnl_set_free);
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, family, NLM_F_DUMP, next_seq());
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    int err = request(nlh, [&](const nlmsghdr* m) {
      std::unique_ptr<nftnl_set, void (*)(const nftnl_set*)> set(nftnl_set_alloc(), nftnl_set_free);
      if (nftnl_set_nlmsg_parse(m, set.get()) < 0) return;
      if (table != str(nftnl_set_get_str(set.get(), NFTNL_SET_TABLE))) return;
      const std::uint32_t flags = nftnl_set_get_u32(set.get(), NFTNL_SET_FLAGS);
      if (flags & NFT_SET_ANONYMOUS) return;  // goes with its rule
      std::string name = str(nftnl_set_get_str(set.get(), NFTNL_SET_NAME));
      if (flags & NFT_SET_CONSTANT) c.constant_sets.push_back(name);
      c.sets.push_back(std::move(name));
    });
    if (err) throw std::system_error(err, std::generic_category(), "cannot list the sets of '" + table + "'");
  }
  {
    std::unique_ptr<nftnl_obj, void (*)(const nftnl_obj*)> o(nftnl_obj_alloc(), nftnl_obj_free);
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table.c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, family, NLM_F_DUMP, next_seq());
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    int err = request(nlh, [&](const nlmsghdr* m) {
      std::unique_ptr<nftnl_obj, void (*)(const nftnl_obj*)> obj(nftnl_obj_alloc(), nftnl_obj_free);
      if (nftnl_obj_nlmsg_parse(m, obj.get()) < 0) return;
      if (table != str(nftnl_obj_get_str(obj.get(), NFTNL_OBJ_TABLE))) return;
      const std::uint32_t type = nftnl_obj_get_u32(obj.get(), NFTNL_OBJ_TYPE);
      std::string name = str(nftnl_obj_get_str(obj.get(), NFTNL_OBJ_NAME));
      if (type == NFT_OBJECT_COUNTER) c.counters.push_back(std::move(name));
      else if (type == NFT_OBJECT_CT_TIMEOUT) c.ct_timeouts.push_back(std::move(name));
    });
    if (err) throw std::system_error(err, std::generic_category(), "cannot list the objects of '" + table + "'");
  }
  return c;
}

}  // namespace

QueueForm probe_queue_form() {
  const int native = commit(build_probe_batch(QueueForm::native, next_seq())).error;
  if (native == 0) return QueueForm::native;
  const int compat = commit(build_probe_batch(QueueForm::xt_compat, next_seq())).error;
  if (compat == 0) return QueueForm::xt_compat;
  throw std::system_error(compat, std::generic_category(),
                          std::string("the kernel accepts neither the nft queue expression (") +
                              std::strerror(native) +
                              ") nor the xt NFQUEUE target; load nft_queue or nft_compat + "
                              "xt_NFQUEUE (modprobe nft_queue)");
}

std::string probe_fast_path(Path path, QueueForm form) {
  const CommitResult r = commit(build_fast_path_probe_batch(path, form, next_seq()));
  if (!r.error) return {};
  return std::string(std::strerror(r.error)) + " at " + r.where;
}

InstalledTables read_installed(const std::string& table) {
  return {read_family(table, NFPROTO_IPV4), read_family(table, NFPROTO_IPV6)};
}

void install(const RulesetSpec& spec, QueueForm form) {
  const InstalledTables now = read_installed(spec.table);
  CommitResult r = commit(build_install_batch(spec, form, next_seq(), now));
  if (r.error && (now.ip.exists || now.ip6.exists)) {
    // The in-place update of an existing table was refused. Most likely
    // the table was left by an older vsd with another layout (EEXIST: a
    // set or chain of the same name with another type or priority):
    // replace it whole, once. This loses the flow maps and counters; a spec
    // the kernel refuses anyway is refused again, and nothing changes.
    const CommitResult update = r;
    r = commit(build_replace_batch(spec, form, next_seq()));
    if (r.error)
      throw std::system_error(r.error, std::generic_category(),
                              "nftables refused table '" + spec.table +
                                  "' (nothing was changed, the old table stays; in-place update: " +
                                  std::strerror(update.error) + " at " + update.where + "; full replace at " +
                                  r.where + ")");
    return;
  }
  if (r.error)
    throw std::system_error(r.error, std::generic_category(),
                            "nftables refused table '" + spec.table + "' at " + r.where +
                                " (nothing was changed; the old table, if any, stays)");
}

void remove(const std::string& table) {
  const int err = commit(build_delete_batch(table, next_seq())).error;
  if (err && err != ENOENT)
    throw std::system_error(err, std::generic_category(), "cannot delete nft table '" + table + "'");
}

}  // namespace vsd::nfq
