#!/usr/bin/env python3
"""Reports include cycles between the project's components and exits 1 when there is one.

A component is a header and its source (proxy/net/listener.hpp + .cpp): a.cpp including b.hpp
while b.cpp includes a.hpp is a cycle even though no header includes itself, because neither
file can be understood, tested or moved without the other. Only quoted includes of files in
this tree count ("proxy/net/listener.hpp"); system and third-party headers are ignored.

  tools/include_cycles.py [--root ROOT] [FOLDER...]
      ROOT defaults to the repository (this file's parent's parent). With FOLDERs (e.g. proxy),
      only cycles with a member under one of them are reported; the graph is always the whole
      tree. ctest runs it over the whole tree (tests/CMakeLists.txt).
"""
import os
import re
import sys

FOLDERS = ("certs", "inspect", "config", "proxy", "tools")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def components(root):
    """Maps component name (path without extension) -> set of component names it includes."""
    graph = {}
    for top in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".hpp", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                comp = os.path.splitext(os.path.relpath(path, root))[0]
                deps = graph.setdefault(comp, set())
                with open(path, encoding="utf-8", errors="replace") as f:
                    for inc in INCLUDE.findall(f.read()):
                        # Paths are written from the repository root, or from tools/ for the CLI.
                        for base in (root, os.path.join(root, "tools")):
                            if os.path.isfile(os.path.join(base, inc)):
                                target = os.path.splitext(
                                    os.path.relpath(os.path.join(base, inc), root))[0]
                                if target != comp:
                                    deps.add(target)
                                break
    return graph


def cycles(graph):
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                scc = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    scc.append(member)
                    if member == node:
                        break
                if len(scc) > 1:
                    out.append(sorted(scc))
    return out


def main():
    args = sys.argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(args) >= 2 and args[0] == "--root":
        root, args = args[1], args[2:]
    scope = [a.rstrip("/") + "/" for a in args]
    found = [scc for scc in cycles(components(root))
             if not scope or any(m.startswith(tuple(scope)) for m in scc)]
    for scc in found:
        print("include cycle: " + " <-> ".join(scc))
    if found:
        return 1
    print("no include cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
