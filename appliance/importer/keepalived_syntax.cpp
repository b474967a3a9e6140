#include "appliance/importer/keepalived_syntax.hpp"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace vsd::importer::keepalived {
namespace {

constexpr int max_include_depth = 32;

struct Token {
  std::string text;
  bool quoted = false;  // braces inside quotes are words
};

struct Line {
  std::string file;
  int line = 0;
  std::vector<Token> tokens;
  bool skip = false;
};

bool is_include(std::string_view word) {
  return word == "include" || word == "includer" || word == "includem" || word == "includew" ||
         word == "includeb" || word == "includea";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The escapes keepalived's quoted strings take (like the shell's $'...'):
// \a \b \E \f \n \r \t \v \nnn (octal) \xXX \cC, and \C for any other C.
// Returns the characters consumed after the backslash.
std::size_t unescape(std::string_view s, std::size_t i, std::string& out) {
  if (i >= s.size()) {
    out += '\\';
    return 0;
  }
  const char c = s[i];
  switch (c) {
    case 'a': out += '\a'; return 1;
    case 'b': out += '\b'; return 1;
    case 'E': out += '\x1b'; return 1;
    case 'f': out += '\f'; return 1;
    case 'n': out += '\n'; return 1;
    case 'r': out += '\r'; return 1;
    case 't': out += '\t'; return 1;
    case 'v': out += '\v'; return 1;
    case 'c':
      if (i + 1 < s.size()) {
        out += static_cast<char>(s[i + 1] & 0x1f);
        return 2;
      }
      out += 'c';
      return 1;
    case 'x': {
      int v = 0;
      std::size_t n = 0;
      while (n < 2 && i + 1 + n < s.size() && hex_value(s[i + 1 + n]) >= 0) v = v * 16 + hex_value(s[i + 1 + n++]);
      if (n == 0) {
        out += 'x';
        return 1;
      }
      out += static_cast<char>(v);
      return 1 + n;
    }
    default:
      if (c >= '0' && c <= '7') {
        int v = 0;
        std::size_t n = 0;
        while (n < 3 && i + n < s.size() && s[i + n] >= '0' && s[i + n] <= '7') v = v * 8 + (s[i + n++] - '0');
        out += static_cast<char>(v & 0xff);
        return n;
      }
      out += c;
      return 1;
  }
}

class Reader {
 public:
  Syntax syntax;

  void read_path(const std::string& path, int depth, const Message* from) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      const std::string why = std::strerror(errno);
      if (from)
        syntax.errors.push_back({from->file, from->line, "cannot read included file " + path + ": " + why});
      else
        syntax.errors.push_back({path, 0, "cannot read: " + why});
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    read(ss.str(), path, depth);
  }

