#!/usr/bin/env python3
"""ProxyVet benchmark driver (run by Scripts/bench, which builds ProxyVet and starts the lab).

Probes the same (route, URL) pairs with three tools and measures each from the outside:

  proxyvet    the release build, one process, --concurrency C --per-proxy C/ROUTES
  xargs-curl  `xargs -P C -L 1 curl ...`: one curl process per probe, C at a time (no per-proxy cap)
  seq-curl    a shell loop of curl over a sample of S pairs, one after the other, extrapolated to all pairs

Wall time (monotonic clock), CPU time (user+sys of the process and every descendant it waited for, from
wait4), peak RSS (ru_maxrss: the largest single process; and the sampled sum over the process tree), the
CPU the lab spent meanwhile (every lab process and its helpers, from /proc) and how busy the machine was.

The critical-path bound is the slowest single probe + pairs / C x round trip, where the round trip is the
median time of one probe on an idle lab (measured by the sequential loop, per route, then averaged over
the routes) and the slowest probe is the timeout when some names never answer.

Standard library only. Loopback only: every address comes from the lab's lab.json.
"""

import argparse
import json
import math
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# --- /proc -------------------------------------------------------------------------------------------

def proc_table():
    """{pid: (ppid, cpu_ticks_self+reaped_children, rss_bytes, cpu_ticks_self)} for every process we can read."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # Field 2 (comm) may hold spaces and parentheses: split after its closing parenthesis.
        rest = stat[stat.rfind(")") + 2:].split()
        try:
            ppid = int(rest[1])
            ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
            rss = int(rest[21]) * PAGE
            own = int(rest[11]) + int(rest[12])
        except (IndexError, ValueError):
            continue
        table[int(name)] = (ppid, ticks, rss, own)
    return table


def descendants(table, roots):
    children = {}
    for pid, (ppid, _, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    seen, stack = set(), [r for r in roots if r in table]
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend(children.get(pid, []))
    return seen


def tree_cpu_seconds(table, roots):
    """CPU of the trees under roots: each live process's own time plus what it reaped (no double count)."""
    return sum(table[p][1] for p in descendants(table, roots)) / TICK


def machine_cpu():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


