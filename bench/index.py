"""The indexer against the tools people would otherwise use, in the same run.

1. `oaken index` of a folder of PDFs against serial `pdftotext` of the same PDFs.
2. Full-text insert throughput: `oaken index` of the extracted text, as text files, against
   the `sqlite3` command bulk-inserting the same text into an FTS5 table with the same tokenizer.
3. Query latency at a large generated corpus: `oaken search --repeat` against the raw FTS5
   query run by the `sqlite3` command on the same database file.

BENCH_CORPUS=DIR uses the PDFs under DIR instead of a generated corpus for 1; BENCH_INDEX_DOCS
(default 300) sets the generated PDFs, BENCH_TEXT_DOCS (default 5000) the text documents for
2, BENCH_QUERY_DOCS (default 100000) those for 3.
"""
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from benchlib import OAKEN, ROOT, median, mib, row, section, standard_queries

sys.path.insert(0, os.path.join(ROOT, "corpus"))
from generate import zipf_words  # noqa: E402

GENERATE = os.path.join(ROOT, "corpus", "generate.py")
SAMPLE = os.path.join(ROOT, "corpus", "sample")
INDEX_DOCS = int(os.environ.get("BENCH_INDEX_DOCS", "300"))
TEXT_DOCS = int(os.environ.get("BENCH_TEXT_DOCS", "5000"))
QUERY_DOCS = int(os.environ.get("BENCH_QUERY_DOCS", "100000"))
RUNS = int(os.environ.get("BENCH_INDEX_RUNS", "3"))
JOBS = str(os.cpu_count() or 2)
TOKENIZER = "porter unicode61 remove_diacritics 2"


def timed(argv, **kwargs):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def is_pdf(path):
    with open(path, "rb") as f:
        return f.read(5) == b"%PDF-"


def collect_pdfs(roots, into):
    """Copies every PDF under `roots` into one flat folder."""
    os.makedirs(into, exist_ok=True)
    count = 0
    for root in roots:
        for folder, _, names in sorted(os.walk(root)):
            for name in sorted(names):
                path = os.path.join(folder, name)
                if os.path.isfile(path) and is_pdf(path):
                    shutil.copy(path, os.path.join(into, f"{count:07d}.pdf"))
                    count += 1
    return count


