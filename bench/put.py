"""`oaken put` of a large file against `openssl dgst -sha256` of the same file.

Both read the file from the page cache; `oaken put` also writes a copy, fsyncs it and commits
the metadata, so a ratio near 1 means the copy costs little next to the hashing. Peak RSS
shows that the file is streamed, never buffered.
"""
import os
import shutil
import subprocess
import tempfile

from benchlib import OAKEN, REPEATS, median, mib, row, run_timed, section

SIZE = int(os.environ.get("BENCH_PUT_BYTES", str(1 << 30)))


def make_file(path, size):
    # Random bytes, so nothing in the path can compress or skip them.
    with open(path, "wb") as out:
        subprocess.run(["head", "-c", str(size), "/dev/urandom"], stdout=out, check=True)


def main():
    section(f"put: oaken put vs openssl dgst -sha256, {mib(SIZE):.0f} MiB, median of {REPEATS}")
    work = tempfile.mkdtemp(prefix="oaken-bench-put-")
    try:
        source = os.path.join(work, "source.bin")
        make_file(source, SIZE)
        run_timed(["openssl", "dgst", "-sha256", source])  # warm the page cache
        openssl, oaken, rss = [], [], []
        for i in range(REPEATS):
            openssl.append(run_timed(["openssl", "dgst", "-sha256", source])[0])
            data = os.path.join(work, f"data-{i}")
            seconds, peak = run_timed([OAKEN, "put", source, "--data", data])
            oaken.append(seconds)
            rss.append(peak)
            shutil.rmtree(data)
        reference = SIZE / median(openssl)
        measured = SIZE / median(oaken)
        row("openssl dgst -sha256", f"{mib(reference):8.0f} MiB/s")
        row("oaken put (hash + write + fsync + commit)", f"{mib(measured):8.0f} MiB/s")
        row("throughput ratio oaken/openssl (target >= 0.8)", f"{measured / reference:8.2f}x")
        row(f"oaken put peak RSS at {mib(SIZE):.0f} MiB (target < 64)", f"{mib(max(rss)):8.1f} MiB")
        # The same at a small size: a flat figure means the file is streamed, not buffered.
        small = os.path.join(work, "small.bin")
        make_file(small, 16 << 20)
        data = os.path.join(work, "data-small")
        _, small_rss = run_timed([OAKEN, "put", small, "--data", data])
        row("oaken put peak RSS at 16 MiB", f"{mib(small_rss):8.1f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
