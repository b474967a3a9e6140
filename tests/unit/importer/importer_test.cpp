// The importers' rules one at a time: keepalived's syntax, its timing
// turned into explicit vsd check keys, groups, ipvsadm's defaults, and the
// command's exit codes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "appliance/importer/importer.hpp"
#include "appliance/importer/keepalived_syntax.hpp"

namespace vsd::importer {
namespace {

namespace fs = std::filesystem;

ImportResult keepalived(const std::string& text) { return import_keepalived_text(text, "k.conf"); }

const RealServerConfig& only_real(const ImportResult& r) {
  EXPECT_TRUE(r.ok()) << format_messages(r);
  EXPECT_EQ(r.config->services.size(), 1u);
  EXPECT_EQ(r.config->services[0].reals.size(), 1u);
  return r.config->services[0].reals[0];
}

bool mentions(const std::vector<Message>& ms, const std::string& what, int line = -1) {
  for (const auto& m : ms)
    if (m.text.find(what) != std::string::npos && (line < 0 || m.line == line)) return true;
  return false;
}

TEST(KeepalivedSyntax, BlocksCommentsQuotesAndContinuations) {
  auto s = keepalived::read_text(
      "a 1 2 # comment\n"
      "b \"x y\" ! other\n"
      "c { d 'e # f' }\n"
      "g\n"
      "{\n"
      "  h \\\n"
      "    i\n"
      "}\n"
      "j \"q\\x41\\n\" k\\#l\n",
      "t.conf");
  ASSERT_TRUE(s.errors.empty());
  ASSERT_EQ(s.top.size(), 5u);
  EXPECT_EQ(s.top[0].keyword, "a");
  EXPECT_EQ(s.top[0].args, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(s.top[1].args, (std::vector<std::string>{"x y"}));
  ASSERT_TRUE(s.top[2].block);
  ASSERT_EQ(s.top[2].children.size(), 1u);
  EXPECT_EQ(s.top[2].children[0].args, (std::vector<std::string>{"e # f"}));
  ASSERT_TRUE(s.top[3].block);  // '{' on the next line
  ASSERT_EQ(s.top[3].children.size(), 1u);
  EXPECT_EQ(s.top[3].children[0].args, (std::vector<std::string>{"i"}));
  EXPECT_EQ(s.top[3].children[0].line, 6);
  // j is on line 9
  auto j = keepalived::read_text("j \"q\\x41\\n\" k\\#l\n", "t.conf");
  ASSERT_EQ(j.top.size(), 1u);
  EXPECT_EQ(j.top[0].args, (std::vector<std::string>{"qA\n", "k#l"}));
}

TEST(KeepalivedSyntax, UnbalancedBracesAreErrorsWithTheirPlace) {
  auto s = keepalived::read_text("virtual_server 192.0.2.1 80 {\n  real_server 10.0.0.1 80 {\n}\n", "t.conf");
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].to_string(), "t.conf:1: block 'virtual_server' is not closed: '}' missing");
  auto extra = keepalived::read_text("a\n}\n", "t.conf");
  ASSERT_EQ(extra.errors.size(), 1u);
  EXPECT_EQ(extra.errors[0].line, 2);
  auto r = keepalived("virtual_server 192.0.2.1 80 {\n");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.toml.empty());
}

TEST(KeepalivedSyntax, IncludeGlobsAreRelativeToTheIncludingFile) {
  const fs::path dir = fs::temp_directory_path() / ("vsd_import_" + std::to_string(::getpid()));
  fs::create_directories(dir / "conf.d" / "sub");
  std::ofstream(dir / "main.conf") << "include conf.d/*.conf\n";
  std::ofstream(dir / "conf.d" / "b.conf") << "include sub/x.conf\nb_keyword\n";
  std::ofstream(dir / "conf.d" / "a.conf") << "a_keyword\n";
  std::ofstream(dir / "conf.d" / "sub" / "x.conf") << "\n\nx_keyword\n";
  auto s = keepalived::read_file((dir / "main.conf").string());
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.top.size(), 3u);
  EXPECT_EQ(s.top[0].keyword, "a_keyword");  // glob matches in sorted order
  EXPECT_EQ(s.top[1].keyword, "x_keyword");
  EXPECT_EQ(s.top[1].file, (dir / "conf.d" / "sub/x.conf").string());
  EXPECT_EQ(s.top[1].line, 3);
  EXPECT_EQ(s.top[2].keyword, "b_keyword");
  EXPECT_EQ(s.files.size(), 4u);
  // A file that includes itself is read once.
  std::ofstream(dir / "loop.conf") << "include loop.conf\n";
  auto loop = keepalived::read_file((dir / "loop.conf").string());
  EXPECT_EQ(loop.errors.size(), 1u);
  fs::remove_all(dir);
}

TEST(KeepalivedSyntax, UnreadableFileIsAnError) {
  auto r = import_keepalived_file("/nonexistent/keepalived.conf");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].to_string().find("/nonexistent/keepalived.conf: cannot read"), std::string::npos);
}

