"""How long `tutor chat` takes to serve: seconds from launch until the page answers over HTTP.

    python bench/bench_chat_start.py [--runs 2] [--corpus DIR --index DIR]

Builds the index first if needed (not timed), then starts `python -m tutor chat --port <free port>` as a
student's machine would, cold (first start) and warm (again, files now in the OS cache). The baseline,
measured in the same run, is a bare `python -c "import gradio, torch"`: the imports any Gradio + torch app
pays before doing anything. Target: serving within 15 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 15.0
TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def paths(args) -> list[str]:
    out = []
    if args.corpus:
        out += ["--corpus", args.corpus]
    if args.index:
        out += ["--index", args.index]
    return out


def time_start(args) -> tuple[float, float]:
    """Seconds from spawning `tutor chat` until GET / answers 200, and the CPU seconds the process used by then."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutor", "chat", "--port", str(port), *paths(args)],
        cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            if proc.poll() is not None:
                raise SystemExit(f"tutor chat exited with {proc.returncode}: {proc.stderr.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started, cpu_seconds(proc.pid)
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"tutor chat did not answer within {TIMEOUT_S:.0f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: what its start costs on an otherwise idle machine."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def time_imports() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio, torch"], check=True, env=env())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="starts to time (the first is cold; default 2)")
    parser.add_argument("--corpus")
    parser.add_argument("--index")
    args = parser.parse_args()

    subprocess.run([sys.executable, "-m", "tutor", "index", *paths(args)], check=True, cwd=ROOT, env=env(),
                   stdout=subprocess.DEVNULL)
    starts = [time_start(args) for _ in range(args.runs)]
    baseline = time_imports()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(f"baseline `import gradio, torch`: {baseline:.1f} s")
    for i, (seconds, cpu) in enumerate(starts):
        label = "first start " if i == 0 else f"warm start {i}"
        verdict = "ok" if seconds <= TARGET_S else f"over the {TARGET_S:.0f} s target"
        print(f"{label}: serving after {seconds:.1f} s ({seconds / baseline:.2f}x the imports; {verdict}); "
              f"CPU time used {cpu:.1f} s")
    print("(on a busy machine the wall times stretch; the CPU time is what a start costs when the machine is idle)")


if __name__ == "__main__":
    main()
