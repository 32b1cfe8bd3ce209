"""Load test for the chat: many concurrent API clients against a real `tutor chat` server on loopback.

    python bench/bench_load.py                      # 20 clients x 25 questions, twice: 1,000 requests
    python bench/bench_load.py --clients 40 --rounds 1 --corpus DIR --index DIR
    python bench/bench_load.py --flood 8            # the same while 8 threads post oversized bodies non-stop

It starts `python -m tutor chat --host 127.0.0.1 --port <free port>`, waits (bounded) until it serves,
asks every question once from a single client (the baseline: its latency, and which questions the
tutor answers with their expected evidence), then runs the concurrent clients through gradio_client's
`/ask` endpoint (the answer JSON of `Answer.to_dict()`). Every request must come back without an
error and with its first citation holding the question's expected evidence (eval/questions/questions.jsonl);
questions the baseline itself misses are left out and listed, so a failure here is about load, not
accuracy. It prints p50/p95 latency under load against the single-client baseline, throughput, errors,
and the server's resident memory before the load, after each round and after the last request.
With --flood N, N more threads send oversized requests (a claimed 50 MB body) without pause during the
concurrent rounds: each must be refused (413), and the figures show what the flood costs everyone else.
Exit status: 0 if every request passed, 1 if any failed or the time limit cut the run short, 2 if
the chat cannot be tested here (no tutor/ui.py yet, a missing package, or a server that never came up).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH, so a PYTHONPATH checkout wins
HOST = "127.0.0.1"  # loopback only: a load test has no business listening on a network


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def holds_evidence(answer: dict, evidence: str) -> bool:
    citations = answer.get("citations") or []
    if answer.get("error") or not citations:
        return False
    first = citations[0]
    want = normalise(evidence)
    return want in normalise(first.get("text", "")) or want in normalise(first.get("quote", ""))


def load_questions(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("answerable") and r.get("evidence")]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


class Server:
    """`tutor chat` in a subprocess of its own process group, its output in a log file."""

    def __init__(self, port: int, corpus: str | None, index: str | None) -> None:
        self.url = f"http://{HOST}:{port}/"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="tutor-chat-", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "tutor", "chat", "--host", HOST, "--port", str(port)]
        cmd += ["--corpus", corpus] if corpus else []
        cmd += ["--index", index] if index else []
        env = {
            **os.environ,
            # The same package this script found: PYTHONPATH first, then this checkout.
            "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])),
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def wait_until_serving(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.5)
        return False

    def rss_mib(self) -> float:
        import psutil

        try:
            proc = psutil.Process(self.proc.pid)
            procs = [proc, *proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.Error:
            return float("nan")

    def log_tail(self, lines: int = 25) -> str:
        self.log.flush()
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass


class Flood:
    """Threads that post oversized bodies to the chat's queue without pause: a claimed 50 MB, 4 KB sent."""

    def __init__(self, url: str, threads: int) -> None:
        host, port = url.split("//")[1].rstrip("/").split(":")
        self.address = (host, int(port))
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.sent = self.refused = self.other = self.errors = 0

    def _one(self) -> int:
        head = (f"POST /gradio_api/queue/join HTTP/1.1\r\nHost: {self.address[0]}\r\n"
                "Content-Type: application/json\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n")
        with socket.create_connection(self.address, timeout=10) as s:
            try:
                s.sendall(head.encode() + b"x" * 4096)
            except OSError:
                pass
            return int(s.recv(64).decode("latin-1").split(" ")[1])

    def _run(self) -> None:
        while not self.halt.is_set():
            try:
                status = self._one()
            except (OSError, ValueError, IndexError):
                with self.lock:
                    self.errors += 1
                continue
            with self.lock:
                self.sent += 1
                self.refused += status == 413
                self.other += status != 413

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.halt.set()
        for t in self.threads:
            t.join(timeout=15)


def missing_requirements() -> str | None:
    if importlib.util.find_spec("tutor.ui") is None:
        return "The chat is not available yet (tutor/ui.py is missing), so there is nothing to load-test."
    for module, package in (("gradio_client", "gradio_client"), ("psutil", "psutil"), ("gradio", "gradio")):
        if importlib.util.find_spec(module) is None:
            return f"The load test needs the '{package}' package: pip install {package}"
    return None