// keepalived: check every delay_loop (60 s), down after 1 + retry failures
// (retry 1: TCP, HTTP, UDP, PING; 0: MISC), up after one success, connect
// timeout 5 s, random start within delay_loop. All written explicitly.
TEST(KeepalivedImport, DefaultTimingIsKeepalivedsAndExplicit) {
  auto r = keepalived(
      "virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 10.0.0.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n");
  const auto& c = *only_real(r).check;
  EXPECT_EQ(c.type, health::CheckType::tcp);
  EXPECT_EQ(c.interval_ms, 60000u);
  EXPECT_EQ(c.timeout_ms, 5000u);
  EXPECT_EQ(c.rise, 1u);
  EXPECT_EQ(c.fall, 1u);
  EXPECT_EQ(c.retry, 1u);  // keepalived's retry and delay_before_retry, as vsd's own keys
  EXPECT_EQ(c.retry_delay_ms, 1000u);
  EXPECT_EQ(c.warmup_ms, 60000u);
  EXPECT_FALSE(c.alpha);
  EXPECT_EQ(c.on_failure, health::OnFailure::remove);
  ASSERT_NE(r.toml.find("[service.check]\ntype = \"tcp\"\n"), std::string::npos) << r.toml;
  const auto section = r.toml.substr(r.toml.find("[service.check]"));
  for (const char* key : {"interval = 60\n", "timeout = 5\n", "rise = 1\n", "fall = 1\n", "retry = 1\n", "delay_before_retry = 1\n", "warmup = 60\n",
                          "alpha = false\n", "on_failure = \"remove\"\n"})
    EXPECT_NE(section.find(key), std::string::npos) << key;
  EXPECT_TRUE(r.refusals.empty()) << format_messages(r);
}

TEST(KeepalivedImport, TimingInheritsCheckerOverRealOverVirtual) {
  auto r = keepalived(
      "virtual_server 192.0.2.1 80 {\n protocol TCP\n delay_loop 10\n retry 4\n connect_timeout 7\n"
      " inhibit_on_failure\n"
      " real_server 10.0.0.1 80 {\n  delay_loop 2.5\n  alpha\n"
      "  MISC_CHECK {\n   misc_path /bin/true\n   warmup 1\n  }\n }\n}\n");
  const auto& c = *only_real(r).check;
  EXPECT_EQ(c.interval_ms, 2500u);  // the real server's
  EXPECT_EQ(c.fall, 1u);
  EXPECT_EQ(c.retry, 4u);           // the virtual server's retry 4, over MISC's default 0
  EXPECT_EQ(c.timeout_ms, 10000u);  // MISC: the virtual server's delay_loop, not connect_timeout
  EXPECT_EQ(c.warmup_ms, 1000u);
  EXPECT_TRUE(c.alpha);
  EXPECT_EQ(c.on_failure, health::OnFailure::quiesce);
  EXPECT_EQ(c.command, "/bin/true");
}

TEST(KeepalivedImport, MiscRetryDefaultIsZero) {
  auto r = keepalived(
      "virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 10.0.0.1 80 {\n"
      "  MISC_CHECK {\n   misc_path /bin/true\n   misc_timeout 3\n  }\n }\n}\n");
  const auto& c = *only_real(r).check;
  EXPECT_EQ(c.fall, 1u);
  EXPECT_EQ(c.retry, 0u);
  EXPECT_EQ(c.timeout_ms, 3000u);
}

TEST(KeepalivedImport, NoProtocolIsUdpAsKeepalived) {
  auto r = keepalived("virtual_server 192.0.2.1 53 {\n real_server 10.0.0.1 53 {\n }\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->services[0].protocol, Protocol::udp);
  EXPECT_TRUE(mentions(r.notes, "keepalived then uses UDP", 1));
}

TEST(KeepalivedImport, GroupBecomesOneServicePerEntry) {
  auto r = keepalived(
      "virtual_server_group g {\n 192.0.2.1-3 80\n fwmark 5\n}\n"
      "virtual_server group g {\n protocol TCP\n lb_algo rr\n real_server 10.0.0.1 {\n }\n}\n");
  ASSERT_TRUE(r.ok()) << format_messages(r);
  ASSERT_EQ(r.config->services.size(), 4u);
  EXPECT_EQ(service_label(r.config->services[0]), "TCP 192.0.2.1:80");
  EXPECT_EQ(service_label(r.config->services[2]), "TCP 192.0.2.3:80");
  EXPECT_EQ(service_label(r.config->services[3]), "FWM 5");
  for (const auto& s : r.config->services) {
    EXPECT_EQ(s.scheduler, "rr");
    ASSERT_EQ(s.reals.size(), 1u);
  }
}

TEST(KeepalivedImport, RefusalsNameTheFileLineAndKeyword) {
  auto r = keepalived("virtual_server 192.0.2.1 80 {\n protocol TCP\n omega\n real_server 10.0.0.1 80 {\n }\n}\n");
  ASSERT_EQ(r.refusals.size(), 1u);
  EXPECT_EQ(r.refusals[0].to_string().rfind("k.conf:3: keyword 'omega' has no vsd equivalent: ", 0), 0u)
      << r.refusals[0].to_string();
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.toml.find("#   k.conf:3: keyword 'omega'"), std::string::npos);
}

