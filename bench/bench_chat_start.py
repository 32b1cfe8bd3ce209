"""How long `tutor chat` takes to serve: seconds from launch until the page answers over HTTP.

    python bench/bench_chat_start.py [--runs 3] [--corpus DIR]

Starts `python -m tutor chat --port <free port>` as a student's machine would, on an index folder of its own:
first on a fresh (empty) index folder, so that the chat must build the index before it serves, then again
(warm restarts: the index is current, files in the OS cache). The baseline, measured in the same run, is a
bare `python -c "import gradio, torch"`: the imports any Gradio + torch app pays before doing anything.
Targets: a warm restart serves within 6 s; the first start says what it is doing while it builds.

    python bench/bench_chat_start.py --library 3

A course library instead: N copies of the course as N course folders, all on fresh indexes. Times
`tutor chat --library` until it serves, and until the last course answers a question (the courses are
indexed in the background); the baseline, in the same run, is one course's first start on a fresh index.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 6.0
TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def paths(args) -> list[str]:
    if getattr(args, "library_dir", None):
        return ["--library", args.library_dir]
    return (["--corpus", args.corpus] if args.corpus else []) + ["--index", args.index]


def time_start(args, then=None) -> tuple[float, float, str]:
    """Seconds from spawning `tutor chat` until GET / answers 200, the CPU seconds the process used by then, and
    what it printed on its standard output. `then(url, started)`, if given, runs while it still serves."""
    port = free_port()
    out = tempfile.TemporaryFile("w+")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutor", "chat", "--port", str(port), *paths(args)],
        cwd=ROOT, env=env(), stdout=out, stderr=subprocess.STDOUT, text=True,
    )
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            if proc.poll() is not None:
                out.seek(0)
                raise SystemExit(f"tutor chat exited with {proc.returncode}: {out.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        seconds, cpu = time.perf_counter() - started, cpu_seconds(proc.pid)
                        if then is not None:
                            then(f"http://127.0.0.1:{port}/", started)
                        time.sleep(0.3)  # let it finish printing the address
                        out.seek(0)
                        return seconds, cpu, out.read()
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"tutor chat did not answer within {TIMEOUT_S:.0f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


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


def library(args) -> None:
    import shutil

    from gradio_client import Client

    corpus = Path(args.corpus or ROOT / "corpus")
    with tempfile.TemporaryDirectory(prefix="bench-chat-library-") as tmp:
        args.index = str(Path(tmp) / "single-index")
        single = time_start(args)[0]
        args.library_dir = str(Path(tmp) / "courses")
        names = [f"course-{i + 1}" for i in range(args.library)]
        for name in names:
            shutil.copytree(corpus, Path(args.library_dir) / name)
        answered = {}

        def ask_last(url: str, started: float) -> None:
            client = Client(url, verbose=False)
            answer = client.predict("What is model drift?", names[-1], api_name="/ask")
            answered["seconds"] = time.perf_counter() - started
            answered["ok"] = not answer.get("error")

        serving, cpu, printed = time_start(args, then=ask_last)
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f} (a shared machine stretches wall times)")
    print(f"baseline, one course on a fresh index: serving after {single:.1f} s (index built first)")
    print(f"library of {args.library} courses, fresh indexes: serving after {serving:.1f} s "
          f"({serving / single:.2f}x the one course); CPU time by then {cpu:.1f} s")
    print(f"  the last course answered a question after {answered.get('seconds', float('nan')):.1f} s "
          f"(opened in the background){'' if answered.get('ok') else ' WITH AN ERROR'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="starts to time (the first on a fresh index; default 3)")
    parser.add_argument("--corpus")
    parser.add_argument("--library", type=int, metavar="N", help="time a library of N copies of the course instead")
    args = parser.parse_args()
    if args.library:
        library(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench-chat-index-") as index:
        args.index = index
        starts = [time_start(args) for _ in range(args.runs)]
    baseline = time_imports()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(f"baseline `import gradio, torch`: {baseline:.1f} s")
    for i, (seconds, cpu, printed) in enumerate(starts):
        if i == 0:
            said = [line for line in printed.splitlines() if line.startswith(("Building", "Tutor for"))]
            print(f"first start, fresh index: serving after {seconds:.1f} s (index built first); CPU time {cpu:.1f} s")
            print("  it printed: " + " | ".join(said))
            continue
        verdict = "ok" if seconds <= TARGET_S else f"over the {TARGET_S:.0f} s target"
        print(f"warm restart {i}: serving after {seconds:.1f} s ({seconds / baseline:.2f}x the imports; {verdict}); "
              f"CPU time {cpu:.1f} s")
    print("(on a busy machine the wall times stretch; the CPU time is what a start costs when the machine is idle)")


if __name__ == "__main__":
    main()
