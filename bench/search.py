"""Search over HTTP against the raw FTS5 query on the same database file, in the same run.

A site of generated text documents is spread over 20 owners, a third public, a third for
logged-in users and a third private and shared with one of 40 groups. A user who belongs to 20
of those groups searches `/var/search/pool/all.json` (a page of 25, with its total, tag facets
and snippets) for a rare term, a common term, an AND, a phrase and a prefix; the reference is
the bare FTS5 query for the same page, the best 25 rows by rank with their snippets, run by
Python's sqlite3 (the same system library) on the same file. Prints p50 and p99 of each and the
ratios.

BENCH_SEARCH_SIZES (default "10000,100000") sets the sites' sizes. Each query is timed at least
BENCH_SEARCH_REPS times (default 100) and for at least BENCH_SEARCH_SECONDS (default 3, at most
5,000 times), so that a fast query's p99 comes from a thousand samples or so rather than being
the second-slowest of a hundred; each request is followed by its raw query so that both meet
the same noise. BENCH_SEARCH_SITES names a folder where the built sites are
kept and reused by later runs (building the 100,000-item site takes minutes).
"""
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

from benchlib import OAKEN, ROOT, row, section, standard_queries
from server import Connection, free_port, post, wait_for

sys.path.insert(0, os.path.join(ROOT, "corpus"))
from generate import zipf_words  # noqa: E402

GENERATE = os.path.join(ROOT, "corpus", "generate.py")
SIZES = [int(n) for n in os.environ.get("BENCH_SEARCH_SIZES", "10000,100000").split(",") if n]
REPS = int(os.environ.get("BENCH_SEARCH_REPS", "100"))
SECONDS = float(os.environ.get("BENCH_SEARCH_SECONDS", "3"))
MAXIMUM_REPS = 5000
OWNERS, GROUPS, MEMBERSHIPS = 20, 40, 20
PAGE = 25
PASSWORD = "bench password"


def percentile(times, fraction):
    """The nearest-rank percentile: the smallest time at least `fraction` of them reach."""
    ordered = sorted(times)
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