  void read(std::string_view text, const std::string& name, int depth) {
    if (reading_.contains(name)) {
      syntax.errors.push_back({name, 0, "includes itself (through its includes): not read again"});
      return;
    }
    reading_.insert(name);
    syntax.files.push_back(name);
    std::size_t pos = 0;
    int number = 0;
    while (pos < text.size()) {
      // One logical line: physical lines joined where one ends in '\'.
      const int first = number + 1;
      std::string logical;
      while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view phys = text.substr(pos, end - pos);
        if (!phys.empty() && phys.back() == '\r') phys.remove_suffix(1);
        pos = end + 1;
        ++number;
        std::string decommented = decomment(phys);
        if (!decommented.empty() && decommented.back() == '\\' && !odd_backslashes_before_end(decommented)) {
          decommented.pop_back();
          logical += decommented;
          logical += ' ';
          continue;
        }
        logical += decommented;
        break;
      }
      line(logical, name, first, depth);
    }
    reading_.erase(name);
  }

  std::vector<Line> lines;

 private:
  // "\\" at the end is an escaped backslash, not a continuation.
  static bool odd_backslashes_before_end(const std::string& s) {
    std::size_t n = 0;
    for (std::size_t i = s.size() - 1; i > 0 && s[i - 1] == '\\'; --i) ++n;
    return n % 2 == 1;
  }

  // Drops a comment ('#' or '!' outside quotes); \# and \! stay as # and !.
  static std::string decomment(std::string_view s) {
    std::string out;
    char quote = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '\\' && i + 1 < s.size()) {
        if (!quote && (s[i + 1] == '#' || s[i + 1] == '!')) {
          out += "\\";  // kept escaped for the tokenizer, which drops the backslash
          out += s[++i];
          continue;
        }
        out += c;
        out += s[++i];
        continue;
      }
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#' || c == '!') {
        break;
      }
      out += c;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
    return out;
  }

  void line(const std::string& text, const std::string& file, int number, int depth) {
    Line l{file, number, {}, false};
    std::string current;
    bool in_word = false, quoted = false;
    auto flush = [&] {
      if (in_word) l.tokens.push_back({current, quoted});
      current.clear();
      in_word = quoted = false;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == ' ' || c == '\t' || c == '\v' || c == '\f') {
        flush();
      } else if (c == '{' || c == '}') {
        flush();
        l.tokens.push_back({std::string(1, c), false});
      } else if (c == '"' || c == '\'') {
        // Escapes count inside double quotes; single quotes keep everything.
        in_word = quoted = true;
        std::size_t j = i + 1;
        bool closed = false;
        while (j < text.size()) {
          if (text[j] == c) {
            closed = true;
            break;
          }
          if (c == '"' && text[j] == '\\' && j + 1 < text.size()) {
            j += 1 + unescape(text, j + 1, current);
            continue;
          }
          current += text[j++];
        }
        if (!closed) syntax.errors.push_back({file, number, std::string("unterminated quote (") + c + ")"});
        i = j;
      } else if (c == '\\' && i + 1 < text.size()) {
        in_word = true;
        current += text[++i];
      } else {
        in_word = true;
        current += c;
      }
    }
    flush();
    if (l.tokens.empty()) return;

    const Token& first = l.tokens.front();
    if (!first.quoted && !first.text.empty() && first.text[0] == '@') {
      syntax.refusals.push_back({file, number,
                                 "conditional configuration ('" + first.text +
                                     "') is not imported: it depends on the node keepalived runs on; "
                                     "write the line for this cluster without it"});
      l.skip = true;
    } else if (text.find('$') != std::string::npos) {
      syntax.refusals.push_back({file, number,
                                 "parameter substitution ($NAME) is not imported: expand it first "
                                 "(keepalived -d / --dump-conf shows the result)"});
      l.skip = true;
    } else if (!first.quoted && is_include(first.text)) {
      include(l, depth);
      return;
    }
    lines.push_back(std::move(l));
  }

  void include(const Line& l, int depth) {
    const Message at{l.file, l.line, ""};
    if (l.tokens.size() < 2) {
      syntax.refusals.push_back({l.file, l.line, "'" + l.tokens[0].text + "' without a file name: nothing included"});
      return;
    }
    if (depth >= max_include_depth) {
      syntax.errors.push_back({l.file, l.line, "includes nested deeper than " + std::to_string(max_include_depth) +
                                                   " levels: not read"});
      return;
    }
    std::string pattern = l.tokens[1].text;
    if (!pattern.empty() && pattern[0] != '/') {
      const std::size_t slash = l.file.rfind('/');
      if (slash != std::string::npos) pattern = l.file.substr(0, slash + 1) + pattern;
    }
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_BRACE | GLOB_TILDE, nullptr, &g);
    std::vector<std::string> matches;
    if (rc == 0)
      for (std::size_t i = 0; i < g.gl_pathc; ++i) matches.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    std::sort(matches.begin(), matches.end());
    if (matches.empty()) {
      syntax.notes.push_back({l.file, l.line, "include " + l.tokens[1].text + " matched no file"});
      return;
    }
    for (const auto& m : matches) read_path(m, depth + 1, &at);
  }

  std::set<std::string> reading_;
};

// Statements and blocks from the lines.
void build(const std::vector<Line>& lines, Syntax& out) {
  struct Frame {
    std::vector<Statement>* list;
    const Statement* owner;
  };
  std::vector<Frame> stack{{&out.top, nullptr}};
  // Whether the last statement of the innermost list may still take a '{'
  // on a line of its own.
  bool may_open = false;
  for (const Line& l : lines) {
    Statement cur;
    bool have = false;
    auto push_current = [&](bool opens) {
      cur.block = opens;
      stack.back().list->push_back(std::move(cur));
      cur = Statement{};
      have = false;
      if (opens) {
        Statement& s = stack.back().list->back();
        stack.push_back({&s.children, &s});
        may_open = false;
      } else {
        may_open = true;
      }
    };
    for (const Token& t : l.tokens) {
      if (!t.quoted && t.text == "{") {
        if (have) {
          push_current(true);
        } else if (may_open && !stack.back().list->empty() && !stack.back().list->back().block) {
          Statement& s = stack.back().list->back();
          s.block = true;
          stack.push_back({&s.children, &s});
          may_open = false;
        } else {
          out.errors.push_back({l.file, l.line, "unexpected '{'"});
        }
      } else if (!t.quoted && t.text == "}") {
        if (have) push_current(false);
        if (stack.size() == 1)
          out.errors.push_back({l.file, l.line, "'}' without a block to close"});
        else
          stack.pop_back();
        may_open = false;
      } else if (!have) {
        cur.keyword = t.text;
        cur.file = l.file;
        cur.line = l.line;
        cur.skip = l.skip;
        have = true;
      } else {
        cur.args.push_back(t.text);
      }
    }
    if (have) push_current(false);
  }
  while (stack.size() > 1) {
    const Statement* open = stack.back().owner;
    out.errors.push_back({open->file, open->line, "block '" + open->keyword + "' is not closed: '}' missing"});
    stack.pop_back();
  }
}

}  // namespace

Syntax read_file(const std::string& path) {
  Reader r;
  r.read_path(path, 0, nullptr);
  build(r.lines, r.syntax);
  return std::move(r.syntax);
}

Syntax read_text(std::string_view text, const std::string& name) {
  Reader r;
  r.read(text, name, 0);
  build(r.lines, r.syntax);
  return std::move(r.syntax);
}

}  // namespace vsd::importer::keepalived
