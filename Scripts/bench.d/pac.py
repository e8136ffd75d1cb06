#!/usr/bin/python3
"""PAC benchmark (run by `Scripts/bench --pac`): a corporate-size PAC evaluated by ProxyVet and by pactester.

Generates a list-based PAC of --kb KB (corporate-pac.py: a few thousand shExpMatch/dnsDomainIs rules, 48 sites
chosen by isInNet(myIpAddress(), ...)), then evaluates it for every endpoint of --list at every --client-ips address:

  proxyvet route LIST --pac PAC --client-ip A --client-ip B --format json     one process, one evaluation per site
  pactester -p PAC -f URLS -c A; pactester ... -c B                            one process per site (libpacparser's tool)
  proxyvet check LIST --pac PAC --client-ip A --plan                           the check's planning step, one site

Each run is timed from outside: wall time (monotonic clock) and CPU time (user+sys from wait4), after waiting
(bounded) for an idle machine, the median of --repeat runs. The cost of one FindProxyForURL call is the
difference between evaluating every URL and evaluating one URL, divided by the difference in calls, so process
start, list loading and parsing the PAC cancel out. The answers of both tools are compared URL by URL and site by site.

Nothing is sent anywhere: no probe, no name resolved. Standard library only (and bench.py's measuring helpers).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the same wait-for-idle and wait4 measurement as the probe benchmark)

PACTESTER = "/usr/bin/pactester"


class NoLab:
    """bench.measure reads the lab's CPU around each run; this benchmark starts no lab."""

    def snapshot(self):
        return {}


def measured(cmd, stdout_path, limit):
    with open(stdout_path, "wb") as out:
        run = bench.measure(cmd, NoLab(), limit, stdout=out, sample_rss=False)
    if run.status != 0:
        raise SystemExit("bench: %s exited %d: %s" % (" ".join(cmd[:2]), run.status, run.stderr.strip()[:400]))
    return run


