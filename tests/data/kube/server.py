#!/usr/bin/env python3
"""server.py -- the HTTP(S) API stand-in that test_kube talks to.

Prints one JSON line {"http": port, "https": port, "mtls": port} once it
listens on 127.0.0.1, and exits when its stdin closes (the test ended).

  /json         200, a small JSON body
  /echo         200, what arrived: method, headers, body
  /auth         200 when "Authorization: Bearer <token file>", else 401;
                the body is the Authorization header received
  /busy         429 with Retry-After: 3
  /busy-date    503 with Retry-After as an HTTP-date two minutes ahead
  /stream       chunked: "line 1", then waits for /release, then "line 2"
  /release      lets /stream finish
  /forever      chunked "tick N" every 50 ms until the client goes away
  /stats        how many /forever clients went away
  /stall        reads the request, never answers
  /stall-mid    headers and one chunk, then nothing
  /whoami       the client certificate's CN, or "anonymous"
  /mark         200, after creating the file "mark" beside the token file
"""

import argparse
import email.utils
import http.server
import json
import os
import select
import socketserver
import ssl
import sys
import threading
import time

release = threading.Event()
lock = threading.Lock()
forever_closed = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    token_file = None

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/plain", extra=()):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def chunk(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def start_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def wait_client_gone(self, limit):
        """True when the client closed the connection within limit seconds."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            r, _, _ = select.select([self.connection], [], [], 0.1)
            if r and not self.connection.recv(1, 0):
                return True
        return False

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n).decode() if n > 0 else ""

    def do_GET(self):
        path = self.path.split("?")[0]
        body = self.body()
        if path == "/json":
            self.reply(200, '{"kind":"Status","status":"Success"}\n',
                       "application/json")
        elif path == "/echo":
            h = self.headers
            self.reply(200, "method=%s\naccept=%s\nuser-agent=%s\n"
                       "content-type=%s\nauthorization=%s\nbody=%s\n" % (
                           self.command, h.get("Accept"),
                           h.get("User-Agent"), h.get("Content-Type"),
                           h.get("Authorization"), body))
        elif path == "/auth":
            with open(self.token_file) as f:
                want = "Bearer " + f.read().strip()
            got = self.headers.get("Authorization", "")
            self.reply(200 if got == want else 401, got)
        elif path == "/busy":
            self.reply(429, '{"kind":"Status","code":429}',
                       "application/json", [("Retry-After", "3")])
        elif path == "/busy-date":
            when = email.utils.formatdate(time.time() + 120, usegmt=True)
            self.reply(503, "busy", extra=[("Retry-After", when)])
        elif path == "/stream":
            release.clear()
            self.start_chunked()
            self.chunk("line 1\n")
            release.wait(30)
            self.chunk("line 2\n")
            self.chunk("")
        elif path == "/release":
            release.set()
            self.reply(200, "released")
        elif path == "/forever":
            self.forever()
        elif path == "/stats":
            with lock:
                self.reply(200, "forever_closed=%d" % forever_closed)
        elif path == "/stall":
            self.wait_client_gone(30)
            self.close_connection = True
        elif path == "/stall-mid":
            self.start_chunked()
            self.chunk("x\n")
            self.wait_client_gone(30)
            self.close_connection = True
        elif path == "/mark":
            open(os.path.join(os.path.dirname(self.token_file), "mark"),
                 "w").close()
            self.reply(200, "marked")
        elif path == "/whoami":
            cn = "anonymous"
            cert = getattr(self.connection, "getpeercert", lambda: None)()
            for rdn in (cert or {}).get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
            self.reply(200, cn)
        else:
            self.reply(404, "not found")

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def forever(self):
        global forever_closed
        self.start_chunked()
        n = 0
        try:
            while n < 600:
                n += 1
                self.chunk("tick %d\n" % n)
                time.sleep(0.05)
        except OSError:
            with lock:
                forever_closed += 1
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ctx = None

    def finish_request(self, request, client_address):
        if self.ctx is not None:
            # The handshake runs here, in the connection's own thread.
            request = self.ctx.wrap_socket(request, server_side=True)
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        pass


def serve(ctx):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.ctx = ctx
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    a = ap.parse_args()
    Handler.token_file = a.token_file
    ports = {"http": serve(None)}
    if a.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.cert, a.key)
        ports["https"] = serve(tls)
        mtls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        mtls.load_cert_chain(a.cert, a.key)
        mtls.load_verify_locations(a.client_ca)
        mtls.verify_mode = ssl.CERT_REQUIRED
        ports["mtls"] = serve(mtls)
    print(json.dumps(ports), flush=True)
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
