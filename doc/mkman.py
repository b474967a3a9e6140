#!/usr/bin/env python3
"""Generate vsd's man pages (roff) from doc/manpages.txt and etc/vsd.toml.

    mkman.py --source doc/manpages.txt --toml etc/vsd.toml --version 0.1.0 \
             --outdir build/man [--vsd build/.../vsd --vsadm build/.../vsadm]

Writes NAME.SECTION for every "@page" of the source (vsd.8, vsadm.8,
vsd.toml.5). "@toml-reference" is replaced by a key reference built from
etc/vsd.toml's comments: one subsection per table, one entry per key with
its default and the comment text. With --vsd/--vsadm, the long options the
programs' help prints are checked against their page, and any the page does
not mention is reported on stderr (a warning, the build goes on), so the
pages stay current with the code. Python 3 standard library only.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys


# ---------------------------------------------------------------- roff text

def escape(text):
    """Escape plain text for roff (no inline markup)."""
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def inline(text):
    """Plain text with `code`, **bold** and *italic* spans -> roff."""
    out = []
    pos = 0
    pattern = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])")
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + escape(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + inline(m.group(2)) + "\\fR")
        else:
            out.append("\\fI" + escape(m.group(3)) + "\\fR")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def line_safe(line):
    """A roff text line must not start with . or ' (a request)."""
    if line.startswith((".", "'")):
        return "\\&" + line
    return line


def literal_block(lines):
    out = [".PP", ".RS 4", ".nf"]
    for l in lines:
        out.append(line_safe(escape(l)))
    out += [".fi", ".RE"]
    return out


# ------------------------------------------------------ etc/vsd.toml parsing

KEY_RE = re.compile(r"^(?P<indent>\s*)(?P<commented>#\s*)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<rest>.*)$")
TABLE_RE = re.compile(r"^(?P<commented>#\s*)?(?P<hdr>\[\[?[A-Za-z0-9_.]+\]\]?)\s*(?P<rest>.*)$")


