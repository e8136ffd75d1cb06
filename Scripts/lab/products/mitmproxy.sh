# Lab product: mitmproxy (PyPI, in a virtual environment of its own), twice, both chained to the edge Squid.
# Sourced by Scripts/lab/lab (see the lab README, "Product: mitmproxy" and "Product: filter").
#
#   N.1:8080  mitm    mitmdump in upstream mode: intercepts every CONNECT with its own CA (DIR/mitmproxy/
#                     mitmproxy-ca-cert.pem, CN=mitmproxy), sends everything on to edge (N.1:3128)
#   N.1:8082  filter  mitmdump in upstream mode with the addon mitm_filter.py: names under
#                     .filtered.proxyvet-lab.test get a block page served as "HTTP/1.1 200 " (empty reason
#                     phrase); only those are intercepted (allow_hosts, CA in DIR/filter/), everything else is
#                     passed to edge untouched (CONNECT as a plain tunnel: the filter answers 200 first, so a
#                     CONNECT edge refuses shows as 200, then the connection closed after the ClientHello)
#
# The virtual environment is made with Debian's python3 -m venv (never pip into the system) in
# .build-lab/mitmproxy-venv at the top of the repository (git-ignored, outside DIR), on the first start only,
# and reused afterwards; MITM_VENV overrides the place. Each mitmdump makes its CA in its confdir as it starts
# (fresh each lab start: the confdirs are emptied); start waits (bounded) for both CA files.

PRODUCTS+=(mitmproxy)

MITM_VERSION="11.0.2"   # the last release for Python 3.11 (Debian 12): 11.1 and later require 3.12
MITM_VENV="${MITM_VENV:-$(cd "$HERE/../.." && pwd)/.build-lab/mitmproxy-venv}"
MITM_INSTALL_SECONDS=900    # bound for venv + pip install on a fresh machine
MITM_CA_TRIES=150           # x 0.1 s: how long start waits for the two CA files
MITM_FILTERED_DOMAIN=".filtered.proxyvet-lab.test"

mitmproxy_tools() { echo "$PYTHON flock timeout"; }

mitmproxy_ports() { echo "$N.1:8080 $N.1:8082"; }

# mitmproxy_venv: the venv with mitmproxy $MITM_VERSION, made once. The marker, written after a verified
# install, holds the venv's path: it tells a complete venv from one an interrupted start left behind, and one
# made for another place (a venv is not relocatable: its scripts name their python by absolute path). A lock keeps
# two labs starting at once from installing into the same place.
mitmproxy_venv_ok() {
    local marker="$MITM_VENV/.proxyvet-mitmproxy-$MITM_VERSION"
    [ -f "$marker" ] && [ "$(cat "$marker" 2>/dev/null)" = "$MITM_VENV" ] && [ -x "$MITM_VENV/bin/mitmdump" ]
}

mitmproxy_venv() {
    local log="$DIR/mitmproxy/venv-install.log"
    mitmproxy_venv_ok && return 0
    mkdir -p "$(dirname "$MITM_VENV")" || return 1
    (
        flock -w "$MITM_INSTALL_SECONDS" 9 || { say "mitmproxy: timed out waiting for another install of $MITM_VENV"; exit 1; }
        mitmproxy_venv_ok && exit 0
        say "mitmproxy: installing mitmproxy $MITM_VERSION from PyPI into $MITM_VENV (first start only; log $log)"
        rm -rf "$MITM_VENV"
        timeout "$MITM_INSTALL_SECONDS" "$PYTHON" -m venv "$MITM_VENV" >"$log" 2>&1 &&
            timeout "$MITM_INSTALL_SECONDS" "$MITM_VENV/bin/pip" install --disable-pip-version-check --no-input \
                "mitmproxy==$MITM_VERSION" >>"$log" 2>&1 &&
            timeout 60 "$MITM_VENV/bin/mitmdump" --version >>"$log" 2>&1 ||
            { say "mitmproxy: installing into $MITM_VENV failed (needs python3-venv and PyPI); tail of $log:"
              tail -n 15 "$log" >&2; exit 1; }
        printf '%s' "$MITM_VENV" >"$MITM_VENV/.proxyvet-mitmproxy-$MITM_VERSION"
    ) 9>>"$(dirname "$MITM_VENV")/mitmproxy-venv.lock"
}

