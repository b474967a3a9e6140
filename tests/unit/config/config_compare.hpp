// Two configurations compared field by field, leaving out where they were
// read from (a written file has its own positions): every section, every
// service key with its [service.check] table, every real server key with its
// effective check.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "appliance/config/config.hpp"

namespace vsd {

inline void expect_same_check_table(const health::CheckOverrides& a, const health::CheckOverrides& b,
                                    const std::string& what) {
  EXPECT_EQ(a.type, b.type) << what;
  EXPECT_EQ(a.interval_ms, b.interval_ms) << what;
  EXPECT_EQ(a.timeout_ms, b.timeout_ms) << what;
  EXPECT_EQ(a.rise, b.rise) << what;
  EXPECT_EQ(a.fall, b.fall) << what;
  EXPECT_EQ(a.warmup_ms, b.warmup_ms) << what;
  EXPECT_EQ(a.slow_start_ms, b.slow_start_ms) << what;
  EXPECT_EQ(a.connect_to, b.connect_to) << what;
  EXPECT_EQ(a.path, b.path) << what;
  EXPECT_EQ(a.payload, b.payload) << what;
  EXPECT_EQ(a.expect, b.expect) << what;
  EXPECT_EQ(a.command, b.command) << what;
  EXPECT_EQ(a.notify, b.notify) << what;
  EXPECT_EQ(a.status, b.status) << what;
  EXPECT_EQ(a.digest, b.digest) << what;
  EXPECT_EQ(a.alpha, b.alpha) << what;
  EXPECT_EQ(a.on_failure, b.on_failure) << what;
  // A key added to the table and forgotten above still shows here.
  EXPECT_EQ(health::write_check_keys(a), health::write_check_keys(b)) << what;
}

inline void expect_same(const Config& a, const Config& b) {
  EXPECT_EQ(a.director.queue, b.director.queue);
  EXPECT_EQ(a.director.queues, b.director.queues);
  EXPECT_EQ(a.director.fail_open, b.director.fail_open);
  EXPECT_EQ(a.director.max_connections, b.director.max_connections);
  EXPECT_EQ(a.director.expire_nodest_conn, b.director.expire_nodest_conn);
  EXPECT_EQ(a.director.expire_quiescent_template, b.director.expire_quiescent_template);
  EXPECT_EQ(a.director.fast_path, b.director.fast_path);
  EXPECT_EQ(a.director.mark_mask, b.director.mark_mask);
  EXPECT_EQ(a.director.drop_entry, b.director.drop_entry);
  EXPECT_EQ(a.director.drop_packet, b.director.drop_packet);
  EXPECT_EQ(a.director.secure_tcp, b.director.secure_tcp);
  EXPECT_EQ(a.director.am_droprate, b.director.am_droprate);
  EXPECT_EQ(a.director.pressure_threshold, b.director.pressure_threshold);
  EXPECT_EQ(a.timeouts.tcp, b.timeouts.tcp);
  EXPECT_EQ(a.timeouts.tcpfin, b.timeouts.tcpfin);
  EXPECT_EQ(a.timeouts.udp, b.timeouts.udp);
  EXPECT_EQ(a.control.socket, b.control.socket);
  EXPECT_EQ(a.metrics.listen, b.metrics.listen);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.arp.garp_repeat, b.arp.garp_repeat);
  EXPECT_EQ(a.arp.garp_interval_ms, b.arp.garp_interval_ms);
  EXPECT_EQ(a.arp.hiding, b.arp.hiding);
  ASSERT_EQ(a.services.size(), b.services.size());
  for (std::size_t i = 0; i < a.services.size(); ++i) {
    const auto &s = a.services[i], &t = b.services[i];
    const std::string svc = "service " + std::to_string(i);
    EXPECT_EQ(s.address, t.address) << svc;
    EXPECT_EQ(s.fwmark, t.fwmark) << svc;
    EXPECT_EQ(s.members, t.members) << svc;
    EXPECT_EQ(s.protocol, t.protocol) << svc;
    EXPECT_EQ(s.scheduler, t.scheduler) << svc;
    EXPECT_EQ(s.scheduler_flags, t.scheduler_flags) << svc;
    EXPECT_EQ(s.persistent, t.persistent) << svc;
    EXPECT_EQ(s.persistence_netmask, t.persistence_netmask) << svc;
    EXPECT_EQ(s.ops, t.ops) << svc;
    EXPECT_EQ(s.sorry_server, t.sorry_server) << svc;
    EXPECT_EQ(s.quorum, t.quorum) << svc;
    EXPECT_EQ(s.hysteresis, t.hysteresis) << svc;
    EXPECT_EQ(s.quorum_up, t.quorum_up) << svc;
    EXPECT_EQ(s.quorum_down, t.quorum_down) << svc;
    EXPECT_EQ(s.tunnel_source, t.tunnel_source) << svc;
    EXPECT_EQ(s.table_share, t.table_share) << svc;
    EXPECT_EQ(s.synproxy, t.synproxy) << svc;
    EXPECT_EQ(s.synproxy_mss, t.synproxy_mss) << svc;
    EXPECT_EQ(s.synproxy_wscale, t.synproxy_wscale) << svc;
    ASSERT_EQ(s.check_defaults.has_value(), t.check_defaults.has_value()) << svc;
    if (s.check_defaults) expect_same_check_table(*s.check_defaults, *t.check_defaults, svc + " [service.check]");
    ASSERT_EQ(s.reals.size(), t.reals.size()) << svc;
    for (std::size_t j = 0; j < s.reals.size(); ++j) {
      const std::string real = svc + " real " + std::to_string(j);
      EXPECT_EQ(s.reals[j].address, t.reals[j].address) << real;
      EXPECT_EQ(s.reals[j].weight, t.reals[j].weight) << real;
      EXPECT_EQ(s.reals[j].forward, t.reals[j].forward) << real;
      EXPECT_EQ(s.reals[j].upper_threshold, t.reals[j].upper_threshold) << real;
      EXPECT_EQ(s.reals[j].lower_threshold, t.reals[j].lower_threshold) << real;
      EXPECT_EQ(s.reals[j].check, t.reals[j].check) << real;
    }
  }
}

}  // namespace vsd