def pactester_answers(path):
    answers = []
    with open(path) as f:
        for line in f:
            url, sep, answer = line.rstrip("\n").partition(" : ")
            if sep:
                answers.append((url, answer))
    return answers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxyvet", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--list", default="AllowLists/managed-desktop.yaml")
    parser.add_argument("--pac-kb", type=int, default=349)
    parser.add_argument("--client-ips", default="10.19.1.2,10.200.4.5",
                        help="comma-separated client addresses (default: a site with local breakout, an address of no site)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quiet-wait", type=int, default=60)
    args = parser.parse_args()
    bench.QUIET_WAIT[0] = args.quiet_wait
    if not os.access(PACTESTER, os.X_OK):
        raise SystemExit("bench: %s is missing (it comes with libpacparser1: run Scripts/bootstrap)" % PACTESTER)
    os.makedirs(args.out, exist_ok=True)
    sites = [s for s in args.client_ips.split(",") if s]
    limit = 900

    pac = os.path.join(args.out, "corporate.pac")
    with open(pac, "wb") as f:
        gen = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "corporate-pac.py"), "--kb", str(args.pac_kb)],
                             stdout=f, stderr=subprocess.PIPE, check=True, timeout=120)
    shape = gen.stderr.decode().strip()
    bench.log(shape)

    site_flags = [x for s in sites for x in ("--client-ip", s)]
    route_json = os.path.join(args.out, "route.json")
    first = measured([args.proxyvet, "route", args.list, "--pac", pac, "--format", "json"] + site_flags, route_json, limit)
    with open(route_json) as f:
        plan = json.load(f)
    urls = [e["url"] for e in plan["endpoints"]]
    url_file = os.path.join(args.out, "urls.txt")
    with open(url_file, "w") as f:
        f.write("".join(u + "\n" for u in urls))
    one_list = os.path.join(args.out, "one-url.txt")
    with open(one_list, "w") as f:
        f.write(urls[0] + "\n")

    samples = {k: [] for k in ["proxyvet", "proxyvet-1", "pactester", "pactester-1", "plan"]}
    samples["proxyvet"].append(first)
    theirs = {}
    for repeat in range(args.repeat):
        bench.log("round %d of %d" % (repeat + 1, args.repeat))
        if repeat > 0:
            samples["proxyvet"].append(measured([args.proxyvet, "route", args.list, "--pac", pac, "--format", "json"] + site_flags,
                                                route_json, limit))
        samples["proxyvet-1"].append(measured([args.proxyvet, "route", one_list, "--pac", pac, "--format", "json"] + site_flags,
                                              os.path.join(args.out, "route-1.json"), limit))
        # pactester evaluates one client address per process: one run per site, times added up.
        runs, runs1 = [], []
        for site in sites:
            out = os.path.join(args.out, "pactester-%s.txt" % site)
            runs.append(measured([PACTESTER, "-p", pac, "-f", url_file, "-c", site], out, limit))
            theirs[site] = pactester_answers(out)
            runs1.append(measured([PACTESTER, "-p", pac, "-f", one_list, "-c", site], os.path.join(args.out, "pactester-1.txt"), limit))
        samples["pactester"].append(bench.Measured(wall=sum(r.wall for r in runs), cpu=sum(r.cpu for r in runs),
                                                   machine_busy=statistics.mean(r.machine_busy for r in runs)))
        samples["pactester-1"].append(bench.Measured(wall=sum(r.wall for r in runs1), cpu=sum(r.cpu for r in runs1),
                                                     machine_busy=statistics.mean(r.machine_busy for r in runs1)))
        samples["plan"].append(measured([args.proxyvet, "check", args.list, "--pac", pac, "--client-ip", sites[0], "--plan"],
                                        os.path.join(args.out, "plan.txt"), limit))

    # Agreement, URL by URL and site by site.
    agree, differ = 0, []
    for index, site in enumerate(sites):
        mine = [(e["url"], e["sites"][index]["answer"]) for e in plan["endpoints"]]
        if len(theirs.get(site, [])) != len(mine):
            differ.append("%s: pactester gave %d answers for %d URLs" % (site, len(theirs.get(site, [])), len(mine)))
        for (url, answer), (their_url, their_answer) in zip(mine, theirs.get(site, [])):
            if url == their_url and answer == their_answer:
                agree += 1
            else:
                differ.append("%s %s: proxyvet %r, pactester %r" % (site, url, answer, their_answer))

    def med(key, field):
        return statistics.median(getattr(s, field) for s in samples[key])

    calls = len(urls) * len(sites)
    result = {
        "pac": {"bytes": os.path.getsize(pac), "shape": shape},
        "list": args.list, "urls": len(urls), "sites": sites, "calls": calls, "repeat": args.repeat,
        "agreement": {"same": agree, "compared": calls, "differences": differ[:20]},
        "distinctAnswers": [len({e["sites"][i]["answer"] for e in plan["endpoints"]}) for i in range(len(sites))],
    }
    rows = []
    for tool, full, one, calls1 in [("proxyvet route", "proxyvet", "proxyvet-1", len(sites)),
                                    ("pactester", "pactester", "pactester-1", len(sites))]:
        wall, cpu, cpu1, busy = med(full, "wall"), med(full, "cpu"), med(one, "cpu"), med(full, "machine_busy")
        per_call = (cpu - cpu1) / (calls - calls1) * 1000
        result[tool] = {"wallSeconds": wall, "cpuSeconds": cpu, "oneURLCpuSeconds": cpu1, "perCallCpuMs": per_call,
                        "machineBusy": busy}
        rows.append("| %s (%d URLs × %d sites) | %.2f | %.2f | %.2f | %.1f | %d%% |"
                    % (tool, len(urls), len(sites), wall, cpu, cpu1, per_call, round(busy * 100)))
    result["check --plan"] = {"wallSeconds": med("plan", "wall"), "cpuSeconds": med("plan", "cpu"), "machineBusy": med("plan", "machine_busy")}
    rows.append("| proxyvet check --plan (%d URLs × 1 site) | %.2f | %.2f | | | %d%% |"
                % (len(urls), med("plan", "wall"), med("plan", "cpu"), round(med("plan", "machine_busy") * 100)))

    table = "\n".join([
        "PAC: %s" % shape,
        "List: %s, %d URLs; sites (myIpAddress): %s; %d calls per tool; median of %d runs" % (args.list, len(urls), ", ".join(sites), calls, args.repeat),
        "",
        "| Tool | Wall s | CPU s | CPU s, one URL | CPU ms per call | Machine busy |",
        "|---|---:|---:|---:|---:|---:|",
    ] + rows + [
        "",
        "Answers: %d of %d (URL, site) pairs identical%s" % (agree, calls, "" if not differ else "; differences: " + "; ".join(differ[:5])),
    ])
    print(table)
    with open(os.path.join(args.out, "pac-bench.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "pac-bench.json"), "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    if differ:
        sys.exit(1)


if __name__ == "__main__":
    main()
