// Test fixture: a corporate-style PAC whose answers depend on the site (myIpAddress()), for the comparison of
// ProxyVet's answers with pactester's. No dnsResolve or isResolvable, and isInNet only on addresses: nothing here
// may use a resolver.
var bypass = [".intranet.corp.test", ".local.corp.test", "login.corp.test"];

function isAddress(host) {
    return /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

function FindProxyForURL(url, host) {
    host = host.toLowerCase();
    if (isPlainHostName(host) || localHostOrDomainIs(host, "localhost")) return "DIRECT";
    if (isAddress(host) && isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
    for (var i = 0; i < bypass.length; i++) {
        if (dnsDomainIs(host, bypass[i])) return "DIRECT";
    }
    var branch = isInNet(myIpAddress(), "10.20.0.0", "255.255.0.0");
    // Microsoft 365 Optimize traffic leaves the branch office directly; elsewhere it takes the edge pair.
    if (shExpMatch(host, "*.teams.microsoft.com") || dnsDomainIs(host, ".lync.com") || host == "outlook.office365.com") {
        return branch ? "DIRECT" : "PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128";
    }
    // Device management is never inspected.
    if (host == "manage.microsoft.com" || dnsDomainIs(host, ".manage.microsoft.com") || dnsDomainIs(host, ".dm.microsoft.com")) {
        return "PROXY noinspect.corp.test:8080";
    }
    if (shExpMatch(host, "*.windowsupdate.com") || shExpMatch(host, "*.delivery.mp.microsoft.com") || dnsDomainIs(host, ".do.dsp.mp.microsoft.com")) {
        return branch ? "PROXY cache.branch.corp.test:8080; PROXY edge.corp.test:3128" : "PROXY cache.corp.test:8080; PROXY edge.corp.test:3128";
    }
    if (shExpMatch(url, "http:*")) return branch ? "PROXY branch.corp.test:3128; DIRECT" : "PROXY edge.corp.test:3128";
    if (shExpMatch(url, "https://*:*/*")) return "HTTPS secure.corp.test:8443";
    if (dnsDomainLevels(host) > 4) return "SOCKS socks.corp.test:1080";
    if (branch) return "PROXY branch.corp.test:3128; PROXY edge.corp.test:3128";
    return "PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128";
}
