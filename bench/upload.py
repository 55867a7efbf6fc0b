"""An upload over HTTP against `openssl dgst -sha256` of the same file, in the same run.

A logged-in user uploads a large random file to `POST /system/pool/createfile` as the UI's
upload form does (multipart, field `fileData`), from a client that sends the file with
sendfile(2), so that the client's own copying does not count against the server. The server parses the multipart
stream, hashes and writes the bytes to the blob store and commits the item, so a ratio near
1 means parsing, copying and storing cost little next to the hashing. The server's peak RSS
after the large upload, next to its peak after a 16 MiB one, shows the body is streamed,
never held whole.

BENCH_UPLOAD_BYTES (default 1 GiB) sets the size, BENCH_REPEATS the runs.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from benchlib import OAKEN, REPEATS, median, mib, row, run_timed, section
from put import make_file
from server import free_port, post, wait_for

SIZE = int(os.environ.get("BENCH_UPLOAD_BYTES", str(1 << 30)))
RUNS = min(REPEATS, 5)


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def upload(port, cookie, path):
    """One multipart upload, the file's bytes sent with sendfile(2): the client copies
    nothing itself, so the figure is the server's."""
    boundary = "----OakenBenchBoundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"fileData\"; filename=\"upload.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.path.getsize(path)
    request = (f"POST /system/pool/createfile HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
               f"Referer: http://127.0.0.1:{port}/\r\nConnection: close\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               f"Content-Length: {len(head) + size + len(tail)}\r\n\r\n").encode() + head
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as connection, open(path, "rb") as body:
        connection.sendall(request)
        connection.sendfile(body)
        connection.sendall(tail)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    elapsed = time.perf_counter() - start
    status = answer.split(b" ", 2)[1] if answer else b"none"
    if status != b"201":
        raise SystemExit(f"upload answered {status.decode()}")
    return elapsed


def main():
    work = tempfile.mkdtemp(prefix="oaken-bench-upload-")
    server = None
    try:
        source = os.path.join(work, "source.bin")
        small = os.path.join(work, "small.bin")
        make_file(source, SIZE)
        make_file(small, 16 << 20)
        port = free_port()
        env = dict(os.environ, OAKEN_ADMIN_PASSWORD="bench admin password")
        server = subprocess.Popen(
            [OAKEN, "serve", "--data", os.path.join(work, "data"), "--port", str(port), "--max-upload", "4G"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_for(port, "/system/me")
        post(port, "/system/userManager/user.create.html",
             {":name": "bench", "pwd": "bench password", "pwdConfirm": "bench password", "firstName": "Bench", "lastName": "User"})
        cookie = post(port, "/system/sling/formlogin", {"sakaiauth:un": "bench", "sakaiauth:pw": "bench password"}).split(";")[0]

        upload(port, cookie, small)
        small_peak = peak_rss(server.pid)
        run_timed(["openssl", "dgst", "-sha256", source])  # warm the page cache
        openssl, oaken = [], []
        for _ in range(RUNS):
            openssl.append(run_timed(["openssl", "dgst", "-sha256", source])[0])
            oaken.append(upload(port, cookie, source))
        large_peak = peak_rss(server.pid)
        reference = SIZE / median(openssl)
        measured = SIZE / median(oaken)
        section(f"upload: POST /system/pool/createfile vs openssl dgst -sha256, {mib(SIZE):.0f} MiB, median of {RUNS}")
        row("openssl dgst -sha256", f"{mib(reference):8.0f} MiB/s")
        row("upload over HTTP (parse + hash + write + commit)", f"{mib(measured):8.0f} MiB/s")
        row("throughput ratio upload/openssl (target >= 0.6)", f"{measured / reference:8.2f}x")
        row("server peak RSS after a 16 MiB upload", f"{mib(small_peak):8.1f} MiB")
        row(f"server peak RSS after {mib(SIZE):.0f} MiB uploads", f"{mib(large_peak):8.1f} MiB")
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
