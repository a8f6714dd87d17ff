#!/usr/bin/env python3
"""Turns the driver's raw runs into the benchmark's table, with targets.

  report.py RAW.json [--out-dir DIR]

Prints the table (Markdown) and writes DIR/latest.md, DIR/latest.json and DIR/latest.svg
(requests/second and p99 latency per workload and server; log scales). Standard library only.
"""

import argparse
import json
import math
import os
import statistics
import sys

WORKLOADS = [
    ("get", "GET /api/me/"),
    ("verify", "verify"),
    ("login", "login"),
    ("refresh", "refresh (rotation)"),
    ("mixed_get", "mixed: GETs"),
    ("mixed_writes", "mixed: refresh+login"),
]
LABEL = dict(WORKLOADS)
SHORT_LABEL = {"get": "GET /me", "verify": "verify", "login": "login", "refresh": "refresh",
               "mixed_get": "mixed GET", "mixed_writes": "mixed writes"}
ORDER = {w: i for i, (w, _) in enumerate(WORKLOADS)}
SERVER_ORDER = {"keyward": 0, "peer": 1, "limit": 2, "bcrypt": 3}
SERVER_LABEL = {"keyward": "keyward", "peer": "peer", "limit": "limit",
                "bcrypt": "bcrypt in-process"}
COLORS = {"keyward": "#1f77b4", "peer": "#ff7f0e", "limit": "#2ca02c", "bcrypt": "#9467bd"}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def aggregate(runs):
    groups = {}
    for run in runs:
        groups.setdefault((run["workload"], run["conns"], run["server"]), []).append(run)
    rows = []
    for (workload, conns, server), items in groups.items():
        rss = [r.get("peak_rss_kb") for r in items if r.get("peak_rss_kb")]
        row = {
            "workload": workload,
            "conns": conns,
            "server": server,
            "rounds": len(items),
            "rps": median([r["rps"] for r in items]),
            "rps_min": min(r["rps"] for r in items),
            "rps_max": max(r["rps"] for r in items),
            "p50_ms": median([r.get("p50_ms") for r in items]),
            "p99_ms": median([r.get("p99_ms") for r in items]),
            "p99_ms_max": max((r["p99_ms"] for r in items if r.get("p99_ms") is not None),
                              default=None),
            "requests": sum(r["requests"] for r in items),
            "non2xx": sum(r.get("non2xx", 0) for r in items),
            "socket_errors": sum(r.get("socket_errors", 0) for r in items),
            "timeouts": sum(r.get("timeouts", 0) for r in items),
            "starved": sum(r.get("starved", 0) for r in items),
            "cpu_pct": median([r.get("cpu_pct") for r in items]),
            "db_cpu_pct": median([r.get("db_cpu_pct") for r in items]),
            "client_cpu_pct": median([r.get("client_cpu_pct") for r in items]),
            "peak_rss_mb": round(max(rss) / 1024, 1) if rss else None,
        }
        statuses = {}
        sent = {}
        for r in items:
            for k, v in (r.get("statuses") or {}).items():
                statuses[k] = statuses.get(k, 0) + v
            for k, v in (r.get("sent") or {}).items():
                sent[k] = sent.get(k, 0) + v
        row["statuses"] = statuses
        if sent:
            row["sent"] = sent
        if server == "bcrypt":
            row["threads"] = items[0].get("threads")
        row["errors"] = row["non2xx"] + row["socket_errors"]
        rows.append(row)
    rows.sort(key=lambda r: (ORDER.get(r["workload"], 99), r["conns"] or 0,
                             SERVER_ORDER.get(r["server"], 9)))
    return rows


def find(rows, workload, conns, server):
    for row in rows:
        if row["workload"] == workload and row["conns"] == conns and row["server"] == server:
            return row
    return None


def ratio(a, b):
    if not a or not b or a.get("rps") is None or not b.get("rps"):
        return None
    return a["rps"] / b["rps"]


