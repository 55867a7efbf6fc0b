"""Shared helpers for Oaken's benchmarks: run commands, take medians, print ratios.

Every figure is a ratio against a reference measured in the same run, because the machines
are shared and noisy and an absolute time alone means little.
"""
import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OAKEN = os.environ.get("OAKEN_BINARY", os.path.join(ROOT, ".build", "release", "oaken"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))


def run_timed(argv, **kwargs):
    """Runs argv to completion; returns (seconds, peak RSS in bytes of that child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    return elapsed, usage.ru_maxrss * 1024


def median(values):
    return statistics.median(values)


def mib(n):
    return n / (1 << 20)


def section(title):
    print()
    print(title)
    print("-" * len(title))


def row(label, value):
    print(f"  {label:<44} {value}")


def standard_queries(words):
    """The query kinds every search benchmark times, as (label, Oaken query, raw FTS5
    expression), from a Zipf vocabulary (most common word first)."""
    return [
        ("rare term", words[20000], f'"{words[20000]}"'),
        ("common term", words[0], f'"{words[0]}"'),
        ("AND", f"{words[40]} {words[90]}", f'("{words[40]}" AND "{words[90]}")'),
        ("phrase", f'"{words[0]} {words[1]}"', f'"{words[0]} {words[1]}"'),
        ("prefix", words[12][:3] + "*", f'"{words[12][:3]}" *'),
    ]