class LabCPU:
    """CPU seconds spent by the lab's processes between two snapshots: per service, its main process and its
    helpers (Squid's certificate generator, ...) apart, because a Squid's main process is single-threaded."""

    def __init__(self, pids_file, services):
        self.roots = {}
        with open(pids_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit():
                    self.roots[parts[0]] = int(parts[1])
        self.services = [s for s in services if s in self.roots]

    def snapshot(self):
        table = proc_table()
        per = {}
        for s in self.services:
            root = self.roots[s]
            tree = tree_cpu_seconds(table, [root])
            own = table[root][3] / TICK if root in table else 0.0
            per[s] = own
            per[s + " helpers"] = tree - own
        per["all"] = tree_cpu_seconds(table, list(self.roots.values()))
        return per

    @staticmethod
    def delta(before, after):
        return {k: max(0.0, after[k] - before.get(k, 0.0)) for k in after}


def wait_quiet(max_wait, busy_limit=0.25):
    """Waits (at most max_wait s) until the machine is nearly idle for a second; returns the last busy share.

    Other work on the machine (builds, tests) takes CPU from the lab and the tools; the table reports what remained."""
    deadline = time.monotonic() + max_wait
    busy = 1.0
    while True:
        b0, t0 = machine_cpu()
        time.sleep(1.0)
        b1, t1 = machine_cpu()
        busy = (b1 - b0) / max(1, t1 - t0)
        if busy <= busy_limit or time.monotonic() >= deadline:
            return busy


# --- measuring one run -------------------------------------------------------------------------------

class Measured:
    def __init__(self, **kw):
        self.__dict__.update(kw)


QUIET_WAIT = [60]


def measure(cmd, lab_cpu, limit, stdin=None, stdout=None, sample_rss=True, env=None):
    """Runs cmd in its own session; returns wall, CPU, RSS, lab CPU, machine busy share, exit status.

    Waits first (bounded) for a quiet machine. The whole run is bounded by `limit` seconds: after that its
    process group is killed."""
    idle_busy = wait_quiet(QUIET_WAIT[0]) if QUIET_WAIT[0] > 0 else None
    lab_before = lab_cpu.snapshot()
    busy0, total0 = machine_cpu()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout if stdout is not None else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True, env=env)
    peak_tree = [0]
    stop = threading.Event()

    def sampler():
        while not stop.wait(0.25):
            table = proc_table()
            rss = sum(table[p][2] for p in descendants(table, [proc.pid]))
            peak_tree[0] = max(peak_tree[0], rss)

    def watchdog():
        if not stop.wait(limit):
            log("run exceeded %d s, killing it: %s" % (limit, " ".join(cmd[:3])))
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

    threads = [threading.Thread(target=watchdog, daemon=True)]
    if sample_rss:
        threads.append(threading.Thread(target=sampler, daemon=True))
    for t in threads:
        t.start()
    err_chunks = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    stop.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    for t in threads:
        t.join(5)
    busy1, total1 = machine_cpu()
    lab_after = lab_cpu.snapshot()
    stderr = (err_chunks[0] if err_chunks else b"").decode("utf-8", "replace")
    return Measured(
        wall=wall, user=usage.ru_utime, sys=usage.ru_stime, cpu=usage.ru_utime + usage.ru_stime,
        maxrss=usage.ru_maxrss * 1024, tree_rss=max(peak_tree[0], usage.ru_maxrss * 1024),
        vcsw=usage.ru_nvcsw, ivcsw=usage.ru_nivcsw, minflt=usage.ru_minflt,
        lab=LabCPU.delta(lab_before, lab_after),
        machine_busy=(busy1 - busy0) / max(1, total1 - total0), busy_before=idle_busy,
        status=proc.returncode, stderr=stderr)


# --- the workload ------------------------------------------------------------------------------------

def make_names(count, silent_percent, offset=0):
    """count host names; every (100 / silent_percent)-th one is under silent.bench (never answers)."""
    names = []
    stride = round(100 / silent_percent) if silent_percent > 0 else 0
    for i in range(offset, offset + count):
        if stride and i % stride == stride // 2:
            names.append("h%05d.silent.bench.proxyvet-lab.test" % i)
        else:
            names.append("h%05d.bench.proxyvet-lab.test" % i)
    return names


def count_pem(path):
    with open(path) as f:
        return sum(1 for line in f if line.startswith("-----BEGIN CERTIFICATE"))


def is_silent(url):
    return ".silent.bench." in url


def curl_base(timeout, connect_timeout, ca):
    return ["curl", "-s", "-o", "/dev/null", "--http1.1", "--max-time", fmt_s(timeout),
            "--connect-timeout", fmt_s(connect_timeout), "--cacert", ca,
            "-w", "%{exitcode} %{http_connect} %{http_code} %{time_total}\\n", "--proxy"]


def fmt_s(x):
    return ("%.3f" % x).rstrip("0").rstrip(".")


def curl_outcomes(path):
    """Counts of curl outcomes (exit code / CONNECT / HTTP status) and the per-line results."""
    counts, lines = {}, []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            key = "rc%s C%s H%s" % (parts[0], parts[1], parts[2])
            counts[key] = counts.get(key, 0) + 1
            lines.append((int(parts[0]), float(parts[3])))
    return counts, lines


def proxyvet_outcomes(report_path):
    with open(report_path) as f:
        report = json.load(f)
    # Schema 3 keeps each result under its target; schema 2 had one flat list.
    results = [r for t in report.get("targets", []) for r in t.get("results", [])] or report.get("results", [])
    verdicts = report.get("summary", {}).get("verdicts", {})
    per_route = {}
    for r in results:
        t = r.get("timings", {}).get("total", 0.0)
        per_route.setdefault(r["route"], []).append(t)
    return verdicts, per_route, len(results)


