#!/usr/bin/env python3
"""cli.layering: calls between the CLI's source files go one way (cli/cli.h describes it).

  zarrc.c (main, verb table, help)  ->  verb files  ->  helper files

A verb file (one verb family) may use helpers, never another verb file or zarrc.c; a helper
never uses a verb file or zarrc.c, and helpers do not use each other in a circle. Every verb
object a verb file defines is in zarrc.c's table, and only there. Reads the sources (comments
and string literals stripped); exits 1 naming each offending file and symbol.

usage: check_layering.py CLI_DIR
"""
import os
import re
import sys

VERB_FILES = {"cli_array.c", "cli_io.c", "cli_node.c", "cli_hierarchy.c", "cli_view.c",
              "cli_verify.c", "cli_stats.c"}
MAIN = "zarrc.c"


def strip(text):
    """C text without comments, string and character literals (kept as empty quotes)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def definitions(code):
    """Names of the external (non-static) functions and objects defined at file scope."""
    names = set()
    for m in re.finditer(r"^(?!static\b|typedef\b|extern\b|#)([A-Za-z_][\w \t\*]*?)\b([A-Za-z_]\w*)\s*\(([^;{]*?)\)\s*\{",
                         code, re.M | re.S):
        names.add(m.group(2))
    for m in re.finditer(r"^(?!static\b|typedef\b|extern\b|#)(?:const\s+)?[A-Za-z_]\w*\s+\**([A-Za-z_]\w*)\s*(\[\s*\])?\s*(=|;)",
                         code, re.M):
        names.add(m.group(1))
    return names


def main():
    cli = sys.argv[1]
    files = sorted(f for f in os.listdir(cli) if f.endswith(".c"))
    code = {f: strip(open(os.path.join(cli, f), encoding="utf-8").read()) for f in files}
    raw = {f: open(os.path.join(cli, f), encoding="utf-8").read() for f in files}
    owner = {}
    problems = []
    for f in files:
        for name in definitions(code[f]):
            if name in owner and name != "main":
                problems.append(f"{name} is defined in both {owner[name]} and {f}")
            owner[name] = f
    missing = VERB_FILES - set(files)
    if missing:
        problems.append("verb files missing: " + ", ".join(sorted(missing)))

    def layer(f):
        return 2 if f == MAIN else 1 if f in VERB_FILES else 0

    uses = {}
    for f in files:
        words = set(re.findall(r"\b[A-Za-z_]\w*\b", code[f]))
        uses[f] = {owner[w] for w in words if w in owner and owner[w] != f}
        for w in sorted(words):
            g = owner.get(w)
            if not g or g == f:
                continue
            if layer(g) >= layer(f) and not (layer(f) == 0 and layer(g) == 0):
                problems.append(f"{f} uses {w} of {g} (calls must go from zarrc.c to verb files to helpers)")
        if layer(f) == 0 and re.search(r'#include\s+"cli_verbs\.h"', raw[f]):
            problems.append(f"helper {f} includes cli_verbs.h")

    # helpers among themselves: no circle
    helpers = [f for f in files if layer(f) == 0]
    state = {}

    def visit(f, path):
        state[f] = 1
        for g in sorted(uses[f]):
            if layer(g) != 0:
                continue
            if state.get(g) == 1:
                problems.append("helpers call each other in a circle: " + " -> ".join(path + [f, g]))
            elif g not in state:
                visit(g, path + [f])
        state[f] = 2

    for f in helpers:
        if f not in state:
            visit(f, [])

    # the verb table: every verb object defined by a verb file is listed in zarrc.c
    defined = {w for w, f in owner.items() if w.startswith("cli_verb_") and f in VERB_FILES | {MAIN}
               and re.search(r"^const cli_verb " + w + r"\b", code[f], re.M)}
    table = re.search(r"verbs\[\]\s*=\s*\{(.*?)\};", code[MAIN], re.S)
    listed = set(re.findall(r"&(cli_verb_\w+)", table.group(1))) if table else set()
    for w in sorted(defined - listed):
        problems.append(f"{w} ({owner[w]}) is not in the verb table of {MAIN}")
    for w in sorted(listed - defined):
        problems.append(f"the verb table lists {w}, which no verb file defines")
    if len(defined) < 17:
        problems.append(f"only {len(defined)} verb objects found (expected every verb): the check is broken")

    for p in problems:
        print("cli.layering:", p)
    print(f"cli.layering: {len(files)} files, {len(owner)} external symbols, {len(defined)} verbs, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
