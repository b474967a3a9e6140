#include "appliance/health/http_response.hpp"

#include <gtest/gtest.h>

#include <string>

#include "appliance/health/digest.hpp"
#include "appliance/health/http_match.hpp"

namespace vsd::health {
namespace {

constexpr const char* md5_hello = "5d41402abc4b2a76b9719d911017c592";
constexpr const char* sha256_hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

// Feeds a response in pieces of `step` bytes, collecting the body.
struct Parsed {
  HttpResponseParser parser;
  std::string body;
  Parsed() : parser([this](std::string_view b) { body += b; }) {}
  Parsed(const Parsed&) = delete;
};

void feed(Parsed& p, std::string_view text, std::size_t step) {
  for (std::size_t i = 0; i < text.size(); i += step) p.parser.feed(text.substr(i, step));
}

TEST(HttpResponse, StatusLineAndHeaders) {
  Parsed p;
  feed(p, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nX-Thing:  a b \r\n", 1000);
  EXPECT_FALSE(p.parser.headers_complete());
  p.parser.feed("Content-Length: 4\r\n\r\nbusy");
  EXPECT_TRUE(p.parser.headers_complete());
  EXPECT_TRUE(p.parser.complete());
  EXPECT_EQ(p.parser.status(), 503);
  EXPECT_EQ(p.parser.reason_phrase(), "Service Unavailable");
  EXPECT_EQ(p.parser.header("content-type"), "text/plain");
  EXPECT_EQ(p.parser.header("X-THING"), "a b");
  EXPECT_EQ(p.parser.header("missing"), std::nullopt);
  EXPECT_EQ(p.body, "busy");
}

TEST(HttpResponse, ContentLengthBodyInAnySplit) {
  const std::string r = "HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
  for (std::size_t step = 1; step <= r.size(); ++step) {
    Parsed p;
    feed(p, r, step);
    EXPECT_TRUE(p.parser.complete()) << step;
    EXPECT_EQ(p.body, "hello world") << step;
  }
}

TEST(HttpResponse, ChunkedBodyInAnySplit) {
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
  for (std::size_t step = 1; step <= r.size(); ++step) {
    Parsed p;
    feed(p, r, step);
    EXPECT_TRUE(p.parser.complete()) << step;
    EXPECT_TRUE(p.parser.chunked());
    EXPECT_EQ(p.body, "hello 0123456789") << step;
  }
}

TEST(HttpResponse, BodyUntilClose) {
  Parsed p;
  p.parser.feed("HTTP/1.0 200 OK\nServer: old\n\nsome ");  // bare LF line ends are tolerated
  p.parser.feed("body");
  EXPECT_TRUE(p.parser.headers_complete());
  EXPECT_FALSE(p.parser.complete());
  p.parser.end_of_stream();
  EXPECT_TRUE(p.parser.complete());
  EXPECT_EQ(p.body, "some body");
}

TEST(HttpResponse, InterimResponsesAreSkipped) {
  Parsed p;
  p.parser.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nServer: x\r\n\r\n");
  EXPECT_TRUE(p.parser.complete());
  EXPECT_EQ(p.parser.status(), 204);
  EXPECT_EQ(p.parser.header("Server"), "x");
}

TEST(HttpResponse, Malformed) {
  auto error = [](std::string text) {
    Parsed p;
    p.parser.feed(text);
    p.parser.end_of_stream();
    EXPECT_TRUE(p.parser.failed()) << text;
    return p.parser.error();
  };
  EXPECT_EQ(error("SSH-2.0-OpenSSH_9.2\r\n"), "not an HTTP response: \"SSH-2.0-OpenSSH_9.2\"");
  EXPECT_EQ(error("HTTP/1.1 2000 OK\r\n"), "bad status line \"HTTP/1.1 2000 OK\"");
  EXPECT_EQ(error("HTTP/1.1 OK\r\n"), "bad status line \"HTTP/1.1 OK\"");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), "bad header line \"no colon\"");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"), "bad Content-Length \"1x\"");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            "bad Content-Length \"2\"");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), "bad chunk size \"zz\"");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n"),
            "chunk data longer than its size");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            "connection closed after 3 of 10 body bytes");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
            "connection closed inside the chunked body");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nServer"), "connection closed before the end of the response headers");
  EXPECT_EQ(error(""), "connection closed before the end of the response headers");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a')), "response line or headers too long");
}