def split_comment(rest):
    """Split 'VALUE   # comment' at the first # outside a string.
    Returns (value, comment or None, column offset of the #)."""
    quote = None
    i = 0
    while i < len(rest):
        c = rest[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return rest[:i].strip(), rest[i + 1:].strip(), i
        i += 1
    return rest.strip(), None, None


class Table:
    def __init__(self, header):
        self.header = header          # e.g. "[[service.real]]"
        self.notes = []               # paragraphs (list of lines) from comment blocks
        self.intro = ""               # the header line's own comment
        self.keys = []                # [key, default or None, example, description]
        self.seen = set()


def parse_toml_doc(path):
    """Returns (header paragraph lines, [Table]) from the commented example."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = []
    tables = {}
    order = []
    current = None
    pending = []          # standalone comment lines waiting for the next table
    last_entry = None     # (entry, comment column) that continuation lines extend
    in_header = True

    def flush_pending_into(table):
        nonlocal pending
        text = " ".join(l for l in pending if l).strip()
        if text and table is not None:
            table.notes.append(text)
        pending = []

    for raw in lines:
        stripped = raw.strip()
        if not stripped:
            last_entry = None
            if in_header and header and header[-1] != "":
                header.append("")
            if pending:
                pending.append("")
            continue
        # A continuation of the previous key's comment: indented, only a comment.
        if last_entry is not None and raw[0].isspace() and stripped.startswith("#"):
            entry = last_entry
            entry[3] = (entry[3] + " " + stripped[1:].strip()).strip()
            continue
        last_entry = None
        m = TABLE_RE.match(stripped) if (not raw[0].isspace()) else None
        if m and (m.group("commented") is None or m.group("rest").startswith("#")):
            in_header = False
            hdr = m.group("hdr")
            comment = split_comment(m.group("rest"))[1] if m.group("rest") else None
            if m.group("commented") is not None:
                # A commented-out table ("# [service.real.check]  # ..."): a
                # sub-table with no keys of its own, described in one line.
                t = tables.get(hdr)
                if t is None:
                    t = tables[hdr] = Table(hdr)
                    order.append(hdr)
                    t.intro = comment or ""
                continue
            t = tables.get(hdr)
            if t is None:
                t = tables[hdr] = Table(hdr)
                order.append(hdr)
                if comment:
                    t.intro = comment
            flush_pending_into(t)
            current = t
            continue
        km = KEY_RE.match(raw)
        if km and (km.group("commented") is None or km.group("indent") == ""):
            in_header = False
            if current is None:
                continue
            value, comment, _ = split_comment(km.group("rest"))
            key = km.group("key")
            if key in current.seen:
                # A later example of the same table: the value is not a
                # default and the key is documented already.
                last_entry = None
                continue
            current.seen.add(key)
            commented = km.group("commented") is not None
            entry = [key, None if commented else value, value if commented else None, comment or ""]
            current.keys.append(entry)
            last_entry = entry
            continue
        if stripped.startswith("#"):
            text = stripped[1:].strip()
            if in_header:
                header.append(text)
            else:
                pending.append(text)
            continue
    # Trailing comments without a table after them are dropped.
    while header and header[-1] == "":
        header.pop()
    return header, [tables[h] for h in order]


def toml_reference(path):
    header, tables = parse_toml_doc(path)
    out = [".SH KEYS"]
    # The file's opening comment, paragraph by paragraph.
    para = []
    for l in header + [""]:
        if l:
            para.append(l)
        elif para:
            out += [".PP", line_safe(inline(" ".join(para)))]
            para = []
    for t in tables:
        out.append(".SS " + escape(t.header))
        if t.intro:
            out += [".PP", line_safe(inline(t.intro))]
        for n in t.notes:
            out += [".PP", line_safe(inline(n))]
        for key, default, example, desc in t.keys:
            out.append(".TP")
            if default is not None:
                out.append(line_safe("\\fB" + escape(key) + "\\fR = " + escape(default)))
            else:
                out.append(line_safe("\\fB" + escape(key) + "\\fR (unset; e.g. " + escape(example) + ")"))
            out.append(line_safe(inline(desc)) if desc else "See the paragraphs at the start of " + escape(t.header) + ".")
    return out


# --------------------------------------------------------- manpages.txt

def parse_pages(path):
    pages = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("%%"):
                continue
            if line.startswith("@page "):
                _, name, section, summary = line.split(" ", 3)
                cur = {"name": name, "section": section, "summary": summary, "lines": []}
                pages.append(cur)
                continue
            if cur is not None:
                cur["lines"].append(line)
    return pages


def render_page(page, version, date, toml_path):
    name, section = page["name"], page["section"]
    manual = "System Administration" if section == "8" else "File Formats"
    out = [
        '.\\" Generated by doc/mkman.py from doc/manpages.txt%s; do not edit.'
        % (" and etc/vsd.toml" if any(l.strip() == "@toml-reference" for l in page["lines"]) else ""),
        '.TH "%s" "%s" "%s" "vsd %s" "%s"' % (escape(name.upper()), section, date, version, manual),
        ".SH NAME",
        "%s \\- %s" % (escape(name), escape(page["summary"])),
    ]
    lines = page["lines"]
    i = 0
    para = []
    need_pp = False  # a blank line ended the previous paragraph

    def flush():
        nonlocal para
        if para:
            out.append(line_safe(inline(" ".join(s.strip() for s in para))))
            para = []

    while i < len(lines):
        l = lines[i]
        s = l.strip()
        if s.startswith("```"):
            flush()
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out += literal_block(block)
            need_pp = False
        elif s == "@toml-reference":
            flush()
            out += toml_reference(toml_path)
            need_pp = False
        elif l.startswith("## "):
            flush()
            out.append(".SS " + inline(l[3:].strip()))
            need_pp = False
        elif l.startswith("# "):
            flush()
            out.append(".SH " + inline(l[2:].strip()))
            need_pp = False
        elif l.startswith(": "):
            flush()
            out += [".TP", line_safe(inline(l[2:].strip()))]
            need_pp = False
        elif l.startswith("- "):
            flush()
            out.append(".IP \\(bu 2")
            para = [l[2:]]
            need_pp = False
        elif not s:
            flush()
            need_pp = True
        else:
            if need_pp:
                out.append(".PP")
                need_pp = False
            para.append(l)
        i += 1
    flush()
    return "\n".join(out) + "\n"


# ------------------------------------------------ options kept current

def help_options(binary, flag):
    try:
        r = subprocess.run([binary, flag], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("mkman.py: warning: cannot run %s %s: %s" % (binary, flag, e), file=sys.stderr)
        return set()
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", r.stdout + r.stderr))


def check_options(page_text, binary, flag, page_name):
    missing = sorted(o for o in help_options(binary, flag) if o not in page_text)
    for o in missing:
        print("mkman.py: warning: %s %s lists %s, which %s does not mention (doc/manpages.txt)"
              % (os.path.basename(binary), flag, o, page_name), file=sys.stderr)
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--toml", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--vsd", help="built vsd, to check its --help against vsd(8)")
    ap.add_argument("--vsadm", help="built vsadm, to check its -h against vsadm(8)")
    ap.add_argument("--strict", action="store_true", help="fail when an option is undocumented")
    a = ap.parse_args()

    # Reproducible: the date of the newest source, or SOURCE_DATE_EPOCH.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        epoch = max(os.path.getmtime(p) for p in (a.source, a.toml))
    date = datetime.datetime.fromtimestamp(int(float(epoch)), datetime.timezone.utc).strftime("%Y-%m-%d")

    os.makedirs(a.outdir, exist_ok=True)
    pages = parse_pages(a.source)
    missing = []
    for p in pages:
        text = render_page(p, a.version, date, a.toml)
        target = os.path.join(a.outdir, "%s.%s" % (p["name"], p["section"]))
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(target + ".tmp", target)
        source_text = "\n".join(p["lines"])
        if p["name"] == "vsd" and a.vsd:
            missing += check_options(source_text, a.vsd, "--help", "vsd(8)")
        if p["name"] == "vsadm" and a.vsadm:
            missing += check_options(source_text, a.vsadm, "-h", "vsadm(8)")
    if missing and a.strict:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
