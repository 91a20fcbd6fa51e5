#!/usr/bin/env python3
"""Fail when the files of a crate import each other in a loop.

For each crate root (crates/core/src, crates/server/src, src) every path a file names
(`use crate::a::B`, `crate::a::f()`, `super::X`, `self::m::Y`) is resolved to the file
that defines it, following `pub use` re-exports, and becomes an edge between files.
A module's own `pub use` lines only list its interface, so they are not edges. Prints
each loop found (as a chain of files) and exits 1 when there is one.

Usage: scripts/import-loops.py [ROOT...]   (default: the three crate roots)
"""
import re
import sys
from pathlib import Path

ROOTS = ["crates/core/src", "crates/server/src", "src"]
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    """Source without comments, string and char literals (same line breaks)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
        elif re.match(r'r(#*)"', text[i:i + 10]) and not re.match(r"[A-Za-z0-9_]", text[i - 1:i] or " "):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end + 1 + len(hashes)
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'|'\\x..'", text[i:i + 12]):
            m = re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'|'\\x..'", text[i:i + 12])
            out.append("' '")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d as e}}` -> ['a::b', 'a::c::d=e']: each leaf path, `=name` if renamed."""
    tree = re.sub(r"\s+as\s+(" + IDENT + ")", r"=\1", tree)
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [tree]
    prefix, inner = tree[:brace], tree[brace + 1:tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    return [p for part in parts if part for p in expand_use(prefix + part)]


class Crate:
    def __init__(self, root):
        self.root = Path(root)
        self.files = {}  # module path tuple -> file
        for f in sorted(self.root.rglob("*.rs")):
            rel = f.relative_to(self.root).with_suffix("").parts
            if rel[-1] == "mod" or (len(rel) == 1 and rel[0] in ("lib", "main")):
                rel = rel[:-1]
            if rel in self.files and f.name == "main.rs":
                continue  # a binary beside lib.rs uses the library by its crate name
            self.files[rel] = f
        self.text = {m: strip(f.read_text()) for m, f in self.files.items()}
        self.reexports = {m: self._reexports(m) for m in self.files}

    def _reexports(self, module):
        """Names a module re-exports: name -> absolute path it names."""
        names = {}
        for m in re.finditer(r"\bpub(?:\([a-z]+\))?\s+use\s+([^;]+);", self.text[module]):
            for path in expand_use(m.group(1)):
                path, _, alias = path.partition("=")
                segs = path.split("::")
                if segs[-1] != "*":
                    names[alias or segs[-1]] = self.absolute(module, module, segs)
        return names

    def absolute(self, file_module, scope, segs):
        """A path's segments as an absolute module path, or None if outside the crate."""
        if segs[0] == "crate":
            return tuple(segs[1:])
        if segs[0] in ("super", "self"):
            base = list(scope)
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
            return tuple(base) + tuple(segs)
        child = tuple(file_module) + (segs[0],)
        if child in self.files:
            return tuple(file_module) + tuple(segs)
        return None

    def resolve(self, path, seen=()):
        """The file module that defines what an absolute path names."""
        if path is None:
            return None
        for cut in range(len(path), -1, -1):
            mod = path[:cut]
            if mod in self.files:
                rest = path[cut:]
                if rest and rest[0] in self.reexports[mod] and (mod, rest[0]) not in seen:
                    target = self.reexports[mod][rest[0]]
                    if target is None:
                        return None  # another crate's item
                    return self.resolve(target + rest[1:], seen + ((mod, rest[0]),)) or mod
                return mod
        return None

    def edges(self):
        graph = {m: set() for m in self.files}
        for module, text in self.text.items():
            body = re.sub(r"\bpub(?:\([a-z]+\))?\s+use\s+[^;]+;", "", text)
            scopes = self._scopes(body, module)
            paths = []
            for m in re.finditer(r"\buse\s+([^;]+);", body):
                for p in expand_use(m.group(1)):
                    paths.append((m.start(), p.partition("=")[0].split("::")))
            for m in re.finditer(r"(?<![A-Za-z0-9_:])((?:crate|super|self)(?:::(?:" + IDENT + r"|\*))+)", body):
                paths.append((m.start(), m.group(1).split("::")))
            for pos, segs in paths:
                segs = [s for s in segs if s]
                if not segs or segs[0] not in ("crate", "super", "self"):
                    continue
                target = self.resolve(self.absolute(module, scopes(pos), segs))
                if target is not None and target != module and target in graph:
                    graph[module].add(target)
        return graph

    def _scopes(self, body, module):
        """pos -> the module path a `super::` at pos starts from (inline `mod x {}` nest)."""
        spans = []
        for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", body):
            depth, i = 1, m.end()
            while i < len(body) and depth:
                depth += body[i] == "{"
                depth -= body[i] == "}"
                i += 1
            spans.append((m.end(), i))

        def scope(pos):
            inner = sum(1 for a, b in spans if a <= pos < b)
            # an inline module is part of this file: its `super::` is the file's module
            return tuple(module) + ("<inline>",) * inner

        return scope


def loops(graph):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def main(roots):
    found = 0
    for root in roots:
        crate = Crate(root)
        graph = crate.edges()
        for comp in loops(graph):
            found += 1
            names = sorted(str(crate.files[m].relative_to(crate.root)) for m in comp)
            print(f"{root}: import loop among {', '.join(names)}")
            for m in sorted(comp):
                targets = sorted(str(crate.files[t].relative_to(crate.root)) for t in graph[m] if t in comp)
                print(f"    {crate.files[m].relative_to(crate.root)} -> {', '.join(targets)}")
    if found:
        sys.exit(1)
    print(f"import loops: none in {', '.join(roots)}")


if __name__ == "__main__":
    main(sys.argv[1:] or ROOTS)
