#include "appliance/vsadm/ipvsadm_names.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace vsd {
namespace {

class SystemResolver final : public NameResolver {
 public:
  std::optional<IpAddress> host_to_ipv4(const std::string& name) const override {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
    addrinfo* res = nullptr;
    if (getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
    std::optional<IpAddress> out;
    if (res->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(res->ai_addr);
      out = IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&sin->sin_addr));
    }
    freeaddrinfo(res);
    return out;
  }

  std::optional<std::uint16_t> service_to_port(const std::string& name,
                                               const std::string& proto) const override {
    if (proto != "tcp" && proto != "udp") return std::nullopt;
    servent entry{}, *found = nullptr;
    char buf[1024];
    if (getservbyname_r(name.c_str(), proto.c_str(), &entry, buf, sizeof buf, &found) != 0 || !found)
      return std::nullopt;
    return ntohs(static_cast<std::uint16_t>(found->s_port));
  }

  std::optional<std::string> address_to_host(const IpAddress& addr) const override {
    sockaddr_storage ss{};
    socklen_t len;
    if (addr.is_v4()) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      std::memcpy(&sin->sin_addr, addr.v4_bytes(), 4);
      len = sizeof(sockaddr_in);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      std::memcpy(&sin6->sin6_addr, addr.bytes.data(), 16);
      len = sizeof(sockaddr_in6);
    }
    char host[NI_MAXHOST];
    if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0,
                    NI_NAMEREQD) != 0)
      return std::nullopt;
    return std::string(host);
  }

  std::optional<std::string> port_to_service(std::uint16_t port,
                                             const std::string& proto) const override {
    if (proto != "tcp" && proto != "udp") return std::nullopt;
    servent entry{}, *found = nullptr;
    char buf[1024];
    if (getservbyport_r(htons(port), proto.c_str(), &entry, buf, sizeof buf, &found) != 0 || !found)
      return std::nullopt;
    return std::string(found->s_name);
  }
};

}  // namespace

const NameResolver& system_resolver() {
  static const SystemResolver resolver;
  return resolver;
}

std::optional<IpAddress> TableResolver::host_to_ipv4(const std::string& name) const {
  auto it = hosts.find(name);
  if (it == hosts.end() || !it->second.is_v4()) return std::nullopt;
  return it->second;
}

std::optional<std::uint16_t> TableResolver::service_to_port(const std::string& name,
                                                            const std::string& proto) const {
  auto it = services.find({name, proto});
  if (it == services.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> TableResolver::address_to_host(const IpAddress& addr) const {
  for (const auto& [name, a] : hosts)
    if (a == addr) return name;
  return std::nullopt;
}

std::optional<std::string> TableResolver::port_to_service(std::uint16_t port,
                                                          const std::string& proto) const {
  for (const auto& [key, p] : services)
    if (p == port && key.second == proto) return key.first;
  return std::nullopt;
}

std::optional<std::string> CachingResolver::address_to_host(const IpAddress& addr) const {
  if (auto it = hosts_.find(addr); it != hosts_.end()) return it->second;
  if (hosts_.size() >= limit_) hosts_.clear();
  return hosts_[addr] = names_.address_to_host(addr);
}

std::optional<std::string> CachingResolver::port_to_service(std::uint16_t port,
                                                            const std::string& proto) const {
  auto key = std::make_pair(port, proto);
  if (auto it = services_.find(key); it != services_.end()) return it->second;
  if (services_.size() >= limit_) services_.clear();
  return services_[key] = names_.port_to_service(port, proto);
}

std::string addrport_name(const IpAddress& addr, std::uint16_t port, const std::string& proto,
                          bool numeric, const NameResolver& names) {
  std::string host, service;
  if (!numeric) {
    if (auto h = names.address_to_host(addr)) host = *h;
    if (auto s = names.port_to_service(port, proto)) service = *s;
  }
  if (host.empty()) host = addr.to_string();
  if (service.empty()) service = std::to_string(port);
  std::string out = addr.is_v4() ? host + ":" + service : "[" + host + "]:" + service;
  if (out.size() > 59) out.resize(59);
  return out;
}

}  // namespace vsd
