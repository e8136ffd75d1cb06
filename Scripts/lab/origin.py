#!/usr/bin/env python3
"""Loopback origin servers for the ProxyVet lab.

One process per role (started by Scripts/lab/lab):

  origin   NET.1 :443 (TLS) and :80  answers any hostname with 200
  hang     NET.3 :443 and :80        accepts and reads, never answers (closes after 60 s)
  expired  NET.5 :443 (TLS)          like origin, but its certificates expired 2 days ago
  reset    NET.6 :443 and :80        accepts, waits for the first bytes, then closes with a TCP RST
  pac      NET.1 :8081               serves DIR/proxy.pac at /proxy.pac (application/x-ns-proxy-autoconfig)

TLS roles present, through an SNI callback, a leaf certificate made on demand for
the requested name (SAN = that DNS name), signed by the lab origin CA
(DIR/origin-ca.crt + DIR/origin-ca.key). One leaf key is generated per process
and every certificate is cached.

The origin role answers three names with pages that look like a proxy's refusal but are the origin's own
(LOOKALIKE_PAGES): origin-403.proxyvet-lab.test (403 "Access denied"), origin-503.proxyvet-lab.test
(503 Service Unavailable) and origin-blockedpage.proxyvet-lab.test (200, "This site is blocked" / "access
denied"). Every other Host gets the plain 200.

`--latency-ms N` (origin role only, default 0) delays every HTTP response by N ms after the request
has been read, to model a distant origin (Scripts/bench uses it).

Standard library plus the `cryptography` module. Every listener is on 127.0.0.0/8.
"""

import argparse
import datetime
import ipaddress
import os
import re
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

# `cryptography` is imported by load_crypto(), for the TLS roles only: the import costs ~0.3 s of CPU,
# and the lab starts six of these processes at once.
x509 = hashes = serialization = ec = ExtendedKeyUsageOID = NameOID = None


def load_crypto():
    global x509, hashes, serialization, ec, ExtendedKeyUsageOID, NameOID
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HANG_SECONDS = 60
IO_TIMEOUT = 30
MAX_CACHED_CERTS = 20000
NAME_RE = re.compile(r"^[a-z0-9_*](?:[a-z0-9_.-]{0,251}[a-z0-9_])?$")

# Origins whose own answers look like a proxy's block: a proxy that relays them has let the request through.
# Host name -> (status, reason, extra headers, HTML page).
LOOKALIKE_PAGES = {
    "origin-403.proxyvet-lab.test": (
        403, "Forbidden", [],
        "<!DOCTYPE html>\n<html>\n<head><title>Access denied</title></head>\n<body>\n"
        "<h1>Access denied</h1>\n<p>You don't have permission to access this resource on this server.</p>\n"
        "</body>\n</html>\n"),
    "origin-503.proxyvet-lab.test": (
        503, "Service Unavailable", [("Retry-After", "120")],
        "<!DOCTYPE html>\n<html>\n<head><title>503 Service Unavailable</title></head>\n<body>\n"
        "<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your request due to "
        "maintenance downtime or capacity problems. Please try again later.</p>\n</body>\n</html>\n"),
    "origin-blockedpage.proxyvet-lab.test": (
        200, "OK", [],
        "<!DOCTYPE html>\n<html>\n<head><title>This site is blocked</title></head>\n<body>\n"
        "<h1>This site is blocked</h1>\n<p>Access denied. This site is blocked: the page you requested "
        "is not available in your region.</p>\n</body>\n</html>\n"),
}