def pdf_index_ratio(work):
    pdfs = os.path.join(work, "pdfs")
    if os.environ.get("BENCH_CORPUS"):
        collect_pdfs([os.environ["BENCH_CORPUS"]], pdfs)
    else:
        generated = os.path.join(work, "generated")
        subprocess.run([sys.executable, GENERATE, "zipf", generated, "--count", str(INDEX_DOCS), "--kinds", "pdf"], check=True)
        collect_pdfs([SAMPLE, generated], pdfs)
    files = sorted(os.path.join(pdfs, f) for f in os.listdir(pdfs))
    section(f"index: oaken index vs serial pdftotext, {len(files)} PDFs, median of {RUNS}")

    def serial_pdftotext():
        start = time.perf_counter()
        for f in files:
            subprocess.run(["pdftotext", "-q", f, "/dev/null"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    reference = median([serial_pdftotext() for _ in range(RUNS)])
    oaken = []
    for i in range(RUNS):
        data = os.path.join(work, f"index-data-{i}")
        oaken.append(timed([OAKEN, "index", pdfs, "--data", data, "--jobs", JOBS]))
        shutil.rmtree(data)
    measured = median(oaken)
    row("serial pdftotext", f"{reference:8.2f} s")
    row(f"oaken index --jobs {JOBS} (store + extract + index)", f"{measured:8.2f} s")
    row("wall-time ratio oaken/pdftotext (target <= 0.6)", f"{measured / reference:8.2f}x")


def fts_insert_ratio(work):
    texts = os.path.join(work, "texts")
    subprocess.run([sys.executable, GENERATE, "zipf", texts, "--count", str(TEXT_DOCS), "--kinds", "txt", "--seed", "9"],
                   check=True)
    size = sum(os.path.getsize(os.path.join(folder, f)) for folder, _, files in os.walk(texts) for f in files)
    section(f"fts insert: oaken index vs sqlite3 bulk insert, {TEXT_DOCS} text files, {mib(size):.1f} MiB, median of {RUNS}")
    sqlite_runs, oaken_runs, index_phase, index_writes = [], [], [], []
    for i in range(RUNS):
        db = os.path.join(work, f"raw-{i}.sqlite")
        script = (f"CREATE VIRTUAL TABLE t USING fts5(body, tokenize = '{TOKENIZER}', prefix = '2 3');\n"
                  f"BEGIN; INSERT INTO t(body) SELECT CAST(data AS TEXT) FROM fsdir('{texts}') WHERE name LIKE '%.txt'; COMMIT;\n")
        sqlite_runs.append(timed(["sqlite3", db], input=script.encode()))
        os.remove(db)
        data = os.path.join(work, f"text-data-{i}")
        start = time.perf_counter()
        out = subprocess.run([OAKEN, "index", texts, "--data", data, "--jobs", JOBS],
                             check=True, capture_output=True, text=True).stdout
        oaken_runs.append(time.perf_counter() - start)
        index_phase.append(float(re.search(r"extracted and indexed in ([0-9.]+) s", out).group(1)))
        index_writes.append(float(re.search(r"index writes: .* in ([0-9.]+) s", out).group(1)))
        shutil.rmtree(data)
    reference = size / median(sqlite_runs)
    whole = size / median(oaken_runs)
    phase = size / median(index_phase)
    writes = size / median(index_writes)
    row("sqlite3 bulk insert into FTS5", f"{mib(reference):8.2f} MiB/s")
    row("oaken index writes (FTS rows + bookkeeping)", f"{mib(writes):8.2f} MiB/s")
    row("oaken extract + index phase", f"{mib(phase):8.2f} MiB/s")
    row("oaken whole run (store + extract + index)", f"{mib(whole):8.2f} MiB/s")
    row("ratio, index writes (target >= 0.7)", f"{writes / reference:8.2f}x")
    row("ratio, extract + index phase", f"{phase / reference:8.2f}x")
    row("ratio, whole run", f"{whole / reference:8.2f}x")


def raw_latencies(db, statement, runs):
    connection = sqlite3.connect(db)
    try:
        connection.execute(statement).fetchall()  # warm the page cache
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            connection.execute(statement).fetchall()
            times.append((time.perf_counter() - start) * 1000)
        return sorted(times)
    finally:
        connection.close()


def system_sqlite_version():
    return subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]


def query_latency(work):
    corpus = os.path.join(work, "query-corpus")
    data = os.path.join(work, "query-data")
    if sqlite3.sqlite_version != system_sqlite_version():
        print(f"  note: Python's SQLite {sqlite3.sqlite_version} differs from the sqlite3 command's {system_sqlite_version()}")
    section(f"query latency at {QUERY_DOCS} documents: oaken search vs the raw FTS5 query (SQLite {sqlite3.sqlite_version})")
    start = time.perf_counter()
    subprocess.run([sys.executable, GENERATE, "zipf", corpus, "--count", str(QUERY_DOCS), "--kinds", "txt"], check=True)
    row("generate corpus", f"{time.perf_counter() - start:8.1f} s")
    start = time.perf_counter()
    subprocess.run([OAKEN, "index", corpus, "--data", data, "--jobs", JOBS, "--visibility", "public"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    row("oaken index", f"{time.perf_counter() - start:8.1f} s")
    shutil.rmtree(corpus)

    queries = standard_queries(zipf_words(random.Random(7), 50_000))
    db = os.path.join(data, "oaken.sqlite")
    print(f"  {'query':<14}{'oaken p50':>11}{'p99':>10}{'raw p50':>11}{'p99':>10}{'p50 ratio':>11}{'p99 ratio':>11}{'hits':>9}")
    for label, query, fts in queries:
        out = subprocess.run([OAKEN, "search", query, "--data", data, "--repeat", "50"],
                             check=True, capture_output=True, text=True).stdout
        values = dict(part.split("=") for part in out.split())
        o50, o99 = float(values["p50_ms"]), float(values["p99_ms"])
        # The raw equivalent of a page of results: the top ten rows with their snippets.
        statement = (f"SELECT rowid, snippet(bodyText, -1, char(2), char(3), '…', 24) FROM bodyText "
                     f"WHERE bodyText MATCH '{fts}' ORDER BY rank LIMIT 10")
        # The sqlite3 shell's timer reports wall time in whole milliseconds and CPU time in
        # scheduler ticks, both too coarse here; Python's sqlite3 module runs the same system
        # library (checked below) and is timed with a nanosecond clock.
        times = raw_latencies(db, statement, 50)
        r50 = times[len(times) // 2]
        r99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"  {label:<14}{o50:9.2f}ms{o99:8.2f}ms{r50:9.2f}ms{r99:8.2f}ms{o50 / max(r50, 0.001):10.1f}x"
              f"{o99 / max(r99, 0.001):10.1f}x{values['total']:>9}")


def main():
    work = tempfile.mkdtemp(prefix="oaken-bench-index-")
    try:
        pdf_index_ratio(work)
        fts_insert_ratio(work)
        if QUERY_DOCS > 0:
            query_latency(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