def evaluate(rows, connections):
    """Adds ratios and the targets (on keyward's rows). Returns the list of target checks."""
    p99_conns = 64 if 64 in connections else max(connections)
    checks = []
    for row in rows:
        if row["server"] != "keyward":
            continue
        w, c = row["workload"], row["conns"]
        peer = find(rows, w, c, "peer")
        limit_get = find(rows, "get", c, "limit")
        row["vs_peer"] = ratio(row, peer)
        if w in ("get", "verify"):
            row["vs_limit"] = ratio(row, limit_get)
            row["vs_ref"] = "limit GET"
        elif w == "login":
            row["vs_limit"] = ratio(row, find(rows, "login", c, "bcrypt"))
            row["vs_ref"] = "bcrypt in-process"
        elif w == "refresh":
            row["vs_limit"] = ratio(row, find(rows, "refresh", c, "limit"))
            row["vs_ref"] = "limit refresh"
        else:
            row["vs_limit"] = None

        targets = []
        if w == "get":
            # The protected route checks the token, the revoked jtis, the ended sessions and
            # the cached user: all in memory.
            targets.append(("rps >= 0.85x limit", row["vs_limit"], 0.85, ">="))
            targets.append(("rps >= 50x peer", row["vs_peer"], 50, ">="))
            if c == p99_conns:
                targets.append(("p99 <= 5 ms", row["p99_ms"], 5.0, "<="))
        elif w == "verify":
            targets.append(("rps >= 0.85x limit GET", row["vs_limit"], 0.85, ">="))
        elif w == "refresh":
            # One transaction that moves the session on, blacklists the spent token and
            # records its successor, against the limit's spend-and-record transaction.
            targets.append(("rps >= 0.6x limit", row["vs_limit"], 0.6, ">="))
            targets.append(("rps >= 10x peer", row["vs_peer"], 10, ">="))
        elif w == "login":
            targets.append(("rps >= 0.9x bcrypt in-process", row["vs_limit"], 0.9, ">="))
        elif w == "mixed_get":
            targets.append(("GET p99 <= 10 ms while logins run", row["p99_ms"], 10.0, "<="))
        if not targets:
            continue
        verdicts = []
        for name, value, bound, op in targets:
            ok = value is not None and (value >= bound if op == ">=" else value <= bound)
            verdicts.append({"target": name, "value": value, "bound": bound, "pass": ok})
        if row["errors"]:
            verdicts.append({"target": "no errors", "value": row["errors"], "bound": 0,
                             "pass": False})
        row["targets"] = verdicts
        row["result"] = "PASS" if all(v["pass"] for v in verdicts) else "FAIL"
        for v in verdicts:
            checks.append({"workload": w, "conns": c, **v})
    return checks


# ---------------------------------------------------------------- formatting


def num(value, digits=1):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def ms(value):
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def times(value):
    if value is None:
        return ""
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def table(rows):
    head = ["workload", "conns", "server", "req/s", "p50 ms", "p99 ms", "errors",
            "CPU % server", "CPU % db", "peak RSS MB", "keyward/peer", "keyward/limit",
            "target", "result"]
    lines = []
    for row in rows:
        target = ""
        if row.get("targets"):
            target = "; ".join(
                f"{v['target']} {'ok' if v['pass'] else 'MISSED'}" for v in row["targets"])
        errors = str(row["errors"])
        if row["errors"] and row["statuses"]:
            errors += " (" + ", ".join(f"{k}:{v}" for k, v in sorted(row["statuses"].items())) + ")"
        if row.get("starved"):
            errors += f" starved:{row['starved']}"
        conns = str(row["conns"])
        if row["server"] == "bcrypt":
            conns = f"({row.get('threads')} threads)"
        vs_limit = times(row.get("vs_limit"))
        if vs_limit and row["workload"] == "login":
            vs_limit += " of bcrypt"
        elif vs_limit and row["workload"] == "verify":
            vs_limit += " of limit GET"
        lines.append([
            LABEL.get(row["workload"], row["workload"]), conns,
            SERVER_LABEL.get(row["server"], row["server"]),
            num(row["rps"]), ms(row["p50_ms"]), ms(row["p99_ms"]), errors,
            num(row["cpu_pct"], 0), num(row["db_cpu_pct"], 0), num(row["peak_rss_mb"]),
            times(row.get("vs_peer")), vs_limit, target, row.get("result", ""),
        ])
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h)
              for i, h in enumerate(head)]
    right = {3, 4, 5, 7, 8, 9, 10, 11}

    def fmt(cells):
        return "| " + " | ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i])
            for i, c in enumerate(cells)) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2))
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(head), sep] + [fmt(l) for l in lines])


