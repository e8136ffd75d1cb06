# Lab product: an inspecting Squid whose bump port accepts only TLS 1.3 clients.
# Sourced by Scripts/lab/lab (see the lab README, "Product: tls13").
#
#   N.1:3146  inspect-tls13  ssl-bump exactly like inspect (the lab inspection CA, the same splices, denies
#                            .blocked.), its own ssl_db, goes direct; the bump port has `tls-min-version=1.3`, so a
#                            client that offers at most TLS 1.2 gets alert "protocol version". Route: inspect-tls13.
#
# Spliced names (.splice.proxyvet-lab.test, .windowsupdate.com, .update.microsoft.com) are not terminated by Squid:
# the client's handshake reaches the origin, which accepts TLS 1.2.

PRODUCTS+=(tls13)

tls13_tools() { echo "$SQUID $CERTGEN"; }

tls13_ports() { echo "$N.1:3146"; }

tls13_prepare() {
    local d="$DIR/inspect-tls13"
    mkdir -p "$d" || return 1
    rm -rf "$d/ssl_db"
    rm -f "$d/access.log" "$d/cache.log" "$d/squid.out" "$d/certgen-init.out"
    "$CERTGEN" -c -s "$(ssl_db_of inspect-tls13)" -M 64MB >"$d/certgen-init.out" 2>&1 ||
        { say "security_file_certgen -c failed (inspect-tls13)"; cat "$d/certgen-init.out" >&2; return 1; }
    # squid -k parse calls tls-min-version=1.3 an "Unknown TLS option" (Squid 5.7) but applies it.
    { squid_common inspect-tls13 "$(bump_port 3146) tls-min-version=1.3"
      bump_rules inspect-tls13
    } >"$d/squid.conf" || return 1
    chown -R "$PROXY_USER:$PROXY_USER" "$d"
}

tls13_start() {
    start_squid inspect-tls13:3146
    PRODUCT_SERVICES="$PRODUCT_SERVICES inspect-tls13"
}

tls13_proxies() {
    echo "\"inspect-tls13\": \"http://$N.1:3146\""
}

tls13_json() {
    echo "\"inspectTLS13\": { \"accessLog\": \"$DIR/inspect-tls13/access.log\", \"minVersion\": \"TLSv1.3\" },"
}

tls13_config() {
    echo "  inspect-tls13: { url: \"http://$N.1:3146\", via: proxyvet-lab-inspect-tls13 }"
}
