# Lab product: a branch Squid whose only parent is down (issue: a down parent must not read as a DNS failure).
# Sourced by Scripts/lab/lab (see the lab README, "Product: orphan").
#
#   N.1:3147  orphan  Squid chained to N.1:3139 (`dead`: nothing listens) with never_direct: every request that
#                     passes its rules ends in Squid's "cannot forward" error, written by orphan itself.
#                     Route: orphan, upstream dead.

PRODUCTS+=(orphan)

orphan_tools() { echo "$SQUID"; }

orphan_ports() { echo "$N.1:3147"; }

orphan_prepare() {
    local d="$DIR/orphan"
    mkdir -p "$d" || return 1
    rm -f "$d/access.log" "$d/cache.log" "$d/squid.out"
    { squid_common orphan "http_port $N.1:3147"
      chained_rules dead 3139
    } >"$d/squid.conf" || return 1
    chown "$PROXY_USER:$PROXY_USER" "$d" "$d/squid.conf"
}

orphan_start() {
    start_squid orphan:3147
    PRODUCT_SERVICES="$PRODUCT_SERVICES orphan"
}

orphan_proxies() { echo "\"orphan\": \"http://$N.1:3147\""; }

orphan_json() { echo "\"orphan\": { \"accessLog\": \"$DIR/orphan/access.log\", \"parent\": \"dead\" },"; }

orphan_config() { echo "  orphan:      { url: \"http://$N.1:3147\", upstream: dead, via: proxyvet-lab-orphan }"; }