def metrics_line(metrics):
    if not metrics:
        return "- keyward's metrics: not recorded"
    if not metrics.get("on"):
        return "- keyward's metrics: off (as by default)"
    counted = metrics.get("requests_counted")
    seen = f"{counted:,.0f} requests counted at the end" if counted is not None else "not scraped"
    return f"- keyward's metrics: on (`metrics_bind` {metrics.get('bind')}; {seen})"


def markdown(meta, rows, checks):
    cfg = meta.get("config", {})
    versions = meta.get("versions", {})
    passed = sum(1 for c in checks if c["pass"])
    out = ["# keyward benchmark", ""]
    if meta.get("label"):
        out += [f"**{meta['label']}**", ""]
    out += [
        f"- run: {meta.get('started', '?')} → {meta.get('finished', '?')} "
        f"({meta.get('elapsed_s', '?')} s), {meta.get('cores', '?')} cores, "
        f"load average at the end {' '.join(meta.get('loadavg_at_end', []))}",
        f"- {cfg.get('rounds')} round(s) of {cfg.get('duration')} s per server, "
        f"alternating servers within each round; connections {cfg.get('connections')}; "
        f"wrk threads {cfg.get('wrk_threads')}; {cfg.get('users')} users; bcrypt cost "
        f"{cfg.get('bcrypt_cost')}",
        f"- peer: gunicorn {meta.get('peer', {}).get('workers')} "
        f"{meta.get('peer', {}).get('worker_class')} workers; "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v),
        "- peak RSS over the whole run (VmHWM, setup included): " + ", ".join(
            f"{k} {v / 1024:.1f} MB" for k, v in (meta.get("peak_rss_overall_kb") or {}).items()),
        metrics_line(meta.get("keyward_metrics")),
        f"- targets met: {passed} of {len(checks)}",
        "",
        table(rows),
        "",
        "Medians over the rounds (errors: sums). Latency is wrk's (closed loop, with its "
        "coordinated-omission correction). CPU % is of one core (200 % = both cores), from "
        "/proc utime+stime of the server's process tree; db is the PostgreSQL server's tree. "
        "Peak RSS is VmHWM (summed over gunicorn's processes), reset before each run. "
        "keyward/limit is against the limit server's GET for GET and verify, its refresh for "
        "refresh, and in-process bcrypt for login. The mixed rows come from two concurrent wrk processes: "
        "the GETs and the refresh+login writes.",
    ]
    mixed = [r for r in rows if r["workload"] == "mixed_writes" and r.get("sent")]
    if mixed:
        out += ["", "Mixed workload, requests sent by the write side (per server and connections):", ""]
        for r in mixed:
            get = find(rows, "mixed_get", r["conns"], r["server"])
            total = (get["requests"] if get else 0) + r["requests"]
            share = 100.0 * (get["requests"] if get else 0) / total if total else 0
            out.append(f"- {r['server']} c={r['conns']}: {r['sent']}; GETs were {share:.1f} % "
                       f"of all requests")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- SVG chart