mitmproxy_prepare() {
    local d
    for d in "$DIR/mitmproxy" "$DIR/filter"; do
        mkdir -p "$d" || return 1
        # A fresh CA per start, like the lab's own CAs.
        rm -f "$d"/mitmproxy-ca* "$d"/mitmproxy-dhparam.pem "$d/mitmdump.out"
        chmod 755 "$d"   # the CA certificates are for the tests to read; mitmproxy keeps its keys 600
    done
    mitmproxy_venv
}

mitmproxy_start() {
    local dump="$MITM_VENV/bin/mitmdump" i
    # --set confdir=DIR/...: every command line names the lab dir (stop checks it before signalling).
    spawn mitm "$DIR/mitmproxy/mitmdump.out" "$dump" --mode "upstream:http://$N.1:3128" \
        --listen-host "$N.1" --listen-port 8080 --set "confdir=$DIR/mitmproxy" \
        --set "ssl_verify_upstream_trusted_ca=$DIR/origin-ca.crt"
    SVC_READY[mitm]="$N.1:8080"
    # http2=false: the block page's status line is HTTP/1.1 inside TLS too (HTTP/2 has no reason phrase).
    # connection_strategy=lazy, upstream_cert=false: the certificate for a filtered name is made from the SNI, so a
    # blocked request never reaches edge (no line in edge's access log); other names still connect at once.
    spawn filter "$DIR/filter/mitmdump.out" "$dump" --mode "upstream:http://$N.1:3128" \
        --listen-host "$N.1" --listen-port 8082 --set "confdir=$DIR/filter" \
        --set "ssl_verify_upstream_trusted_ca=$DIR/origin-ca.crt" \
        --set "allow_hosts=(^|\\.)filtered\\.proxyvet-lab\\.test:[0-9]+\$" --set http2=false \
        --set connection_strategy=lazy --set upstream_cert=false \
        -s "$HERE/products/mitm_filter.py"
    SVC_READY[filter]="$N.1:8082"
    PRODUCT_SERVICES="$PRODUCT_SERVICES mitm filter"
    # Each mitmdump writes its CA while it loads its options, before it listens; wait for both (bounded).
    for ((i = 0; i < MITM_CA_TRIES; i++)); do
        [ -s "$DIR/mitmproxy/mitmproxy-ca-cert.pem" ] && [ -s "$DIR/filter/mitmproxy-ca-cert.pem" ] && return 0
        alive "${SVC_PID[mitm]}" && alive "${SVC_PID[filter]}" || return 1
        sleep 0.1
    done
    say "mitmproxy: no CA in $DIR/mitmproxy or $DIR/filter after $((MITM_CA_TRIES / 10)) s"
    return 1
}

mitmproxy_proxies() {
    echo "\"mitm\": \"http://$N.1:8080\""
    echo "\"filter\": \"http://$N.1:8082\""
}

mitmproxy_json() {
    echo "\"mitmproxy\": { \"ca\": \"$DIR/mitmproxy/mitmproxy-ca-cert.pem\", \"caName\": \"mitmproxy\", \"log\": \"$DIR/mitmproxy/mitmdump.out\", \"version\": \"$MITM_VERSION\" },"
    echo "\"filter\": { \"ca\": \"$DIR/filter/mitmproxy-ca-cert.pem\", \"caName\": \"mitmproxy\", \"log\": \"$DIR/filter/mitmdump.out\", \"filteredDomain\": \"$MITM_FILTERED_DOMAIN\", \"blockTitle\": \"Content blocked\" },"
}

mitmproxy_config() {
    echo "  mitm:        { url: \"http://$N.1:8080\", upstream: edge }"
    echo "  filter:      { url: \"http://$N.1:8082\", upstream: edge }"
}