TEST(Digest, ParseAndHash) {
  auto md5 = Digest::parse("5D41402ABC4B2A76B9719D911017C592");
  ASSERT_TRUE(md5);
  EXPECT_EQ(md5->algorithm, Digest::Algorithm::md5);
  EXPECT_EQ(md5->hex, md5_hello);
  auto sha = Digest::parse(sha256_hello);
  ASSERT_TRUE(sha);
  EXPECT_EQ(sha->algorithm, Digest::Algorithm::sha256);
  std::string why;
  EXPECT_FALSE(Digest::parse("abc", &why));
  EXPECT_NE(why.find("32 hex digits"), std::string::npos);
  EXPECT_FALSE(Digest::parse(std::string(31, 'a') + "g", &why));
  EXPECT_EQ(why, "a digest is hex digits only, found 'g'");
  EXPECT_EQ(hex_digest(Digest::Algorithm::md5, "hello"), md5_hello);
  EXPECT_EQ(hex_digest(Digest::Algorithm::sha256, "hello"), sha256_hello);
  Hasher h(Digest::Algorithm::md5);  // streamed
  h.update("he");
  h.update("llo");
  EXPECT_EQ(h.final_hex(), md5_hello);
}

ProbeResult judge(HttpExpect expect, const std::string& response, std::size_t step = 7) {
  HttpResponseCheck check(std::move(expect));
  for (std::size_t i = 0; i < response.size(); i += step)
    if (auto v = check.feed(std::string_view(response).substr(i, step))) return *v;
  return check.end_of_stream();
}

TEST(HttpMatch, StatusCodes) {
  EXPECT_TRUE(status_accepted({}, 200));
  EXPECT_TRUE(status_accepted({}, 299));
  EXPECT_FALSE(status_accepted({}, 301));
  EXPECT_TRUE(status_accepted({200, 301}, 301));
  EXPECT_FALSE(status_accepted({200, 301}, 204));
  EXPECT_EQ(describe_accepted({}), "2xx");
  EXPECT_EQ(describe_accepted({200, 204}), "200, 204");

  auto r = judge({}, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.reason, "HTTP status 200");
  r = judge({}, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "HTTP status 500 (expected 2xx)");
  r = judge({{301, 302}, {}}, "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(r.reason, "HTTP status 200 (expected 301, 302)");
  EXPECT_TRUE(judge({{301, 302}, {}}, "HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n").ok);
}

TEST(HttpMatch, VerdictWithoutDigestNeedsOnlyTheHeaders) {
  HttpResponseCheck check({});
  EXPECT_FALSE(check.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n"));
  auto v = check.feed("\r\n");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok);
}

TEST(HttpMatch, BodyDigestPlainAndChunked) {
  HttpExpect md5{{}, Digest::parse(md5_hello)};
  HttpExpect sha{{200}, Digest::parse(sha256_hello)};
  const std::string plain = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n";
  const std::string until_close = "HTTP/1.0 200 OK\r\n\r\nhello";
  for (const auto* response : {&plain, &chunked, &until_close}) {
    for (std::size_t step : {1, 3, 1000}) {
      auto r = judge(md5, *response, step);
      EXPECT_TRUE(r.ok) << r.reason;
      EXPECT_EQ(r.reason, "HTTP status 200, body md5 matches");
      EXPECT_TRUE(judge(sha, *response, step).ok);
    }
  }
  auto r = judge(md5, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHELLO");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "HTTP status 200 but body md5 is " + hex_digest(Digest::Algorithm::md5, "HELLO") +
                          ", expected " + md5_hello);
  // The status is judged first, the digest only for an accepted status.
  EXPECT_EQ(judge(md5, "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nhello").reason,
            "HTTP status 404 (expected 2xx)");
  // A truncated body is no match.
  r = judge(md5, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "bad HTTP response: connection closed after 5 of 6 body bytes");
}

TEST(HttpMatch, GarbageAndSilence) {
  EXPECT_EQ(judge({}, "garbage\r\n").reason, "bad HTTP response: not an HTTP response: \"garbage\"");
  EXPECT_EQ(judge({}, "").reason, "bad HTTP response: connection closed before the end of the response headers");
}

TEST(HttpMatch, Request) {
  EXPECT_EQ(http_request("/healthz?x=1", "203.0.113.11:8000").substr(0, 54),
            "GET /healthz?x=1 HTTP/1.1\r\nHost: 203.0.113.11:8000\r\nUs");
  EXPECT_NE(http_request("/", "h").find("\r\nConnection: close\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace vsd::health
