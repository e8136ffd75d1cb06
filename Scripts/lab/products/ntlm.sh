# Lab product: a Squid that requires NTLM proxy authentication (Squid's ntlm_fake_auth helper).
# Sourced by Scripts/lab/lab (see the lab README, "Product: ntlm").
#
#   N.1:3141  ntlm  NTLM only (`Proxy-Authenticate: NTLM`), proxy_auth REQUIRED, goes direct, no domain rules;
#                   ntlm_fake_auth accepts any user and password (it checks nothing), so there is no
#                   "wrong credentials" case here. Routes: ntlm (DIR/ntlm/ntlm.cred) and ntlm-none.
#
# NTLM authenticates the connection, not the request: after the three-leg handshake the access log names the
# user for every request on that connection.

PRODUCTS+=(ntlm)

NTLM_FAKE_AUTH="${NTLM_FAKE_AUTH:-/usr/lib/squid/ntlm_fake_auth}"

ntlm_tools() { echo "$SQUID $NTLM_FAKE_AUTH"; }

ntlm_ports() { echo "$N.1:3141"; }

ntlm_prepare() {
    local d="$DIR/ntlm" pw
    mkdir -p "$d" || return 1
    rm -f "$d/access.log" "$d/cache.log" "$d/squid.out" "$d/ntlm.cred"

    # The helper accepts anything; the route still sends a user and a fresh random password (never printed).
    pw="$(openssl rand -hex 12)" || return 1
    (umask 077; printf 'probe:%s\n' "$pw" >"$d/ntlm.cred") || return 1
    unset pw
    chmod 600 "$d/ntlm.cred"

    # The helper ignores arguments it does not know: DIR on its command line lets `lab stop` (pid_is_ours) and
    # `pgrep -f DIR` recognise a helper left behind.
    { squid_common ntlm "http_port $N.1:3141"
      cat <<EOF
auth_param ntlm program $NTLM_FAKE_AUTH $d
auth_param ntlm children 5 startup=1 idle=1
auth_param ntlm keep_alive on
EOF
      auth_rules
    } >"$d/squid.conf" || return 1
    chown "$PROXY_USER:$PROXY_USER" "$d" "$d/squid.conf"
}

ntlm_start() {
    start_squid ntlm:3141
    PRODUCT_SERVICES="$PRODUCT_SERVICES ntlm"
}

ntlm_proxies() {
    echo "\"ntlm\": \"http://$N.1:3141\""
    echo "\"ntlm-none\": \"http://$N.1:3141\""
}

ntlm_json() {
    echo "\"ntlm\": { \"credentials\": \"$DIR/ntlm/ntlm.cred\", \"user\": \"probe\", \"accessLog\": \"$DIR/ntlm/access.log\" },"
}

ntlm_config() {
    echo "  ntlm:        { url: \"http://$N.1:3141\", credentials: { file: \"$DIR/ntlm/ntlm.cred\" }, via: proxyvet-lab-ntlm }"
    echo "  ntlm-none:   { url: \"http://$N.1:3141\", via: proxyvet-lab-ntlm }"
}