def run(args) -> int:
    why = missing_requirements()
    if why:
        print(why, file=sys.stderr)
        return 2
    from gradio_client import Client

    questions = load_questions(Path(args.questions))
    if not questions:
        print(f"No answerable questions with evidence in {args.questions}.", file=sys.stderr)
        return 2
    started = time.monotonic()
    deadline = started + args.time_limit
    server = Server(free_port(), args.corpus, args.index)
    # Past the time limit the server is stopped, which ends any request still waiting on it.
    watchdog = threading.Timer(args.time_limit + 5, server.stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        print(f"Starting the chat on {server.url} (log: {server.log.name}) …", flush=True)
        if not server.wait_until_serving(min(args.start_timeout, args.time_limit)):
            state = "exited" if server.proc.poll() is not None else "did not answer"
            print(f"The chat server {state} within {args.start_timeout:.0f} s. Its log ends:\n{server.log_tail()}",
                  file=sys.stderr)
            return 2
        print(f"Serving after {time.monotonic() - started:.1f} s.", flush=True)
        return _measure(args, Client, server, questions, deadline)
    finally:
        watchdog.cancel()
        server.stop()
        server.log.close()


def _measure(args, Client, server: Server, questions: list[dict], deadline: float) -> int:
    def connect():
        return Client(server.url, verbose=False, download_files=False, analytics_enabled=False)

    # Baseline: one client, each question once.
    client = connect()
    rss = {"before": server.rss_mib()}
    single_ms, kept, dropped = [], [], []
    for q in questions:
        if time.monotonic() > deadline:
            print("The time limit ran out during the single-client baseline.", file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        answer = client.predict(q["question"], api_name="/ask")
        single_ms.append((time.perf_counter() - t0) * 1000)
        (kept if holds_evidence(answer, q["evidence"]) else dropped).append(q)
    rss["after baseline"] = server.rss_mib()
    if not kept:
        print("The tutor answered no question with its expected evidence even from a single client.", file=sys.stderr)
        return 1
    per_client = [kept[(c * 7 + i) % len(kept)] for c in range(args.clients) for i in range(args.per_client)]

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    done = {"n": 0}

    def worker(c: int) -> None:
        mine = per_client[c * args.per_client : (c + 1) * args.per_client]
        try:
            client = connect()
        except Exception as exc:  # a client that cannot connect fails each of its requests
            with lock:
                failures.extend(f"client {c}: cannot connect ({exc})" for _ in mine)
            return
        for q in mine:
            if time.monotonic() > deadline:
                return
            t0 = time.perf_counter()
            try:
                answer = client.predict(q["question"], api_name="/ask")
                problem = None if holds_evidence(answer, q["evidence"]) else (
                    f"{q['id']}: " + (answer.get("error") or "first citation lacks the expected evidence"))
            except Exception as exc:  # every failure is counted, none stops the run
                problem = f"{q['id']}: {type(exc).__name__}: {exc}"
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                done["n"] += 1
                if problem:
                    failures.append(problem)

    planned = args.clients * args.per_client * args.rounds
    flood = Flood(server.url, args.flood)
    wall = []
    flood.start()
    for r in range(1, args.rounds + 1):
        t0 = time.perf_counter()
        # Daemon threads, joined with a bound: a request stuck past the limit cannot hold the script.
        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()) + 10)
        wall.append(time.perf_counter() - t0)
        rss[f"after round {r} ({done['n']} requests)"] = server.rss_mib()
        if time.monotonic() > deadline:
            break
    flood.stop()

    print()
    print(f"questions: {len(questions)} answerable with evidence; {len(kept)} answered with it by a single client")
    if dropped:
        print("  left out (missed even without load): " + ", ".join(q["id"] for q in dropped))
    print(f"single client : p50 {percentile(single_ms, 50):7.1f} ms   p95 {percentile(single_ms, 95):7.1f} ms")
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(f"{args.clients} clients    : p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {max(latencies or [0]):7.1f} ms"
          f"   ({p50 / percentile(single_ms, 50):.1f}x the single-client p50)")
    print(f"requests      : {done['n']} of {planned} done in {sum(wall):.1f} s "
          f"({done['n'] / max(sum(wall), 1e-9):.1f} per second), {len(failures)} failed")
    if args.flood:
        print(f"flood         : {args.flood} threads sent {flood.sent} oversized requests, "
              f"{flood.refused} refused with 413, {flood.other} answered otherwise, {flood.errors} connection errors")
        if flood.other:
            failures.append(f"{flood.other} oversized requests were not refused with 413")
    for label, value in rss.items():
        print(f"server RSS    : {value:8.1f} MiB  {label}")
    for problem in failures[:10]:
        print(f"  failed: {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "clients": args.clients, "per_client": args.per_client, "rounds": args.rounds,
            "requests_planned": planned, "requests_done": done["n"], "failures": failures,
            "single_ms": {"p50": percentile(single_ms, 50), "p95": percentile(single_ms, 95)},
            "load_ms": {"p50": p50, "p95": p95, "max": max(latencies or [0])},
            "seconds": sum(wall), "rss_mib": rss, "left_out": [q["id"] for q in dropped],
            "flood": {"threads": args.flood, "sent": flood.sent, "refused": flood.refused, "other": flood.other},
        }, indent=2))
    if done["n"] < planned:
        print(f"Stopped at the {args.time_limit:.0f} s time limit.", file=sys.stderr)
        return 1
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent API clients (default: 20)")
    parser.add_argument("--per-client", type=int, default=25, help="questions each client asks a round (default: 25)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (default: 2, i.e. 1,000 requests)")
    parser.add_argument("--questions", default=str(ROOT / "eval" / "questions" / "questions.jsonl"), help="question set (JSONL)")
    parser.add_argument("--corpus", help="course folder for the server (default: its own default)")
    parser.add_argument("--index", help="index folder for the server (default: its own default)")
    parser.add_argument("--start-timeout", type=float, default=240, help="seconds to wait for the server to serve")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for the whole run (default: 300)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--flood", type=int, default=0, metavar="N",
                        help="also run N threads posting oversized requests during the rounds (default: 0)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.per_client < 1 or args.rounds < 1:
        parser.error("--clients, --per-client and --rounds must be at least 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
