#!/usr/bin/env python3
"""Benchmark driver: users and tokens, then every workload against every server, A/B/A/B.

Started by bench/run once keyward, the peer and the limit server are up; it only talks to
127.0.0.1. Standard library only. Configuration comes from the environment (bench/run sets
it; see bench/README.md). Writes the raw result of every run to $BENCH_RAW (JSON), which
bench/tools/report.py turns into the table, Markdown, JSON and SVG.
"""

import http.client
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
LUA = os.path.join(BENCH, "lua")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def env(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def seconds(text):
    """'10s', '2m', '500ms', '3' -> seconds (float)."""
    text = str(text).strip()
    for suffix, factor in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * factor
    return float(text)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


CFG = {
    "rounds": int(env("ROUNDS", "3")),
    "duration": seconds(env("DURATION", "10s")),
    "warmup": seconds(env("WARMUP", "2s")),
    "connections": [int(c) for c in env("CONNECTIONS", "16 64").replace(",", " ").split()],
    "workloads": env("WORKLOADS", "get verify login refresh mixed").replace(",", " ").split(),
    "users": int(env("USERS", "50")),
    "bcrypt_cost": int(env("BCRYPT_COST", "12")),
    "wrk_threads": int(env("WRK_THREADS", "2")),
    "wrk_timeout": env("WRK_TIMEOUT", "30s"),
    "mixed_write_divisor": int(env("MIXED_WRITE_DIVISOR", "8")),
    "mixed_weights": env("MIXED_WEIGHTS", "90 8 2").split(),
    "pause": seconds(env("PAUSE", "1s")),
    "drain_max": seconds(env("DRAIN_MAX", "120s")),
    "idle_cpu_pct": float(env("IDLE_CPU_PCT", "10")),
}
WORK = os.environ["BENCH_WORK"]
RAW = os.environ["BENCH_RAW"]
PASSWORD = os.environ["BENCH_PASSWORD"]
USER_PREFIX = "bench"
WRK = env("WRK", "wrk")
BCRYPT_BENCH = os.environ["BCRYPT_BENCH"]
PEER_PYTHON = os.environ["PEER_PYTHON"]
PEER_DIR = os.path.join(BENCH, "peer")
LIMIT_MINT = os.environ["LIMIT_MINT"]

SERVERS = {
    "keyward": {"port": int(os.environ["BENCH_KEYWARD_PORT"]), "pid": int(os.environ["BENCH_KEYWARD_PID"])},
    "peer": {"port": int(os.environ["BENCH_PEER_PORT"]), "pid": int(os.environ["BENCH_PEER_PID"])},
    "limit": {"port": int(os.environ["BENCH_LIMIT_PORT"]), "pid": int(os.environ["BENCH_LIMIT_PID"])},
}
PG_PID = int(env("PG_PID", "0")) or None

# Which servers run each workload, in the order they alternate within a round.
WORKLOAD_SERVERS = {
    "get": ["keyward", "peer", "limit"],
    "verify": ["keyward", "peer"],
    "login": ["keyward", "peer", "bcrypt"],
    "refresh": ["keyward", "peer", "limit"],
    "mixed": ["keyward", "peer"],
}
WORKLOAD_PATH = {
    "get": "/api/me/",
    "verify": "/api/token/verify/",
    "login": "/api/token/",
    "refresh": "/api/token/refresh/",
}


# ---------------------------------------------------------------- /proc sampling


def _proc_table():
    """pid -> (ppid, utime+stime+cutime+cstime ticks)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2 :].split()
        # rest[0] is field 3 (state): ppid=4, utime=14, stime=15, cutime=16, cstime=17
        ppid = int(rest[1])
        ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
        table[int(name)] = (ppid, ticks)
    return table


def tree(root, table=None):
    table = table if table is not None else _proc_table()
    pids, frontier = {root}, [root]
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        pid = frontier.pop()
        for child in children.get(pid, []):
            if child not in pids:
                pids.add(child)
                frontier.append(child)
    return [p for p in pids if p in table]


def cpu_ticks(root):
    """CPU ticks of a process and all its descendants (live ones, plus reaped children)."""
    if root is None:
        return None
    table = _proc_table()
    if root not in table:
        return None
    return sum(table[p][1] for p in tree(root, table))


def reset_peak_rss(root):
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


def peak_rss_kb(root):
    """Sum of VmHWM over the process tree (gunicorn: master + workers)."""
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def wait_idle(server):
    """After a run, wait until the server (and PostgreSQL) have finished the work still queued
    in them: requests wrk sent but stopped waiting for (64 queued logins are seconds of bcrypt),
    so that it does not run into the next measurement. Idle: the server's process tree uses
    under IDLE_CPU_PCT % of one core over half a second (PostgreSQL is not watched: other
    clients may share it, and the server's own queries end with its requests). Bounded by
    DRAIN_MAX. Returns the seconds waited."""
    roots = [SERVERS[server]["pid"]] if server in SERVERS else []
    t0 = time.time()
    window = 0.5

    def ticks():
        table = _proc_table()
        return sum(table[p][1] for root in roots if root in table for p in tree(root, table))

    before = ticks()
    while time.time() - t0 < CFG["drain_max"]:
        time.sleep(window)
        now = ticks()
        if 100.0 * (now - before) / CLK_TCK / window < CFG["idle_cpu_pct"]:
            return round(time.time() - t0, 1)
        before = now
    log(f"  {server} still busy after {CFG['drain_max']:.0f} s; going on")
    return round(time.time() - t0, 1)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- HTTP helpers (setup only)

_local = threading.local()


def post_json(port, path, body):
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    for attempt in range(3):
        conn = conns.get(port)
        if conn is None:
            conn = conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = data.decode(errors="replace")
            return resp.status, parsed
        except (http.client.HTTPException, OSError):
            conn.close()
            conns.pop(port, None)
            if attempt == 2:
                raise
    raise RuntimeError("unreachable")


def usernames():
    return [f"{USER_PREFIX}{i:04d}" for i in range(1, CFG["users"] + 1)]


def server_dir(name):
    path = os.path.join(WORK, name)
    os.makedirs(path, exist_ok=True)
    return path


def pool_path(name):
    return os.path.join(server_dir(name), "refresh-pool.txt")


def access_path(name):
    return os.path.join(server_dir(name), "access.txt")


def users_path():
    return os.path.join(WORK, "users.txt")


def count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def keyward_login(user):
    status, body = post_json(SERVERS["keyward"]["port"], "/api/token/",
                             {"username": user, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"keyward login of {user}: {status} {body}")
    return body["access"], body["refresh"]


def mint_keyward_refresh(n):
    """n fresh refresh tokens for keyward: logins (bcrypt-bound), a few at a time."""
    users = usernames()
    picks = [users[i % len(users)] for i in range(n)]
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = [r for _, r in pool.map(keyward_login, picks)]
    with open(pool_path("keyward"), "a") as f:
        f.writelines(t + "\n" for t in tokens)
    log(f"  minted {n} keyward refresh tokens by logging in ({time.time() - t0:.1f} s)")


def peer_manage(*args):
    subprocess.run([PEER_PYTHON, "manage.py", *args], cwd=PEER_DIR, check=True,
                   stdout=subprocess.DEVNULL)


def mint_peer_refresh(n):
    t0 = time.time()
    peer_manage("mint_tokens", "--prefix", USER_PREFIX, "--refresh", str(n),
                "--refresh-out", pool_path("peer"))
    log(f"  minted {n} peer refresh tokens in-process ({time.time() - t0:.1f} s)")


def mint_limit_refresh(n):
    """n refresh tokens for the limit server, signed and recorded in its database by
    limit-mint (what the limit's login would do; it has none)."""
    t0 = time.time()
    subprocess.run([LIMIT_MINT, "--count", str(n), "--users", str(CFG["users"]),
                    "--out", pool_path("limit")], check=True, stdout=subprocess.DEVNULL)
    log(f"  minted {n} limit refresh tokens in-process ({time.time() - t0:.1f} s)")


MINT_REFRESH = {"keyward": mint_keyward_refresh, "peer": mint_peer_refresh,
                "limit": mint_limit_refresh}


def ensure_pool(name, need):
    have = count_lines(pool_path(name))
    if have >= need:
        return
    # Mint a little more than needed so the next run has slack too.
    n = need - have + max(8, need // 4)
    MINT_REFRESH[name](n)


def setup_users_and_tokens():
    users = usernames()
    with open(users_path(), "w") as f:
        f.writelines(u + "\n" for u in users)

    # keyward: sign up every user over HTTP (each hashes at the configured cost), then log
    # each in once: one access token per user, and the first refresh tokens of the pool.
    t0 = time.time()
    port = SERVERS["keyward"]["port"]

    def signup(user):
        status, body = post_json(port, "/api/signup/",
                                 {"username": user, "email": f"{user}@example.com",
                                  "password": PASSWORD})
        if status != 201:
            raise RuntimeError(f"keyward signup of {user}: {status} {body}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(signup, users))
        pairs = list(pool.map(keyward_login, users))
    with open(access_path("keyward"), "w") as f:
        f.writelines(a + "\n" for a, _ in pairs)
    with open(pool_path("keyward"), "w") as f:
        f.writelines(r + "\n" for _, r in pairs)
    log(f"keyward: {len(users)} users signed up and logged in ({time.time() - t0:.1f} s)")

    # peer: the same users (one bcrypt hash at the same cost, reused), and tokens minted the
    # way its login view mints them.
    t0 = time.time()
    peer_manage("bench_users", "--count", str(len(users)), "--prefix", USER_PREFIX)
    open(pool_path("peer"), "w").close()
    peer_manage("mint_tokens", "--prefix", USER_PREFIX, "--access-out", access_path("peer"),
                "--refresh", str(len(users)), "--refresh-out", pool_path("peer"))
    # one real login, to check the password and hash format work end to end
    status, body = post_json(SERVERS["peer"]["port"], "/api/token/",
                             {"username": users[0], "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"peer login check failed: {status} {body}")
    with open(pool_path("peer"), "a") as f:
        f.write(body["refresh"] + "\n")
    log(f"peer: {len(users)} users created, tokens minted, login checked ({time.time() - t0:.1f} s)")

    # The limit server checks keyward's tokens (same signing key); its refresh tokens are its
    # own, recorded in its database.
    shutil.copyfile(access_path("keyward"), access_path("limit"))
    open(pool_path("limit"), "w").close()
    mint_limit_refresh(len(users))
    sanity_checks()


def sanity_checks():
    """One request of each kind per server, so a broken setup fails before measuring."""
    def get(port, token):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/me/", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, body

    for name in ("keyward", "peer", "limit"):
        with open(access_path(name)) as f:
            token = f.readline().strip()
        status, body = get(SERVERS[name]["port"], token)
        if status != 200:
            raise RuntimeError(f"{name}: GET /api/me/ answered {status} {body[:200]!r}")
        if name != "limit":
            status, body = post_json(SERVERS[name]["port"], "/api/token/verify/", {"token": token})
            if status != 200:
                raise RuntimeError(f"{name}: verify answered {status} {body}")
    for name in ("keyward", "peer", "limit"):
        path = pool_path(name)
        with open(path) as f:
            tokens = [t.strip() for t in f if t.strip()]
        if name == "keyward":
            # Presenting a spent token again ends its session on keyward (reuse detection),
            # access tokens included: check on a login of its own, not on a measured session.
            _, spent = keyward_login(usernames()[0])
        else:
            spent, tokens = tokens[0], tokens[1:]
        status, body = post_json(SERVERS[name]["port"], "/api/token/refresh/", {"refresh": spent})
        if status != 200 or "refresh" not in body:
            raise RuntimeError(f"{name}: refresh answered {status} {body} (rotation expected)")
        again, _ = post_json(SERVERS[name]["port"], "/api/token/refresh/", {"refresh": spent})
        if again != 401:
            raise RuntimeError(f"{name}: a spent refresh token answered {again}, not 401")
        if name != "keyward":
            tokens.append(body["refresh"])
        with open(path, "w") as f:
            f.writelines(t + "\n" for t in tokens)
    log("sanity: GET /api/me/ 200 on keyward, peer and limit (keyward's token); verify 200; "
        "refresh rotates and a spent refresh token is refused (401) on keyward, peer and limit")


# ---------------------------------------------------------------- running wrk


def run_wrk(name, script, conns, duration, port, path, extra_env=None, threads=None,
            out_tag="run"):
    threads = max(1, min(threads or CFG["wrk_threads"], conns))
    conns = conns - conns % threads
    out = os.path.join(WORK, f"{out_tag}.json")
    if os.path.exists(out):
        os.remove(out)
    environ = dict(os.environ)
    environ.update({
        "BENCH_LUA_DIR": LUA,
        "BENCH_THREADS": str(threads),
        "BENCH_OUT": out,
        "BENCH_PATH": path,
    })
    environ.update(extra_env or {})
    cmd = [WRK, "-t", str(threads), "-c", str(conns), "-d", f"{max(1, round(duration))}s",
           "--timeout", CFG["wrk_timeout"], "-s", os.path.join(LUA, script),
           f"http://127.0.0.1:{port}{path}"]
    proc = subprocess.Popen(cmd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    RUNNING.add(proc)
    return proc, out, conns, threads


RUNNING = set()


def stop_running(signum, frame):
    """SIGTERM/SIGINT: stop the load generators this driver started, then exit."""
    for proc in list(RUNNING):
        if proc.poll() is None:
            proc.kill()
    raise SystemExit(128 + signum)


def finish_wrk(proc, out, limit_s):
    try:
        stdout, stderr = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise RuntimeError(f"wrk did not finish within {limit_s:.0f} s")
    finally:
        RUNNING.discard(proc)
    if proc.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"wrk failed ({proc.returncode}): {stderr.strip()} {stdout.strip()[-500:]}")
    with open(out) as f:
        result = json.load(f)
    if stderr.strip():
        result["wrk_stderr"] = stderr.strip()[-500:]
    return result


class Sample:
    """CPU (server tree, PostgreSQL tree, this process's children = the load generators) and
    peak RSS of the server around one measured run."""

    def __init__(self, server):
        self.pid = SERVERS[server]["pid"] if server in SERVERS else None
        if self.pid:
            if not alive(self.pid):
                raise RuntimeError(f"{server} (pid {self.pid}) is not running any more")
            reset_peak_rss(self.pid)
        self.t0 = time.time()
        self.server0 = cpu_ticks(self.pid)
        self.db0 = cpu_ticks(PG_PID)
        self.children0 = resource.getrusage(resource.RUSAGE_CHILDREN)

    def finish(self):
        wall = time.time() - self.t0
        server1, db1 = cpu_ticks(self.pid), cpu_ticks(PG_PID)
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        client = (children1.ru_utime + children1.ru_stime
                  - self.children0.ru_utime - self.children0.ru_stime)

        def pct(t0, t1):
            if t0 is None or t1 is None:
                return None
            return round(100.0 * (t1 - t0) / CLK_TCK / wall, 1)

        return {
            "wall_s": round(wall, 3),
            "cpu_pct": pct(self.server0, server1),
            "db_cpu_pct": pct(self.db0, db1),
            "client_cpu_pct": round(100.0 * client / wall, 1),
            "peak_rss_kb": peak_rss_kb(self.pid) if self.pid else None,
        }


def wrk_env(workload, server):
    if workload in ("get", "verify"):
        return {"BENCH_TOKENS": access_path(server)}
    if workload == "login":
        return {"BENCH_USERS": users_path(), "BENCH_PASSWORD": PASSWORD}
    raise ValueError(workload)


def measure_simple(workload, server, conns, duration, record=True):
    """One wrk run of get/verify/login/refresh against one server."""
    port = SERVERS[server]["port"]
    path = WORKLOAD_PATH[workload]
    script = f"{workload}.lua"
    extra, pool_out = {}, None
    if workload == "refresh":
        need = conns + 4 * CFG["wrk_threads"] + 4
        ensure_pool(server, need)
        pool_out = os.path.join(WORK, "pool-out.txt")
        open(pool_out, "w").close()
        extra = {"BENCH_TOKENS": pool_path(server), "BENCH_POOL_OUT": pool_out}
    elif workload == "login":
        pool_out = os.path.join(WORK, "pool-out.txt")
        open(pool_out, "w").close()
        extra = dict(wrk_env(workload, server), BENCH_POOL_OUT=pool_out)
    else:
        extra = wrk_env(workload, server)
    sample = Sample(server) if record else None
    proc, out, conns_used, threads = run_wrk(server, script, conns, duration, port, path, extra)
    result = finish_wrk(proc, out, duration + 120)
    stats = sample.finish() if sample else {}
    stats["drain_s"] = wait_idle(server)
    if workload == "refresh":
        shutil.move(pool_out, pool_path(server))          # the unspent rest is the new pool
    elif workload == "login":
        with open(pool_out) as src, open(pool_path(server), "a") as dst:
            shutil.copyfileobj(src, dst)                   # harvested tokens join the pool
    return summarize(result, stats, conns_used, threads)


def summarize(result, stats, conns, threads):
    secs = result["duration_us"] / 1e6
    lat = result["latency_us"]
    errors = result["errors"]
    return {
        "connections": conns,
        "wrk_threads": threads,
        "requests": result["requests"],
        "seconds": round(secs, 3),
        "rps": round(result["requests"] / secs, 2) if secs else 0.0,
        "p50_ms": round(lat["p50"] / 1000, 3),
        "p90_ms": round(lat["p90"] / 1000, 3),
        "p99_ms": round(lat["p99"] / 1000, 3),
        "mean_ms": round(lat["mean"] / 1000, 3),
        "max_ms": round(lat["max"] / 1000, 3),
        "non2xx": result["non2xx"],
        "statuses": result["statuses"],
        "socket_errors": errors["connect"] + errors["read"] + errors["write"],
        "timeouts": errors["timeout"],
        "starved": result.get("starved", 0),
        "sent": result.get("sent", {}),
        "pool_left": result.get("pool_left"),
        **stats,
        **({"wrk_stderr": result["wrk_stderr"]} if "wrk_stderr" in result else {}),
    }


def measure_mixed(server, conns, duration):
    """GETs from one wrk process, refresh+login from a second one, at the same time."""
    port = SERVERS[server]["port"]
    wconns = max(1, conns // CFG["mixed_write_divisor"])
    need = wconns + 8
    ensure_pool(server, need)
    pool_out = os.path.join(WORK, "pool-out-mixed.txt")
    open(pool_out, "w").close()
    _, refresh_w, login_w = CFG["mixed_weights"]
    write_env = {"BENCH_TOKENS": pool_path(server), "BENCH_POOL_OUT": pool_out,
                 "BENCH_USERS": users_path(), "BENCH_PASSWORD": PASSWORD,
                 "BENCH_REFRESH_WEIGHT": refresh_w, "BENCH_LOGIN_WEIGHT": login_w}
    sample = Sample(server)
    wproc, wout, wconns, wthreads = run_wrk(server, "mixed_writes.lua", wconns, duration, port,
                                            "/api/token/refresh/", write_env, threads=1,
                                            out_tag="mixed-writes")
    gproc, gout, gconns, gthreads = run_wrk(server, "get.lua", conns, duration, port, "/api/me/",
                                            {"BENCH_TOKENS": access_path(server)},
                                            out_tag="mixed-get")
    gres = finish_wrk(gproc, gout, duration + 120)
    wres = finish_wrk(wproc, wout, duration + 120)
    stats = sample.finish()
    stats["drain_s"] = wait_idle(server)
    shutil.move(pool_out, pool_path(server))
    get_row = summarize(gres, stats, gconns, gthreads)
    write_row = summarize(wres, stats, wconns, wthreads)
    return get_row, write_row


def measure_bcrypt(duration):
    t0 = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([BCRYPT_BENCH, "--cost", str(CFG["bcrypt_cost"]),
                           "--seconds", str(duration)],
                          capture_output=True, text=True, timeout=duration + 300, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.time() - t0
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {
        "connections": None,
        "threads": data["threads"],
        "requests": data["hashes"],
        "seconds": data["seconds"],
        "rps": data["hashes_per_s"],
        "p50_ms": None, "p99_ms": None,
        "non2xx": 0, "socket_errors": 0, "timeouts": 0, "starved": 0,
        "wall_s": round(wall, 3),
        "cpu_pct": round(100.0 * cpu / wall, 1),
        "db_cpu_pct": None, "peak_rss_kb": None,
    }


# ---------------------------------------------------------------- main loop


def fmt(row):
    parts = [f"{row['rps']:>10.1f} req/s"]
    if row.get("p99_ms") is not None:
        parts.append(f"p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms")
    errs = row.get("non2xx", 0) + row.get("socket_errors", 0)
    parts.append(f"errors {errs}")
    if row.get("cpu_pct") is not None:
        parts.append(f"cpu {row['cpu_pct']:.0f}%")
    if row.get("starved"):
        parts.append(f"STARVED {row['starved']}")
    if (row.get("drain_s") or 0) >= 1:
        parts.append(f"(drained {row['drain_s']:.0f} s)")
    return "  ".join(parts)


def keyward_metrics():
    """Whether keyward ran with its metrics on and, if so, how many requests they counted."""
    bind = os.environ.get("KEYWARD_METRICS_BIND", "")
    if not bind:
        return {"on": False}
    counted = None
    try:
        with urllib.request.urlopen(f"http://{bind}/metrics", timeout=10) as response:
            text = response.read().decode()
        counted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                      if line.startswith("keyward_http_requests_total{"))
    except (OSError, ValueError, IndexError) as e:
        log(f"cannot scrape keyward's metrics on {bind}: {e}")
    return {"on": True, "bind": bind, "requests_counted": counted}


def main():
    signal.signal(signal.SIGTERM, stop_running)
    signal.signal(signal.SIGINT, stop_running)
    started = time.time()
    for name, server in SERVERS.items():
        if not alive(server["pid"]):
            raise SystemExit(f"{name} (pid {server['pid']}) is not running")
    setup_users_and_tokens()
    setup_peak = {name: peak_rss_kb(s["pid"]) for name, s in SERVERS.items()}

    runs = []
    duration = CFG["duration"]
    for workload in CFG["workloads"]:
        if workload not in WORKLOAD_SERVERS:
            raise SystemExit(f"unknown workload {workload!r} (known: {' '.join(WORKLOAD_SERVERS)})")
        servers = WORKLOAD_SERVERS[workload]
        if CFG["warmup"] > 0 and workload in ("get", "verify", "refresh"):
            for server in servers:
                if server in SERVERS:
                    measure_simple(workload, server, min(CFG["connections"]), CFG["warmup"],
                                   record=False)
            log(f"[{workload}] warmed up {CFG['warmup']:.0f} s per server")
        for conns in CFG["connections"]:
            for rnd in range(1, CFG["rounds"] + 1):
                for server in servers:
                    time.sleep(CFG["pause"])
                    base = {"workload": workload, "server": server, "round": rnd,
                            "conns": conns}
                    if server == "bcrypt":
                        row = measure_bcrypt(duration)
                        runs.append({**base, **row})
                        log(f"[{workload} c={conns} r={rnd}] {server:8s} {fmt(row)}")
                    elif workload == "mixed":
                        get_row, write_row = measure_mixed(server, conns, duration)
                        runs.append({**base, "workload": "mixed_get", **get_row})
                        runs.append({**base, "workload": "mixed_writes", **write_row})
                        log(f"[mixed c={conns} r={rnd}] {server:8s} GET    {fmt(get_row)}")
                        log(f"[mixed c={conns} r={rnd}] {server:8s} writes {fmt(write_row)}"
                            f"  sent {write_row['sent']}")
                    else:
                        row = measure_simple(workload, server, conns, duration)
                        runs.append({**base, **row})
                        log(f"[{workload} c={conns} r={rnd}] {server:8s} {fmt(row)}")
                    with open(RAW + ".tmp", "w") as f:
                        json.dump({"partial": True, "runs": runs}, f)

    peak = {name: peak_rss_kb(s["pid"]) for name, s in SERVERS.items()}
    meta = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(time.time() - started, 1),
        "config": CFG,
        "cores": os.cpu_count(),
        "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
        "peak_rss_setup_kb": setup_peak,
        "peak_rss_overall_kb": {
            name: max([setup_peak[name]] + [r.get("peak_rss_kb") or 0 for r in runs
                                            if r["server"] == name])
            for name in SERVERS},
        "rss_hwm_last_run_kb": peak,
        "label": env("BENCH_LABEL", ""),
        "versions": json.loads(env("BENCH_VERSIONS", "{}")),
        "peer": {"workers": env("PEER_WORKERS", ""), "worker_class": env("PEER_WORKER_CLASS", "")},
        "keyward_metrics": keyward_metrics(),
    }
    with open(RAW, "w") as f:
        json.dump({"meta": meta, "runs": runs}, f, indent=1)
    if os.path.exists(RAW + ".tmp"):
        os.remove(RAW + ".tmp")
    log(f"raw results: {RAW} ({meta['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
