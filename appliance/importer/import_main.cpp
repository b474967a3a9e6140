// `vsd import keepalived FILE [--lenient]` and `vsd import ipvsadm
// [FILE|-] [--lenient]`: the imported vsd.toml on stdout, every refusal and
// note on stderr. Exit 0; 2 on refusals without --lenient (then nothing is
// printed on stdout: what is there is what you get), on an unreadable or
// broken input, or on a bad command line. Runs offline, without a daemon.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "appliance/importer/importer.hpp"

namespace vsd::importer {
namespace {

const char* const usage =
    "usage: vsd import keepalived FILE [--lenient]\n"
    "       vsd import ipvsadm [FILE|-] [--lenient]\n"
    "Prints an equivalent vsd.toml on stdout and, on stderr, every keyword with no vsd\n"
    "equivalent (FILE:LINE: reason). Exit 2 when something was refused, unless --lenient\n"
    "(then the TOML leaves those out and lists them in its header). ipvsadm input is\n"
    "`ipvsadm-save -n` output (standard input by default). Check the result on each node\n"
    "with: vsd --check -c FILE\n";

int bad_usage(const std::string& why) {
  std::cerr << "vsd import: " << why << "\n" << usage;
  return 2;
}

}  // namespace

int import_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 2, argv + argc);  // after "vsd import"
  bool lenient = false;
  std::vector<std::string> words;
  for (const auto& a : args) {
    if (a == "--lenient") {
      lenient = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << usage;
      return 0;
    } else if (a.size() > 1 && a[0] == '-' ) {
      return bad_usage("unknown option " + a);
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) return bad_usage("say what to import: keepalived or ipvsadm");
  const std::string kind = words[0];
  ImportOptions options;
  options.lenient = lenient;
  ImportResult result;
  if (kind == "keepalived") {
    if (words.size() != 2) return bad_usage("vsd import keepalived takes one file");
    result = import_keepalived_file(words[1], options);
  } else if (kind == "ipvsadm") {
    if (words.size() > 2) return bad_usage("vsd import ipvsadm takes at most one file");
    const std::string name = words.size() == 2 ? words[1] : "-";
    std::string text;
    if (name == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(name, std::ios::binary);
      if (!in) {
        std::cerr << name << ": error: cannot read: " << std::strerror(errno) << "\n";
        return 2;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    result = import_ipvsadm_text(text, name, options);
  } else {
    return bad_usage("unknown importer '" + kind + "' (keepalived | ipvsadm)");
  }

  std::cerr << format_messages(result);
  if (!result.ok()) {
    std::cerr << "vsd import: nothing imported\n";
    return 2;
  }
  if (!result.refusals.empty() && !lenient) {
    std::cerr << "vsd import: " << result.refusals.size()
              << " refusal(s); nothing printed. --lenient prints the TOML without what was refused\n";
    return 2;
  }
  std::cout << result.toml;
  return 0;
}

}  // namespace vsd::importer
