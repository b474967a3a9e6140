// The few DNS messages a dns check needs (RFC 1035): a query with one
// question and recursion desired, and the parts of a reply it judges (id,
// QR, RCODE, the answer records of the queried type as text). Pure and
// bounds-checked: a reply is untrusted input.
//
// Why not c-ares or ldns (both packaged in Debian): c-ares is a resolver
// with its own sockets and server list, where the check needs one query to
// one given real server on the monitor's own Asio socket (only its
// deprecated ares_mkquery / ares_parse_*_reply helpers would be used, one
// parser per record type); ldns is a whole DNS toolkit (DNSSEC, zones) for
// two functions. This is ~200 lines with its tests, and no new runtime
// dependency for the appliance.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appliance/health/check_config.hpp"

namespace vsd::health {

// nullopt when `name` is no valid DNS name (labels 1-63 bytes, 255 in all).
std::optional<std::string> dns_query(std::uint16_t id, std::string_view name, DnsType type);

struct DnsReply {
  std::uint16_t id = 0;
  bool response = false;  // QR
  int rcode = 0;
  // The answer records of the queried type: A/AAAA as addresses,
  // NS/CNAME/PTR as names (lower case, no final dot), MX as "PREF NAME",
  // TXT as its strings joined, SOA as "MNAME RNAME SERIAL".
  std::vector<std::string> answers;
};

// nullopt with `why` set when the message is cut or malformed.
std::optional<DnsReply> parse_dns_reply(std::string_view message, DnsType type, std::string* why = nullptr);

// Whether `expected` names one of the answers: addresses by value, names
// without regard to case or a final dot; an MX's or SOA's name alone also
// matches.
bool dns_answer_matches(const std::vector<std::string>& answers, std::string_view expected, DnsType type);

const char* rcode_name(int rcode);  // "NOERROR", "SERVFAIL", "NXDOMAIN", ...

}  // namespace vsd::health