def log(msg):
    sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class CertFactory:
    """Signs one certificate per SNI name with the origin CA, cached."""

    def __init__(self, ca_cert_path, ca_key_path, cert_dir, expired, default_ip):
        with open(ca_cert_path, "rb") as f:
            self.ca_cert = x509.load_pem_x509_certificate(f.read())
        with open(ca_key_path, "rb") as f:
            self.ca_key = serialization.load_pem_private_key(f.read(), password=None)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.key_pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.cert_dir = cert_dir
        self.expired = expired
        self.default_ip = default_ip
        self.lock = threading.Lock()
        self.contexts = {}
        os.makedirs(cert_dir, exist_ok=True)
        self.default_context = self._make_context(None)

    def _build(self, name):
        now = datetime.datetime.now(datetime.timezone.utc)
        if self.expired:
            not_before, not_after = now - datetime.timedelta(days=30), now - datetime.timedelta(days=2)
        else:
            not_before, not_after = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
        if name is None:
            cn = self.default_ip
            san = [x509.IPAddress(ipaddress.ip_address(self.default_ip)), x509.DNSName("localhost")]
        else:
            cn = name[:64]
            san = [x509.DNSName(name)]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ProxyVet Lab"),
            ]))
            .issuer_name(self.ca_cert.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                           critical=False)
        )
        return builder.sign(self.ca_key, hashes.SHA256())

    def _make_context(self, name):
        cert = self._build(name)
        fname = os.path.join(self.cert_dir, (name or "_default").replace("*", "_wildcard_") + ".pem")
        tmp = fname + ".%d.tmp" % threading.get_ident()
        with open(tmp, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
            f.write(self.ca_cert.public_bytes(serialization.Encoding.PEM))
            f.write(self.key_pem)
        os.replace(tmp, fname)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(fname)
        ctx.sni_callback = self.sni_callback
        return ctx

    def context_for(self, name):
        if name is None:
            return self.default_context
        name = name.lower().rstrip(".")
        if not NAME_RE.match(name):
            return self.default_context
        with self.lock:
            ctx = self.contexts.get(name)
            if ctx is None:
                if len(self.contexts) >= MAX_CACHED_CERTS:
                    self.contexts.clear()
                ctx = self._make_context(name)
                self.contexts[name] = ctx
            return ctx

    def sni_callback(self, sslobj, server_name, _ctx):
        try:
            sslobj.context = self.context_for(server_name)
        except Exception as exc:  # never break the handshake thread silently
            log("sni %r: %s" % (server_name, exc))
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        return None


class OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IO_TIMEOUT
    tls_factory = None  # set on subclasses for TLS listeners
    latency = 0.0  # seconds added before every response (--latency-ms)

    def setup(self):
        self.request.settimeout(IO_TIMEOUT)
        if self.tls_factory is not None:
            self.request = self.tls_factory.default_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def version_string(self):
        return "proxyvet-lab-origin"

    def log_message(self, fmt, *args):
        log("%s %s" % (self.client_address[0], fmt % args))

    def _answer(self, with_body=True):
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= 1 << 20:
            self.rfile.read(length)
        if self.latency > 0:
            time.sleep(self.latency)
        host = self.headers.get("Host", "")
        lookalike = LOOKALIKE_PAGES.get(re.sub(r":[0-9]*$", "", host.strip().lower()).rstrip("."))
        if lookalike is not None:
            status, reason, extra, page = lookalike
            body = page.encode("utf-8")
            self.send_response(status, reason)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            for name, value in extra:
                self.send_header(name, value)
        else:
            body = ("proxyvet lab origin: %s\n" % host).encode("utf-8", "replace")
            self.send_response(200, "OK")
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True

    def do_HEAD(self):
        self._answer(with_body=False)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer


class PacHandler(BaseHTTPRequestHandler):
    """Serves the lab PAC file, read from disk on every request; any other path is 404."""

    protocol_version = "HTTP/1.1"
    timeout = IO_TIMEOUT
    pac_path = None  # set by main()

    def version_string(self):
        return "proxyvet-lab-pac"

    def log_message(self, fmt, *args):
        log("%s %s" % (self.client_address[0], fmt % args))

    def _answer(self, with_body=True):
        path = self.path.split("?", 1)[0]
        body, status, ctype = b"not found\n", 404, "text/plain"
        if path == "/proxy.pac":
            try:
                with open(self.pac_path, "rb") as f:
                    body, status, ctype = f.read(), 200, "application/x-ns-proxy-autoconfig"
            except OSError as exc:
                body, status = ("cannot read the PAC file: %s\n" % exc.strerror).encode(), 500
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        self._answer()

    def do_HEAD(self):
        self._answer(with_body=False)


class HangHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        deadline = time.monotonic() + HANG_SECONDS
        total = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except (socket.timeout, OSError):
                break
            if not data:
                break
            total += len(data)
        log("hang %s:%s read %d bytes, closing" % (self.client_address[0], self.client_address[1], total))


class ResetHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # Wait for the client's first bytes (its TLS ClientHello or request line, at most 5 s), then reset.
        # Resetting at accept time races with a proxy's connect: Squid would sometimes report ERR_CONNECT_FAIL 104
        # and sometimes open the tunnel. Waiting makes it deterministic: the reset comes after the tunnel is up.
        self.request.settimeout(5)
        try:
            self.request.recv(1)
        except (socket.timeout, OSError):
            pass
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def finish(self):
        log("reset %s:%s" % self.client_address[:2])


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        log("%s:%s %s: %s" % (client_address[0], client_address[1], type(exc).__name__, exc))


class ResetServer(Server):
    def shutdown_request(self, request):
        # SO_LINGER 0 is already set: close() now sends an RST. No shutdown() first.
        self.close_request(request)


def serve(server):
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
    t.start()
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", required=True, choices=["origin", "hang", "expired", "reset", "pac"])
    ap.add_argument("--net", required=True, help="first three octets inside 127/8, e.g. 127.0.78")
    ap.add_argument("--dir", required=True, help="lab directory (holds origin-ca.crt/.key)")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="origin role: delay every response by this many ms (default 0)")
    args = ap.parse_args()

    net = ipaddress.ip_address(args.net + ".1")
    if not net.is_loopback:
        sys.exit("origin.py: --net must be inside 127.0.0.0/8")
    host_octet = {"origin": 1, "hang": 3, "expired": 5, "reset": 6, "pac": 1}[args.role]
    ip = "%s.%d" % (args.net, host_octet)
    ports = {"origin": [443, 80], "hang": [443, 80], "expired": [443], "reset": [443, 80], "pac": [8081]}[args.role]

    servers = []
    if args.role in ("origin", "expired"):
        load_crypto()
        factory = CertFactory(
            os.path.join(args.dir, "origin-ca.crt"),
            os.path.join(args.dir, "origin-ca.key"),
            os.path.join(args.dir, "certs", args.role),
            expired=(args.role == "expired"),
            default_ip=ip,
        )
        latency = max(0.0, min(args.latency_ms, 60000.0)) / 1000.0 if args.role == "origin" else 0.0
        tls_handler = type("TLSOriginHandler", (OriginHandler,), {"tls_factory": factory, "latency": latency})
        servers.append(Server((ip, 443), tls_handler))
        if 80 in ports:
            servers.append(Server((ip, 80), type("PlainOriginHandler", (OriginHandler,), {"latency": latency})))
    elif args.role == "pac":
        handler = type("LabPacHandler", (PacHandler,), {"pac_path": os.path.join(args.dir, "proxy.pac")})
        servers.append(Server((ip, 8081), handler))
    elif args.role == "hang":
        for port in ports:
            servers.append(Server((ip, port), HangHandler))
    else:
        for port in ports:
            servers.append(ResetServer((ip, port), ResetHandler))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for s in servers:
        serve(s)
    log("%s listening on %s ports %s (pid %d)" % (args.role, ip, ",".join(map(str, ports)), os.getpid()))
    while not stop.wait(1.0):
        pass
    log("%s stopping" % args.role)
    # Open connections (hang) are daemon threads: exiting the process closes them.
    for s in servers:
        s.server_close()
    os._exit(0)


if __name__ == "__main__":
    main()
