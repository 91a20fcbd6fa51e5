#!/usr/bin/env python3
"""Tiny static server for the demo, the bench page and the browser test.

    python3 scripts/serve.py [--port 8080] [--www DIR]

Serves / -> www/, /pkg -> pkg/, /models -> models/, /fixtures -> tests/fixtures,
/e2e -> tests/e2e/pages
on 127.0.0.1 with CORS open (the test page lives on another origin) and proper
MIME types for .wasm and ES modules. Pages are cross-origin isolated (COOP + COEP),
so the multi-threaded build can run, unless their URL has `isolate=0` in its query.
Logs only errors.
"""

import argparse
import functools
import http.server
import os
import posixpath
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOUNTS = {
    "/pkg/": os.path.join(ROOT, "pkg"),
    "/models/": os.path.join(ROOT, "models"),
    "/fixtures/": os.path.join(ROOT, "tests", "fixtures"),
    "/e2e/": os.path.join(ROOT, "tests", "e2e", "pages"),
    "/": os.path.join(ROOT, "www"),
}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".jsonl": "application/jsonl",
    }

    def translate_path(self, path):
        """Map a URL path onto the first mount whose prefix it starts with."""
        path = posixpath.normpath(urllib.parse.unquote(urllib.parse.urlsplit(path).path))
        for prefix, directory in MOUNTS.items():
            if path == prefix.rstrip("/") or path.startswith(prefix):
                rest = path[len(prefix.rstrip("/")) :].lstrip("/")
                parts = [p for p in rest.split("/") if p not in ("", ".", "..")]
                return os.path.join(directory, *parts)
        return os.path.join(MOUNTS["/"], "404")

    def end_headers(self):
        if "isolate=0" not in urllib.parse.urlsplit(self.path).query:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        pass

    def log_error(self, format, *args):
        super().log_message(format, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--www", help="serve this directory at / instead of www/")
    args = parser.parse_args()
    if args.www:
        MOUNTS["/"] = os.path.abspath(args.www)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"serving http://127.0.0.1:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