def svg_chart(rows, title):
    groups = []
    for row in rows:
        key = (row["workload"], row["conns"])
        if key not in groups:
            groups.append(key)
    servers = sorted({r["server"] for r in rows}, key=lambda s: SERVER_ORDER.get(s, 9))
    bar_w, gap = 20, 22
    group_w = {g: max(3, len([r for r in rows if (r["workload"], r["conns"]) == g])) * bar_w
               for g in groups}
    left, right, top = 70, 20, 60
    panel_h, panel_gap = 260, 110
    width = left + right + sum(group_w[g] + gap for g in groups)
    height = top + 2 * panel_h + panel_gap + 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="20" font-size="15" font-weight="bold">{esc(title)}</text>']
    lx = left
    for s in servers:
        parts.append(f'<rect x="{lx}" y="30" width="12" height="12" fill="{COLORS.get(s, "#777")}"/>')
        parts.append(f'<text x="{lx + 16}" y="40">{esc(SERVER_LABEL.get(s, s))}</text>')
        lx += 22 + 7 * len(SERVER_LABEL.get(s, s))

    def panel(y0, metric, axis_label):
        values = [r[metric] for r in rows if r.get(metric)]
        if not values:
            return
        lo = 10 ** math.floor(math.log10(min(values)))
        hi = 10 ** math.ceil(math.log10(max(values)))
        if hi <= lo:
            hi = lo * 10
        span = math.log10(hi) - math.log10(lo)

        def y(v):
            return y0 + panel_h - panel_h * (math.log10(v) - math.log10(lo)) / span

        parts.append(f'<text x="12" y="{y0 + panel_h / 2}" transform="rotate(-90 12 {y0 + panel_h / 2})" '
                     f'text-anchor="middle">{esc(axis_label)} (log scale)</text>')
        decade = lo
        while decade <= hi * 1.0001:
            yy = y(decade)
            parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                         f'stroke="#ddd"/>')
            parts.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">'
                         f'{esc(short(decade))}</text>')
            decade *= 10
        gx = left + gap / 2
        for g in groups:
            present = [s for s in servers if find(rows, g[0], g[1], s)]
            x = gx + (group_w[g] - len(present) * bar_w) / 2
            gx += group_w[g] + gap
            for s in present:
                row = find(rows, g[0], g[1], s)
                v = row.get(metric)
                if v:
                    yy = y(max(v, lo))
                    parts.append(f'<rect x="{x:.1f}" y="{yy:.1f}" width="{bar_w - 2}" '
                                 f'height="{y0 + panel_h - yy:.1f}" fill="{COLORS.get(s, "#777")}">'
                                 f'<title>{esc(s)} {esc(LABEL.get(g[0], g[0]))} c={g[1]}: '
                                 f'{v:g}</title></rect>')
                    tx = x + bar_w / 2 + 3
                    ty = yy - 4
                    parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="9" '
                                 f'transform="rotate(-90 {tx:.1f} {ty:.1f})">{esc(short(v))}</text>')
                x += bar_w
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y0 + panel_h}" '
                     f'y2="{y0 + panel_h}" stroke="#333"/>')

    panel(top + 10, "rps", "requests/s")
    panel(top + panel_h + panel_gap, "p99_ms", "p99 latency, ms")
    # group labels under each panel
    for y_base in (top + 10 + panel_h, top + 2 * panel_h + panel_gap):
        x = left + gap / 2
        for g in groups:
            w = group_w[g]
            cx = x + w / 2
            parts.append(f'<text x="{cx:.1f}" y="{y_base + 14}" text-anchor="middle" font-size="10">'
                         f'{esc(SHORT_LABEL.get(g[0], g[0]))}</text>')
            parts.append(f'<text x="{cx:.1f}" y="{y_base + 27}" text-anchor="middle" font-size="10" '
                         f'fill="#555">c={g[1]}</text>')
            x += w + gap
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def short(v):
    if v >= 1000:
        return f"{v / 1000:.3g}k"
    if v >= 1:
        return f"{v:.3g}"
    return f"{v:.2g}"


def esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("--out-dir", default=os.path.join(os.path.dirname(__file__), "..", "results"))
    args = parser.parse_args()
    with open(args.raw) as f:
        raw = json.load(f)
    meta, runs = raw.get("meta", {}), raw["runs"]
    rows = aggregate(runs)
    connections = meta.get("config", {}).get("connections") or sorted(
        {r["conns"] for r in rows if r["conns"]})
    checks = evaluate(rows, connections)
    md = markdown(meta, rows, checks)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "latest.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out_dir, "latest.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows, "targets": checks, "runs": runs}, f, indent=1)
    title = "keyward benchmark" + (f" — {meta['label']}" if meta.get("label") else "")
    with open(os.path.join(args.out_dir, "latest.svg"), "w") as f:
        f.write(svg_chart(rows, title))
    print(md)
    print(f"written: {os.path.join(args.out_dir, 'latest.md')}, latest.json, latest.svg",
          file=sys.stderr)


if __name__ == "__main__":
    main()