TEST(KeepalivedImport, VrrpAndGlobalDefsAreOneNoteEach) {
  auto r = keepalived(
      "global_defs {\n router_id x\n}\nvrrp_instance VI_1 {\n state MASTER\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.refusals.empty());
  ASSERT_EQ(r.notes.size(), 3u);  // global_defs, vrrp_instance, nothing to import
  EXPECT_TRUE(mentions(r.notes, "VRRP stays keepalived's job", 4));
  EXPECT_TRUE(mentions(r.notes, "global_defs skipped", 1));
}

TEST(KeepalivedImport, DrRealServerPortMovesToItsCheck) {
  auto r = keepalived(
      "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_kind DR\n"
      " real_server 192.0.2.11 8080 {\n  TCP_CHECK {\n  }\n }\n}\n");
  const auto& real = only_real(r);
  EXPECT_EQ(real.address.port, 0);
  EXPECT_EQ(real.forward, ForwardMethod::dr);
  EXPECT_EQ(real.check->connect_to.port, 8080);
}

TEST(IpvsadmImport, DefaultsAreIpvsadms) {
  auto r = import_ipvsadm_text("-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 192.0.2.11\n-A -t 192.0.2.2:0 -p\n",
                               "rules");
  ASSERT_TRUE(r.ok()) << format_messages(r);
  ASSERT_EQ(r.config->services.size(), 2u);
  const auto& s = r.config->services[0];
  EXPECT_EQ(s.scheduler, "wlc");
  ASSERT_EQ(s.reals.size(), 1u);
  EXPECT_EQ(s.reals[0].forward, ForwardMethod::dr);  // -g is ipvsadm's default
  EXPECT_EQ(s.reals[0].weight, 1u);
  EXPECT_EQ(r.config->services[1].persistent, 360u);
  EXPECT_TRUE(r.refusals.empty());
}

TEST(IpvsadmImport, RefusedLinesSayWhereAndWhy) {
  auto r = import_ipvsadm_text("-A -t 192.0.2.1:80 -s rr\n-A -t 192.0.2.2:80 -s rr --pe sip\n", "rules");
  ASSERT_EQ(r.refusals.size(), 1u);
  EXPECT_EQ(r.refusals[0].file, "rules");
  EXPECT_EQ(r.refusals[0].line, 2);
  EXPECT_NE(r.refusals[0].text.find("--pe sip has no vsd equivalent"), std::string::npos);
}

// The command: TOML on stdout only when nothing was refused or --lenient.
int run(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr) {
  std::vector<char*> argv;
  args.insert(args.begin(), {"vsd", "import"});
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int rc = import_main(static_cast<int>(argv.size()), argv.data());
  const std::string o = testing::internal::GetCapturedStdout(), e = testing::internal::GetCapturedStderr();
  if (out) *out = o;
  if (err) *err = e;
  return rc;
}

TEST(ImportCommand, ExitCodes) {
  const fs::path dir = fs::temp_directory_path() / ("vsd_import_cmd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string clean = (dir / "clean.conf").string(), refused = (dir / "refused.conf").string();
  std::ofstream(clean) << "virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 10.0.0.1 80 {\n }\n}\n";
  std::ofstream(refused) << "virtual_server 192.0.2.1 80 {\n protocol TCP\n omega\n real_server 10.0.0.1 80 {\n }\n}\n";
  std::string out, err;
  EXPECT_EQ(run({"keepalived", clean}, &out, &err), 0);
  EXPECT_NE(out.find("address = \"192.0.2.1:80\""), std::string::npos);
  EXPECT_EQ(err, "");
  EXPECT_EQ(run({"keepalived", refused}, &out, &err), 2);
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find(refused + ":3: keyword 'omega' has no vsd equivalent"), std::string::npos);
  EXPECT_EQ(run({"keepalived", refused, "--lenient"}, &out, &err), 0);
  EXPECT_NE(out.find("address = \"192.0.2.1:80\""), std::string::npos);
  EXPECT_NE(err.find("omega"), std::string::npos);
  EXPECT_EQ(run({"keepalived", (dir / "missing.conf").string()}, &out, &err), 2);
  EXPECT_EQ(run({"keepalived", (dir / "missing.conf").string(), "--lenient"}), 2);
  EXPECT_EQ(run({"keepalived"}), 2);
  EXPECT_EQ(run({"nginx", clean}), 2);
  EXPECT_EQ(run({}), 2);
  EXPECT_EQ(run({"--help"}, &out), 0);
  EXPECT_NE(out.find("usage: vsd import keepalived FILE"), std::string::npos);

  const std::string rules = (dir / "rules").string();
  std::ofstream(rules) << "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 1\n";
  EXPECT_EQ(run({"ipvsadm", rules}, &out, &err), 0);
  EXPECT_NE(out.find("forward = \"nat\""), std::string::npos);
  EXPECT_EQ(run({"ipvsadm", (dir / "nope").string()}), 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vsd::importer
