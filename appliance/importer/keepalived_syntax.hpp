// keepalived.conf's syntax, as keepalived's own reader (lib/parser.c) takes
// it: a statement per line (a keyword and its words), blocks between '{'
// and '}' (a '{' may stand on the next line, braces split a line), comments
// from '#' or '!' outside quotes, "double" or 'single' quoted words with
// shell-like escapes, a trailing '\' joining the next line, and `include`
// (includer / includem / includew / includeb / includea) with glob patterns
// relative to the including file's directory. Every statement keeps its
// FILE:LINE.
//
// Not taken: conditional lines (`@ID ...`) and parameter substitution
// (`$NAME`), which depend on the node keepalived runs on; each such line is
// refused with its position and skipped with its block.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "appliance/importer/importer.hpp"

namespace vsd::importer::keepalived {

struct Statement {
  std::string keyword;
  std::vector<std::string> args;
  std::string file;
  int line = 0;
  bool block = false;  // it opened a { ... } block
  bool skip = false;   // refused while reading (conditional / substitution)
  std::vector<Statement> children;
};

struct Syntax {
  std::vector<Statement> top;
  std::vector<std::string> files;  // every file read: the main one first, then the included ones
  std::vector<Message> errors;     // unreadable main file, unbalanced braces, unterminated quotes
  std::vector<Message> refusals;   // skipped lines
  std::vector<Message> notes;      // includes matching nothing
};

// Reads `path` (and what it includes).
Syntax read_file(const std::string& path);
// Reads `text` named `name`; relative includes are taken from name's directory.
Syntax read_text(std::string_view text, const std::string& name);

}  // namespace vsd::importer::keepalived