def build_site(work, size):
    """Indexes `size` generated documents, then spreads them over owners, visibilities and
    group grants directly in the database (before the server starts). A site kept from an
    earlier run (BENCH_SEARCH_SITES) is used as it is."""
    kept = os.environ.get("BENCH_SEARCH_SITES")
    if kept:
        work = kept
        os.makedirs(work, exist_ok=True)
    corpus = os.path.join(work, f"corpus-{size}")
    data = os.path.join(work, f"data-{size}")
    if kept and os.path.exists(os.path.join(data, "complete")):
        return data
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([sys.executable, GENERATE, "zipf", corpus, "--count", str(size), "--kinds", "txt", "--seed", "3"], check=True)
    subprocess.run([OAKEN, "index", corpus, "--data", data], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(corpus)
    password_file = os.path.join(work, "password")
    with open(password_file, "w") as f:
        f.write(PASSWORD + "\n")
    for login in ["searcher"] + [f"owner{n}" for n in range(OWNERS)]:
        subprocess.run([OAKEN, "user", "add", login, "--first-name", "Bench", "--last-name", login, "--data", data,
                        "--password-file", password_file], check=True, stdout=subprocess.DEVNULL)
    rng = random.Random(5)
    db = sqlite3.connect(os.path.join(data, "oaken.sqlite"))
    with db:
        ids = {login: uid for uid, login in db.execute("SELECT id, loginName FROM user")}
        owners = [ids[f"owner{n}"] for n in range(OWNERS)]
        groups = [f"bench-group-{n}" for n in range(GROUPS)]
        for group in groups:
            db.execute("INSERT INTO principal (id, kind, createdAt, lastModifiedAt) VALUES (?, 'group', 0, 0)", (group,))
            db.execute("INSERT INTO userGroup (id, title) VALUES (?, ?)", (group, group))
        for group in rng.sample(groups, MEMBERSHIPS):
            db.execute("INSERT INTO groupMembership (groupId, memberId, addedAt) VALUES (?, ?, 0)", (group, ids["searcher"]))
        items = [item for (item,) in db.execute("SELECT id FROM contentItem ORDER BY createdAt, id")]
        for n, item in enumerate(items):
            owner = owners[n % OWNERS]
            visibility = ("public", "logged-in", "private")[rng.randrange(3)]
            db.execute("UPDATE contentItem SET createdBy = ?, lastModifiedBy = ?, visibility = ? WHERE id = ?",
                       (owner, owner, visibility, item))
            db.execute("UPDATE contentGrant SET principalId = ? WHERE itemId = ? AND role = 'manager'", (owner, item))
            if visibility == "private":
                db.execute("INSERT INTO contentGrant (itemId, principalId, role, grantedAt) VALUES (?, ?, 'viewer', 0)",
                           (item, rng.choice(groups)))
    db.close()
    open(os.path.join(data, "complete"), "w").close()
    return data


def interleaved_times(port, cookie, target, db_path, fts, reps):
    """Times requests for `target` and as many raw queries, alternating one of each so that
    both see the same spells of noise on a shared machine (after a warm-up of each): at least
    `reps` of each, and more until SECONDS have passed (at most MAXIMUM_REPS).
    Returns (request times, raw times, last response body)."""
    connection = Connection(port, {"Cookie": cookie})
    raw = sqlite3.connect(db_path)
    statement = ("SELECT rowid, snippet(bodyText, -1, char(2), char(3), '…', 24) FROM bodyText "
                 f"WHERE bodyText MATCH ? ORDER BY rank LIMIT {PAGE}")
    http_times, raw_times, body = [], [], b""
    started = time.perf_counter()
    n = 0
    while n < reps + 2 or (time.perf_counter() - started < SECONDS and n < MAXIMUM_REPS + 2):
        start = time.perf_counter()
        status, body = connection.get(target)
        if status != 200:
            raise SystemExit(f"{target}: {status} {body[:200]}")
        middle = time.perf_counter()
        raw.execute(statement, (fts,)).fetchall()
        end = time.perf_counter()
        if n >= 2:
            http_times.append((middle - start) * 1000)
            raw_times.append((end - middle) * 1000)
        n += 1
    connection.close()
    raw.close()
    return http_times, raw_times, body


def measure(work, size):
    started = time.perf_counter()
    data = build_site(work, size)
    build_seconds = time.perf_counter() - started
    port = free_port()
    server = subprocess.Popen([OAKEN, "serve", "--data", data, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, OAKEN_ADMIN_PASSWORD="bench admin password"))
    try:
        wait_for(port, "/system/me")
        cookie = post(port, "/system/sling/formlogin",
                      {"sakaiauth:login": "1", "sakaiauth:un": "searcher", "sakaiauth:pw": PASSWORD}).split(";")[0]
        built = "site kept from an earlier run" if build_seconds < 1 else f"site built in {build_seconds:.0f} s"
        queries = standard_queries(zipf_words(random.Random(7), 50_000))
        section(f"search at {size} items over HTTP, as a user in {MEMBERSHIPS} groups, vs raw FTS5 "
                f"({built}; at least {REPS} requests each, and {SECONDS:g} s)")
        print(f"  {'query':<13}{'http p50':>10}{'p99':>9}{'raw p50':>10}{'p99':>9}{'p50 ratio':>11}{'p99 ratio':>11}"
              f"{'total':>8}{'requests':>10}")
        for label, q, fts in queries:
            target = "/var/search/pool/all.json?" + urllib.parse.urlencode({"q": q, "items": str(PAGE)})
            times, raw, body = interleaved_times(port, cookie, target, os.path.join(data, "oaken.sqlite"), fts, REPS)
            total = body.rsplit(b'"total":', 1)[-1].rstrip(b"}")
            h50, h99, r50, r99 = percentile(times, 0.5), percentile(times, 0.99), percentile(raw, 0.5), percentile(raw, 0.99)
            print(f"  {label:<13}{h50:8.1f}ms{h99:7.1f}ms{r50:8.1f}ms{r99:7.1f}ms{h50 / max(r50, 0.001):10.1f}x"
                  f"{h99 / max(r99, 0.001):10.1f}x{total.decode():>8}{len(times):>10}")
        row("targets", "rare-term p99 <= 2x raw; every query under 100 ms at 100000 items")
    finally:
        server.terminate()
        server.wait()


def main():
    work = tempfile.mkdtemp(prefix="oaken-bench-search-")
    try:
        for size in SIZES:
            measure(work, size)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