# --- the bench ---------------------------------------------------------------------------------------

class AccessLogs:
    """Connections each proxy logged itself (Squid access.log: one CONNECT line per tunnel it opened or refused), counted
    from the far side: what a probe run costs the proxies, independent of what the tool says it sent."""

    def __init__(self, lab, routes):
        logs = lab.get("accessLogs", {})
        self.paths = {r: logs[r] for r in routes if r in logs and logs[r].endswith("access.log")}

    def offsets(self):
        return {r: os.path.getsize(p) if os.path.exists(p) else 0 for r, p in self.paths.items()}

    def connects_since(self, offsets, marker=".bench.proxyvet-lab.test:"):
        """CONNECT lines for the bench's names written since `offsets`, per route (Squid writes a line when the
        connection ends; the caller waits a moment after the run)."""
        counts = {}
        for r, p in self.paths.items():
            n = 0
            with open(p, "rb") as f:
                f.seek(offsets.get(r, 0))
                for line in f:
                    fields = line.split()
                    if len(fields) > 6 and fields[5] == b"CONNECT" and marker.encode() in fields[6]:
                        n += 1
            counts[r] = n
        return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lab", required=True, help="the lab's lab.json")
    ap.add_argument("--proxyvet", required=True, help="the release proxyvet binary")
    ap.add_argument("--out", required=True, help="folder for lists, reports and results")
    ap.add_argument("--names", type=int, default=2000)
    ap.add_argument("--silent-percent", type=float, default=1.0)
    ap.add_argument("--routes", default="edge,branch,inspect")
    ap.add_argument("--concurrency", type=int, default=48)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--sample", type=int, default=100)
    ap.add_argument("--big", type=int, default=10000, help="probes of the ProxyVet-only memory run (0: skip)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of ProxyVet and xargs-curl; the median wall is kept")
    ap.add_argument("--perf", choices=["auto", "on", "off"], default="auto",
                    help="an extra ProxyVet run under perf stat + perf record (where its CPU goes)")
    ap.add_argument("--quiet-wait", type=int, default=60,
                    help="before each measured run, wait up to this many seconds for the machine to be idle")
    args = ap.parse_args()
    QUIET_WAIT[0] = max(0, args.quiet_wait)

    with open(args.lab) as f:
        lab = json.load(f)
    routes = [r for r in args.routes.split(",") if r]
    for r in routes:
        if r not in lab["proxies"]:
            sys.exit("bench: unknown lab route %s" % r)
    C = args.concurrency
    per_proxy = max(1, C // len(routes))
    T = args.timeout
    CT = min(5.0, T)
    ca = lab["originCA"]
    out = args.out
    os.makedirs(out, exist_ok=True)
    lab_cpu = LabCPU(lab["pids"], ["origin", "hang", "dns"] + routes + (["edge"] if "branch" in routes and "edge" not in routes else []))

    names = make_names(args.names, args.silent_percent)
    list_path = os.path.join(out, "targets.txt")
    with open(list_path, "w") as f:
        f.write("# Scripts/bench targets: %d names, %g%% never answer\n" % (len(names), args.silent_percent))
        f.write("\n".join(names) + "\n")
    pairs = [(lab["proxies"][r], "https://%s/" % n) for n in names for r in routes]
    P = len(pairs)
    silent_pairs = sum(1 for _, u in pairs if is_silent(u))
    pairs_path = os.path.join(out, "pairs.txt")
    with open(pairs_path, "w") as f:
        f.writelines("%s %s\n" % p for p in pairs)

    def proxyvet_cmd(list_file, outdir, concurrency=C, pp=per_proxy, ca_bundle=ca):
        cmd = [args.proxyvet, "check", list_file]
        for r in routes:
            cmd += ["--proxy", "%s=%s" % (r, lab["proxies"][r])]
        return cmd + ["--ca-bundle", ca_bundle, "--timeout", fmt_s(T), "--connect-timeout", fmt_s(CT),
                      "--concurrency", str(concurrency), "--per-proxy", str(pp),
                      "--format", "json", "--output", outdir, "--quiet"]

    limit = int(P * (T + 1) / C + 300)

    # Warm-up (not measured): every non-silent pair once, so the origin's and the inspecting Squid's certificate
    # caches and Squid's DNS caches are as warm for every tool as for the next.
    warm_list = os.path.join(out, "warm.txt")
    with open(warm_list, "w") as f:
        f.write("\n".join(n for n in names if ".silent." not in n) + "\n")
    log("warm-up: %d names x %d routes through ProxyVet (not measured)" % (len(names) - silent_pairs // len(routes), len(routes)))
    w = measure(proxyvet_cmd(warm_list, os.path.join(out, "warm-report")), lab_cpu, limit, sample_rss=False)
    log("warm-up took %.1f s (exit %d)" % (w.wall, w.status))

    # Sequential sample: S pairs, the silent share kept, routes round-robin; gives the idle round trip too.
    S = min(args.sample, P)
    silent_names = [n for n in names if ".silent." in n]
    loud_names = [n for n in names if ".silent." not in n]
    s_silent = min(len(silent_names), round(S * silent_pairs / P)) if silent_pairs else 0
    sample = []
    for j in range(S - s_silent):
        sample.append((lab["proxies"][routes[j % len(routes)]], "https://%s/" % loud_names[(j * len(loud_names)) // max(1, S - s_silent)]))
    for j in range(s_silent):
        sample.append((lab["proxies"][routes[j % len(routes)]], "https://%s/" % silent_names[j % len(silent_names)]))
    sample_path = os.path.join(out, "sample.txt")
    with open(sample_path, "w") as f:
        f.writelines("%s %s\n" % p for p in sample)
    seq_script = ('while read -r proxy url; do %s "$proxy" "$url"; done <%s'
                  % (" ".join(shlex.quote(a) for a in curl_base(T, CT, ca)), shlex.quote(sample_path)))
    log("sequential curl loop: %d pairs (%d silent)" % (S, s_silent))
    seq_out = os.path.join(out, "seq-curl.out")
    with open(seq_out, "w") as so:
        seq = measure(["bash", "-c", seq_script], lab_cpu, int(S * (T + 2) + 60), stdout=so)
    seq_counts, seq_lines = curl_outcomes(seq_out)
    rtt_by_route = {}
    for (proxy, url), (rc, t) in zip(sample, seq_lines):
        if not is_silent(url):
            rtt_by_route.setdefault(proxy, []).append(t)
    route_of = {lab["proxies"][r]: r for r in routes}
    rtt_median = {route_of[p]: statistics.median(v) for p, v in rtt_by_route.items()}
    rtt = statistics.mean(rtt_median.values())
    slowest = max([t for _, t in seq_lines] + ([T] if silent_pairs else []))
    bound = slowest + P / C * rtt
    # Slot time: what C slots must spend at least (every probe at its idle time, silent ones the timeout).
    slot_bound = max(slowest, ((P - silent_pairs) * rtt + silent_pairs * T) / C)

    # ProxyVet and xargs-curl, alternating, each `repeat` times; the proxies' own access logs count the connections.
    access = AccessLogs(lab, routes)
    def counted(run):
        before = access.offsets()
        m = run()
        time.sleep(1.0)
        m.connects = access.connects_since(before)
        return m
    pv_runs, xa_runs = [], []
    for k in range(args.repeat):
        log("proxyvet run %d/%d: %d pairs, concurrency %d, per-proxy %d" % (k + 1, args.repeat, P, C, per_proxy))
        rep_dir = os.path.join(out, "proxyvet-report-%d" % k)
        m = counted(lambda: measure(proxyvet_cmd(list_path, rep_dir), lab_cpu, limit))
        m.verdicts, m.per_route, m.results = proxyvet_outcomes(os.path.join(rep_dir, "proxyvet-report.json"))
        pv_runs.append(m)
        log("  %.2f s, exit %d, %s, CONNECTs logged %s" % (m.wall, m.status, m.verdicts, m.connects))
        log("xargs-curl run %d/%d: xargs -P %d" % (k + 1, args.repeat, C))
        xa_out = os.path.join(out, "xargs-curl-%d.out" % k)
        def xargs_run():
            with open(pairs_path) as si, open(xa_out, "w") as so:
                return measure(["xargs", "-P", str(C), "-L", "1"] + curl_base(T, CT, ca), lab_cpu, limit, stdin=si, stdout=so)
        m = counted(xargs_run)
        m.counts, _ = curl_outcomes(xa_out)
        xa_runs.append(m)
        log("  %.2f s, %s, CONNECTs logged %s" % (m.wall, m.counts, m.connects))
    pv = sorted(pv_runs, key=lambda m: m.wall)[len(pv_runs) // 2]
    xa = sorted(xa_runs, key=lambda m: m.wall)[len(xa_runs) // 2]

    # ProxyVet with the inspection CA trusted too: the inspecting proxy's answers inside the session are seen.
    both_ca = os.path.join(out, "origin+inspection-ca.pem")
    with open(both_ca, "w") as f:
        for p in (lab["originCA"], lab["inspectionCA"]):
            with open(p) as src:
                f.write(src.read())
    log("proxyvet with the inspection CA trusted")
    pvt_dir = os.path.join(out, "proxyvet-report-trusted")
    pvt = measure(proxyvet_cmd(list_path, pvt_dir, ca_bundle=both_ca), lab_cpu, limit)
    pvt.verdicts, pvt.per_route, pvt.results = proxyvet_outcomes(os.path.join(pvt_dir, "proxyvet-report.json"))
    log("  %.2f s, %s" % (pvt.wall, pvt.verdicts))

    # perf: where ProxyVet's own CPU goes.
    perf_text = None
    if args.perf != "off" and subprocess.run(["sh", "-c", "command -v perf"], stdout=subprocess.DEVNULL).returncode == 0:
        perf_data = os.path.join(out, "perf.data")
        perf_stat = os.path.join(out, "perf-stat.txt")
        log("proxyvet under perf stat + perf record")
        perf_dir = os.path.join(out, "proxyvet-report-perf")
        cmd = ["perf", "stat", "-e", "task-clock,context-switches,cpu-migrations,page-faults", "-o", perf_stat, "--",
               "perf", "record", "-q", "-F", "499", "-e", "cpu-clock", "-o", perf_data, "--"] + proxyvet_cmd(list_path, perf_dir)
        pm = measure(cmd, lab_cpu, limit, sample_rss=False)
        if pm.status in (0, 1) and os.path.exists(perf_data):
            rep = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--sort", "dso", "--comm", "proxyvet"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=120)
            dsos = [l for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")][:10]
            with open(perf_stat) as f:
                stat = [l.rstrip() for l in f if re.search(r"task-clock|context-switches|migrations|page-faults|elapsed", l)]
            perf_text = "perf stat (ProxyVet, wall %.2f s):\n  %s\nperf record --sort dso (ProxyVet's CPU samples):\n  %s" % (
                pm.wall, "\n  ".join(s.strip() for s in stat), "\n  ".join(d.strip() for d in dsos))
            try:
                os.remove(perf_data)
            except OSError:
                pass
        elif args.perf == "on":
            log("perf failed: %s" % pm.stderr[-500:])

    # The CA bundle's size: libcurl builds a certificate store per connection unless it can cache it.
    ca_effect = []
    system_store = "/etc/ssl/certs/ca-certificates.crt"
    if "edge" in routes and os.path.exists(system_store):
        big_ca = os.path.join(out, "origin+system-ca.pem")
        with open(big_ca, "w") as f:
            for p in (lab["originCA"], system_store):
                with open(p) as src:
                    f.write(src.read())
        few = [n for n in names if ".silent." not in n][:300]
        few_list = os.path.join(out, "targets-ca.txt")
        with open(few_list, "w") as f:
            f.write("\n".join(few) + "\n")
        for label, bundle in (("1 certificate", ca), ("%d certificates (the lab CA + the system store)" % count_pem(big_ca), big_ca)):
            log("proxyvet, %d probes through edge, CA bundle of %s" % (len(few), label))
            cmd = [args.proxyvet, "check", few_list, "--proxy", "edge=" + lab["proxies"]["edge"], "--ca-bundle", bundle,
                   "--timeout", fmt_s(T), "--concurrency", str(per_proxy), "--per-proxy", str(per_proxy),
                   "--format", "json", "--output", os.path.join(out, "proxyvet-report-ca"), "--quiet"]
            m = measure(cmd, lab_cpu, int(len(few) * (T + 1) / per_proxy + 300), sample_rss=False)
            ca_effect.append((label, len(few), m))

    # The memory run: ProxyVet alone, `big` probes.
    big = None
    if args.big > 0:
        big_names = make_names(math.ceil(args.big / len(routes)), args.silent_percent)
        big_list = os.path.join(out, "targets-big.txt")
        with open(big_list, "w") as f:
            f.write("\n".join(big_names) + "\n")
        bp = len(big_names) * len(routes)
        log("proxyvet memory run: %d pairs" % bp)
        big_dir = os.path.join(out, "proxyvet-report-big")
        big = measure(proxyvet_cmd(big_list, big_dir), lab_cpu, int(bp * (T + 1) / C + 300))
        big.verdicts, big.per_route, big.results = proxyvet_outcomes(os.path.join(big_dir, "proxyvet-report.json"))
        big.pairs = bp
        log("  %.2f s, peak RSS %.1f MiB, %s" % (big.wall, big.maxrss / MIB, big.verdicts))

    # --- the table --------------------------------------------------------------------------------------
    scale = P / S
    rows = [
        ("ProxyVet (-c %d, per-proxy %d)" % (C, per_proxy), pv.wall, pv.cpu, pv.maxrss, pv.tree_rss, pv.lab["all"], pv.machine_busy),
        ("xargs -P %d curl" % C, xa.wall, xa.cpu, xa.maxrss, xa.tree_rss, xa.lab["all"], xa.machine_busy),
        ("sequential curl (%d, x%.0f)" % (S, scale), seq.wall * scale, seq.cpu * scale, seq.maxrss, seq.tree_rss,
         seq.lab["all"] * scale, seq.machine_busy),
    ]
    lines = []
    lines.append("Lab: %d names x %d routes (%s) = %d probes; %d never answer (%g%%); origin latency %s ms; "
                 "timeout %s s; C = %d" % (len(names), len(routes), ", ".join(routes), P, silent_pairs,
                                           args.silent_percent, lab.get("latencyMs", 0), fmt_s(T), C))
    lines.append("Round trip on the idle lab (median of the sequential sample): %s; mean %.1f ms; slowest probe %.2f s"
                 % (", ".join("%s %.1f ms" % (r, rtt_median[r] * 1000) for r in routes if r in rtt_median), rtt * 1000, slowest))
    lines.append("Critical-path bound = %.2f + %d / %d x %.4f = %.2f s (slot-time bound with the silent probes at "
                 "the timeout: %.2f s)" % (slowest, P, C, rtt, bound, slot_bound))
    lines.append("")
    cores = os.cpu_count() or 1
    lines.append("| Tool | Wall s | CPU s (user+sys) | CPU ms/probe | Peak RSS MiB (largest process / tree) | "
                 "Probes/s | x bound | Lab CPU s | CPU floor s | Machine busy |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, wall, cpu, rss, tree, labc, busy in rows:
        lines.append("| %s | %.2f | %.2f | %.2f | %.1f / %.1f | %.0f | %.2f | %.1f | %.1f | %.0f%% |" % (
            name, wall, cpu, cpu / P * 1000, rss / MIB, tree / MIB, P / wall, wall / bound, labc,
            (cpu + labc) / cores, busy * 100))
    lines.append("")
    lines.append("CPU floor = (tool CPU + lab CPU) / %d cores: the wall time below which this machine cannot do the "
                 "tool's and the proxies' work, whatever the concurrency." % cores)
    lines.append("")
    lines.append("Extra rows (not compared):")
    lines.append("- ProxyVet with the inspection CA trusted too (the answers inside the re-signed sessions are read): "
                 "%.2f s wall, %.2f s CPU, %.1f MiB, %.0f probes/s, x%.2f bound" % (
                     pvt.wall, pvt.cpu, pvt.maxrss / MIB, P / pvt.wall, pvt.wall / bound))
    if big is not None:
        lines.append("- ProxyVet memory run: %d probes, %.2f s wall, %.2f s CPU (%.2f ms/probe), peak RSS %.1f MiB "
                     "(target <= 150 MiB)" % (big.pairs, big.wall, big.cpu, big.cpu / big.pairs * 1000, big.maxrss / MIB))
    lines.append("")
    lines.append("Outcomes: ProxyVet %s; xargs-curl %s; sequential sample %s" % (
        json.dumps(pv.verdicts, sort_keys=True), json.dumps(xa.counts, sort_keys=True), json.dumps(seq_counts, sort_keys=True)))
    probes_by_route = {r: len(names) for r in routes}
    lines.append("Connections the proxies logged themselves (CONNECT lines for the bench names in each access log) "
                 "against probes sent through each route: ProxyVet %s; xargs-curl %s; probes %s" % (
                     json.dumps(pv.connects, sort_keys=True), json.dumps(xa.connects, sort_keys=True),
                     json.dumps({r: n for r, n in probes_by_route.items() if r in pv.connects}, sort_keys=True)))
    if args.repeat > 1:
        lines.append("Runs (wall s): ProxyVet %s; xargs-curl %s (median kept)" % (
            ", ".join("%.2f" % m.wall for m in pv_runs), ", ".join("%.2f" % m.wall for m in xa_runs)))

    # Where the time goes.
    lines.append("")
    lines.append("Where the time goes (ProxyVet main run):")
    total_probe_time = sum(sum(v) for v in pv.per_route.values())
    lines.append("- ProxyVet CPU %.2f s = %.2f ms per probe (user %.2f s, sys %.2f s) against %.2f ms of wall per probe; "
                 "%d voluntary / %d involuntary context switches" % (
                     pv.cpu, pv.cpu / P * 1000, pv.user, pv.sys, pv.wall / P * 1000, pv.vcsw, pv.ivcsw))
    lines.append("- probes in flight on average (sum of reported probe times / wall): %.1f of %d allowed" % (
        total_probe_time / pv.wall, C))
    for r in routes:
        v = pv.per_route.get(r, [])
        if v:
            loud = sorted(t for t in v if t < T * 0.9)
            lines.append("  - %s: %d probes, median %.1f ms, p90 %.1f ms (idle %.1f ms), %.1f in flight on average (cap %d)" % (
                r, len(v), statistics.median(loud) * 1000 if loud else 0, loud[int(len(loud) * 0.9)] * 1000 if loud else 0,
                rtt_median.get(r, 0) * 1000, sum(v) / pv.wall, per_proxy))
    for label, m in (("ProxyVet", pv), ("xargs-curl", xa), ("ProxyVet, inspection CA trusted", pvt)):
        parts = ", ".join("%s %.1f" % (k, v) for k, v in sorted(m.lab.items(), key=lambda kv: -kv[1])
                          if k != "all" and v >= 0.05)
        busiest = max((k for k in m.lab if k != "all" and not k.endswith("helpers")), key=lambda k: m.lab[k])
        used = m.machine_busy * cores * m.wall
        lines.append("- during %s (%.2f s): lab CPU %.1f s (%s); tool CPU %.1f s; other CPU %.1f s (kernel, other "
                     "processes on the machine, this script); machine %.0f%% busy (%.1f of %.1f core-s; %s before the run). "
                     "Busiest single-threaded lab process: %s, %.0f%% of the wall" % (
                         label, m.wall, m.lab["all"], parts, m.cpu, max(0.0, used - m.cpu - m.lab["all"]),
                         m.machine_busy * 100, used, cores * m.wall,
                         "%.0f%% busy" % (m.busy_before * 100) if m.busy_before is not None else "not checked",
                         busiest, m.lab[busiest] / m.wall * 100))
    for label, n, m in ca_effect:
        lines.append("- CA bundle of %s: ProxyVet %.2f ms CPU per probe (%d probes through edge, %.2f s wall)" % (
            label, m.cpu / n * 1000, n, m.wall))
    if perf_text:
        lines.append("")
        lines.append(perf_text)

    # Targets.
    lines.append("")
    lines.append("Targets:")
    def target(label, ok, detail):
        lines.append("- [%s] %s: %s" % ("met" if ok else "MISSED", label, detail))
    target("ProxyVet >= 2x faster than xargs-curl at equal concurrency", xa.wall / pv.wall >= 2,
           "%.2fx (%.2f s vs %.2f s)" % (xa.wall / pv.wall, pv.wall, xa.wall))
    target("ProxyVet >= 20x faster than the sequential loop", seq.wall * scale / pv.wall >= 20,
           "%.1fx (%.2f s vs %.1f s extrapolated)" % (seq.wall * scale / pv.wall, pv.wall, seq.wall * scale))
    # Squid logs a tunnel when it ends: one to a name that never answers is logged only when Squid itself gives up,
    # after the run, so those probes may be missing from the count; none may be counted twice.
    silent_names = sum(1 for n in names if ".silent." in n)
    for r in routes:
        if r in pv.connects and r == "inspect":
            target("connections at the inspecting proxy = probes", probes_by_route[r] - silent_names <= pv.connects[r] <= probes_by_route[r],
                   "%d CONNECTs logged by %s for %d probes, %d of them to names that never answer (xargs-curl: %d)" % (
                       pv.connects[r], r, probes_by_route[r], silent_names, xa.connects.get(r, 0)))
    target("ProxyVet within 1.3x of the critical-path bound", pv.wall / bound <= 1.3,
           "%.2fx (%.2f s vs %.2f s)" % (pv.wall / bound, pv.wall, bound))
    if big is not None:
        target("peak RSS <= 150 MiB at %d probes" % big.pairs, big.maxrss <= 150 * MIB, "%.1f MiB" % (big.maxrss / MIB))

    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out, "bench-results.md"), "w") as f:
        f.write(text + "\n")
    result = {
        "probes": P, "names": len(names), "routes": routes, "silentProbes": silent_pairs, "concurrency": C,
        "perProxy": per_proxy, "timeout": T, "latencyMs": lab.get("latencyMs", 0), "roundTrip": rtt,
        "roundTripByRoute": rtt_median, "slowest": slowest, "bound": bound, "slotBound": slot_bound,
        "cores": cores,
        "runs": {name: {"wall": wall, "cpu": cpu, "maxrss": rss, "treeRss": tree, "labCpu": labc, "machineBusy": busy}
                 for name, wall, cpu, rss, tree, labc, busy in rows},
        "connectsLogged": {"proxyvet": pv.connects, "xargsCurl": xa.connects, "probes": probes_by_route},
        "proxyvetTrusted": {"wall": pvt.wall, "cpu": pvt.cpu, "maxrss": pvt.maxrss},
        "big": None if big is None else {"probes": big.pairs, "wall": big.wall, "cpu": big.cpu, "maxrss": big.maxrss},
    }
    with open(os.path.join(out, "bench-results.json"), "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
