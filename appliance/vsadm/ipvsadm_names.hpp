// Host and port names for vsadm, the way ipvsadm uses them: on input
// (`-t www.example.com:https`) and, without -n, on output. Behind an
// interface so unit tests do not depend on /etc/services or on DNS.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "net/ip_address.hpp"

namespace vsd {

class NameResolver {
 public:
  virtual ~NameResolver() = default;
  // ipvsadm resolves host names to IPv4 only (gethostbyname); IPv6 services
  // must be given as literals.
  virtual std::optional<IpAddress> host_to_ipv4(const std::string& name) const = 0;
  // proto: "tcp" or "udp"; anything else finds nothing.
  virtual std::optional<std::uint16_t> service_to_port(const std::string& name,
                                                       const std::string& proto) const = 0;
  virtual std::optional<std::string> address_to_host(const IpAddress& addr) const = 0;
  virtual std::optional<std::string> port_to_service(std::uint16_t port,
                                                     const std::string& proto) const = 0;
};

// getaddrinfo / getservbyname / getnameinfo / getservbyport.
const NameResolver& system_resolver();

// Answers from its tables only, both ways (reverse lookups take the first
// name in table order): deterministic names for tests.
class TableResolver final : public NameResolver {
 public:
  std::map<std::string, IpAddress> hosts;  // name -> address
  std::map<std::pair<std::string, std::string>, std::uint16_t> services;  // (name, proto) -> port

  std::optional<IpAddress> host_to_ipv4(const std::string& name) const override;
  std::optional<std::uint16_t> service_to_port(const std::string& name,
                                               const std::string& proto) const override;
  std::optional<std::string> address_to_host(const IpAddress& addr) const override;
  std::optional<std::string> port_to_service(std::uint16_t port,
                                             const std::string& proto) const override;
};

// Another resolver's reverse answers (address -> host, port -> service),
// remembered: a connection listing names the same VIPs, real servers and
// clients again and again, and ipvsadm asks DNS every time. At most
// `limit` of each are kept (then it starts again). Forward lookups pass.
class CachingResolver final : public NameResolver {
 public:
  explicit CachingResolver(const NameResolver& names, std::size_t limit = 65536)
      : names_(names), limit_(limit) {}
  std::optional<IpAddress> host_to_ipv4(const std::string& name) const override {
    return names_.host_to_ipv4(name);
  }
  std::optional<std::uint16_t> service_to_port(const std::string& name,
                                               const std::string& proto) const override {
    return names_.service_to_port(name, proto);
  }
  std::optional<std::string> address_to_host(const IpAddress& addr) const override;
  std::optional<std::string> port_to_service(std::uint16_t port, const std::string& proto) const override;

 private:
  const NameResolver& names_;
  std::size_t limit_;
  mutable std::map<IpAddress, std::optional<std::string>> hosts_;
  mutable std::map<std::pair<std::uint16_t, std::string>, std::optional<std::string>> services_;
};

// ipvsadm's addrport_to_anyname: "192.0.2.10:80" / "[2001:db8::10]:80" when
// numeric, else "host:service" with each part falling back to the number;
// IPv6 keeps its brackets even around a name. proto is "tcp"/"udp" (other
// values get no service names). Capped at 59 characters like ipvsadm's buffer.
std::string addrport_name(const IpAddress& addr, std::uint16_t port, const std::string& proto,
                          bool numeric, const NameResolver& names);

}  // namespace vsd
