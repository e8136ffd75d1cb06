"""mitmproxy addon: the ProxyVet lab's content filter (route `filter`, N.1:8082; Scripts/lab/products/mitmproxy.sh).

Requests for filtered.proxyvet-lab.test and every name under it are answered by the filter itself with a block
page served as a success: status 200 with an EMPTY reason phrase ("HTTP/1.1 200 " then headers), headers of its
own (no Server, no Via) and <title>Content blocked</title>. Such requests never reach the upstream proxy. Every
other request passes to the upstream proxy (edge) untouched.

Loaded by mitmdump with `-s`; standard library and mitmproxy only.
"""

import email.utils
import html
import logging

from mitmproxy import http

FILTERED_DOMAIN = "filtered.proxyvet-lab.test"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Content blocked</title>
</head>
<body>
<h1>Content blocked</h1>
<p>Access to this page has been blocked by your organisation's web content policy.</p>
<p>URL: {url}</p>
<p>Category: ProxyVet lab filtered content</p>
</body>
</html>
"""


def is_filtered(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == FILTERED_DOMAIN or host.endswith("." + FILTERED_DOMAIN)


class ContentFilter:
    def request(self, flow: http.HTTPFlow) -> None:
        if not is_filtered(flow.request.pretty_host):
            return
        body = PAGE.format(url=html.escape(flow.request.pretty_url)).encode("utf-8")
        flow.response = http.Response.make(
            200,
            body,
            {
                "Date": email.utils.formatdate(usegmt=True),
                "Content-Type": "text/html; charset=utf-8",
                "Content-Length": str(len(body)),
                "Cache-Control": "no-store, no-cache, must-revalidate",
                "Pragma": "no-cache",
                "X-Frame-Options": "SAMEORIGIN",
                "Connection": "close",
            },
        )
        # The reason phrase stays empty: the status line is "HTTP/1.1 200 " (status code, one space, nothing).
        flow.response.reason = ""
        logging.info("content filter: blocked %s", flow.request.pretty_url)


addons = [ContentFilter()]
