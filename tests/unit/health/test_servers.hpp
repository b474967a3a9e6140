// Small Asio servers on 127.0.0.1 for the probe tests, run by the test's own
// io_context: an HTTP(S) server answering with a settable response, and a
// UDP echo.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "appliance/asio.hpp"
#include "net/ip_address.hpp"

namespace vsd::health::testing {

inline Endpoint loopback(std::uint16_t port) { return *Endpoint::parse("127.0.0.1:" + std::to_string(port)); }

// Answers every request (after its blank line) with `response`, then closes.
class HttpServer {
 public:
  using tcp = boost::asio::ip::tcp;

  explicit HttpServer(boost::asio::io_context& io, boost::asio::ssl::context* tls = nullptr)
      : io_(io), tls_(tls), acceptor_(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  // A name-based server: the response for a Host header (else `response`).
  std::map<std::string, std::string> by_host;
  // By path (checked after by_host).
  std::map<std::string, std::string> by_path;
  int requests = 0;
  std::string last_request;
  std::vector<std::string> hosts, paths;

 private:
  struct Connection {
    Connection(boost::asio::io_context& io, boost::asio::ssl::context* tls) : plain(io) {
      if (tls) tls_stream = std::make_unique<boost::asio::ssl::stream<tcp::socket>>(io, *tls);
    }
    tcp::socket& socket() { return tls_stream ? tls_stream->next_layer() : plain; }
    tcp::socket plain;
    std::unique_ptr<boost::asio::ssl::stream<tcp::socket>> tls_stream;
    boost::asio::streambuf in;
    std::string out;
  };

  void accept() {
    auto c = std::make_shared<Connection>(io_, tls_);
    acceptor_.async_accept(c->socket(), [this, c](const boost::system::error_code& ec) {
      if (ec) return;
      if (c->tls_stream)
        c->tls_stream->async_handshake(boost::asio::ssl::stream_base::server,
                                       [this, c](const boost::system::error_code& ec) {
                                         if (!ec) serve(c);
                                       });
      else
        serve(c);
      accept();
    });
  }

  template <class Stream>
  void serve_on(Stream& stream, const std::shared_ptr<Connection>& c) {
    boost::asio::async_read_until(stream, c->in, "\r\n\r\n", [this, c, &stream](const boost::system::error_code& ec, std::size_t) {
      if (ec) return;
      ++requests;
      last_request.assign(boost::asio::buffers_begin(c->in.data()), boost::asio::buffers_end(c->in.data()));
      std::string host, path;
      if (auto h = last_request.find("\r\nHost: "); h != std::string::npos)
        host = last_request.substr(h + 8, last_request.find("\r\n", h + 8) - h - 8);
      if (auto sp = last_request.find(' '); sp != std::string::npos)
        path = last_request.substr(sp + 1, last_request.find(' ', sp + 1) - sp - 1);
      hosts.push_back(host);
      paths.push_back(path);
      c->out = response;
      if (auto it = by_host.find(host); it != by_host.end()) c->out = it->second;
      else if (auto p = by_path.find(path); p != by_path.end()) c->out = p->second;
      boost::asio::async_write(stream, boost::asio::buffer(c->out), [c](const boost::system::error_code&, std::size_t) {
        boost::system::error_code ignored;
        c->socket().shutdown(tcp::socket::shutdown_both, ignored);
        c->socket().close(ignored);
      });
    });
  }

  void serve(const std::shared_ptr<Connection>& c) {
    if (c->tls_stream)
      serve_on(*c->tls_stream, c);
    else
      serve_on(c->plain, c);
  }

  boost::asio::io_context& io_;
  boost::asio::ssl::context* tls_;
  tcp::acceptor acceptor_;
};

// A self-signed certificate made in the test, so no key material is stored.
// With `pem_dir`, the certificate and key are also written there as
// cert.pem and key.pem (for tls_ca / tls_cert / tls_key).
inline void use_self_signed_certificate(boost::asio::ssl::context& ctx, const char* cn = "vsd-test",
                                        const std::string& pem_dir = "") {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx.native_handle(), cert);
  SSL_CTX_use_PrivateKey(ctx.native_handle(), key);
  if (!pem_dir.empty()) {
    if (FILE* f = std::fopen((pem_dir + "/cert.pem").c_str(), "w")) {
      PEM_write_X509(f, cert);
      std::fclose(f);
    }
    if (FILE* f = std::fopen((pem_dir + "/key.pem").c_str(), "w")) {
      PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
      std::fclose(f);
    }
  }
  X509_free(cert);
  EVP_PKEY_free(key);
}

// Replies "pong:" + the datagram.
class UdpEcho {
 public:
  using udp = boost::asio::ip::udp;
  explicit UdpEcho(boost::asio::io_context& io)
      : socket_(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    receive();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  std::string prefix = "pong:";

 private:
  void receive() {
    socket_.async_receive_from(boost::asio::buffer(buf_), peer_, [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      reply_ = prefix + std::string(buf_, n);
      socket_.send_to(boost::asio::buffer(reply_), peer_);
      receive();
    });
  }
  udp::socket socket_;
  udp::endpoint peer_;
  char buf_[2048];
  std::string reply_;
};

}  // namespace vsd::health::testing
