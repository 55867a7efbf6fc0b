"""Server throughput: `GET /system/me` with a session and with HTTP Basic credentials, and
`/system/batch` with five inner GETs, under wrk on loopback, against a bare one-route
Hummingbird server (`oaken bare-route`, built with the same flags) measured in the same run.
Prints requests/s and p99 latency (medians of BENCH_SERVER_RUNS rounds, default 3) and the
ratios. Then the worst batch an anonymous caller can send (as many inner downloads of a large
public file as a batch may hold), several at once: the reply's size and the server's peak
memory, against its memory before.

BENCH_SERVER_SECONDS (default 10) sets each wrk run's length, BENCH_SERVER_CONNECTIONS
(default 32) its connections.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from benchlib import OAKEN, median, row, section

RUNS = int(os.environ.get("BENCH_SERVER_RUNS", "3"))
SECONDS = int(os.environ.get("BENCH_SERVER_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_SERVER_CONNECTIONS", "32"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, path):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port}")


def post(port, path, fields, cookie=None):
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST")
    request.add_header("Referer", f"http://127.0.0.1:{port}/")
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request) as reply:
        return reply.headers.get("Set-Cookie")


class Connection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads whole replies, with as
    little client work as possible (http.client's reply parsing costs about as much as a
    small search), so that a timed request measures the server."""

    def __init__(self, port, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.buffer = b""

    def get(self, target):
        """Returns (status, body)."""
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.extra}\r\n".encode())
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    def _receive(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise SystemExit("the server closed the connection")
        self.buffer += data

    def close(self):
        self.sock.close()


def wrk(url, cookie=None, authorization=None):
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url]
    if cookie:
        argv[1:1] = ["-H", f"Cookie: {cookie}"]
    if authorization:
        argv[1:1] = ["-H", f"Authorization: {authorization}"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)\b", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses")
    return rate, float(p99.group(1)) * scale


def rss(pid):
    """(current, peak) resident memory of a process, in bytes."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def upload(port, cookie, name, data):
    boundary = "benchboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"fileData\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/system/pool/createfile", data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Referer", f"http://127.0.0.1:{port}/")
    request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request) as reply:
        return json.load(reply)[name]["poolId"]


def worst_batch(port, cookie, pid):
    """Anonymous batches of as many downloads of a 4 MiB public file as a batch may hold, eight
    at once: every reply stays within the reply budget, and the server's memory with it."""
    pool_id = upload(port, cookie, "large.bin", os.urandom(4 << 20))
    post(port, f"/p/{pool_id}.members.html", [(":viewer", "everyone"), (":viewer", "anonymous")], cookie)
    inner = json.dumps([{"url": f"/p/{pool_id}", "method": "GET"}] * 50)
    # Starts the peak afresh, so that it is this measurement's (not the wrk runs').
    with open(f"/proc/{pid}/clear_refs", "w") as clear:
        clear.write("5")
    before, _ = rss(pid)
    sizes = []

    def one():
        data = urllib.parse.urlencode({"requests": inner}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/system/batch", data=data, method="POST")
        request.add_header("Referer", f"http://127.0.0.1:{port}/")
        with urllib.request.urlopen(request) as reply:
            sizes.append(len(reply.read()))

    import threading
    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after, peak = rss(pid)
    section("worst-case anonymous batch: 50 downloads of a 4 MiB public file, 8 batches at once")
    row("largest reply", f"{max(sizes) / (1 << 20):8.1f} MiB (budget 16 MiB of inner bodies)")
    row("server memory before / after / peak during", f"{before / (1 << 20):6.0f} / {after / (1 << 20):6.0f} / {peak / (1 << 20):6.0f} MiB")


def main():
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: make bench-deps installs it")
    work = tempfile.mkdtemp(prefix="oaken-bench-server-")
    processes = []
    try:
        oaken_port, bare_port = free_port(), free_port()
        env = dict(os.environ, OAKEN_ADMIN_PASSWORD="bench admin password")
        processes.append(subprocess.Popen(
            [OAKEN, "serve", "--data", os.path.join(work, "data"), "--port", str(oaken_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        processes.append(subprocess.Popen(
            [OAKEN, "bare-route", "--port", str(bare_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(oaken_port, "/system/me")
        wait_for(bare_port, "/system/me")
        post(oaken_port, "/system/userManager/user.create.html",
             {":name": "bench", "pwd": "bench password", "pwdConfirm": "bench password", "firstName": "Bench", "lastName": "User"})
        cookie = post(oaken_port, "/system/sling/formlogin", {"sakaiauth:un": "bench", "sakaiauth:pw": "bench password"}).split(";")[0]
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{oaken_port}/system/me", headers={"Cookie": cookie})) as reply:
            me = json.load(reply)
        userid = me["user"]["userid"]
        home = f"/~{userid}"
        post(oaken_port, f"{home}/public/pubspace", {":operation": "import", ":contentType": "json",
             ":content": json.dumps({"structure0": "{}", "page": {"title": "Bench"}})}, cookie)
        inner = [{"url": url, "method": "GET"} for url in [
            "/system/me", f"{home}/public/authprofile.profile.json", f"{home}/public/pubspace.infinity.json",
            f"{home}/public/pubspace/page.json", f"{home}/message.count.json"]]
        batch = "/system/batch?" + urllib.parse.urlencode({"requests": json.dumps(inner)})

        import base64
        basic = "Basic " + base64.b64encode(b"bench:bench password").decode()
        results = {"bare": [], "me": [], "basic": [], "batch": []}
        for _ in range(RUNS):
            results["bare"].append(wrk(f"http://127.0.0.1:{bare_port}/system/me"))
            results["me"].append(wrk(f"http://127.0.0.1:{oaken_port}/system/me", cookie))
            results["basic"].append(wrk(f"http://127.0.0.1:{oaken_port}/system/me", authorization=basic))
            results["batch"].append(wrk(f"http://127.0.0.1:{oaken_port}{batch}", cookie))
        rate = {k: median([r for r, _ in v]) for k, v in results.items()}
        p99 = {k: median([p for _, p in v]) for k, v in results.items()}
        section(f"server: wrk -t2 -c{CONNECTIONS} -d{SECONDS}s on loopback, median of {RUNS}")
        row("bare Hummingbird route", f"{rate['bare']:9.0f} req/s  p99 {p99['bare']:6.2f} ms")
        row("GET /system/me with a session", f"{rate['me']:9.0f} req/s  p99 {p99['me']:6.2f} ms")
        row("GET /system/me with HTTP Basic", f"{rate['basic']:9.0f} req/s  p99 {p99['basic']:6.2f} ms")
        row("GET /system/batch, five inner GETs", f"{rate['batch']:9.0f} req/s  p99 {p99['batch']:6.2f} ms")
        row("ratio /system/me / bare (target >= 0.5)", f"{rate['me'] / rate['bare']:8.2f}x")
        row("ratio batch / bare", f"{rate['batch'] / rate['bare']:8.2f}x")
        row("ratio Basic / session", f"{rate['basic'] / rate['me']:8.2f}x")
        worst_batch(oaken_port, cookie, processes[0].pid)
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
