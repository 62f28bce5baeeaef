"""What a person watching ``curate run`` sees: progress while it runs, the funnel when it ends.

Progress is counted in input bytes and shards, which are known before the run starts, so the ETA comes from
the input sizes: ``done / elapsed`` extrapolated over what is left. The unit of completed work is a wave
(:mod:`curation.waves`): after each wave the documents in and kept per stage are known exactly from its
``stages.json``. While a wave runs, a heartbeat says how long it has run and how much CPU and memory the job
uses, so a long wave is never silent. On a terminal this is a tqdm progress bar; otherwise (a log file, CI)
periodic log lines. ``--quiet`` prints only errors and the final paths.

Everything here is driver-side presentation: the accounting itself is the Beam pipeline's
(``report/stages.json``); nothing in the workers depends on this module.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished child processes (workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def rss_mib() -> float:
    """Current resident memory of this process in MiB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def human_seconds(s: float) -> str:
    s = max(0, round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


def eta_seconds(done_bytes: float, total_bytes: float, elapsed: float) -> float | None:
    """Remaining seconds at the rate so far (pure); ``None`` before anything is done."""
    if done_bytes <= 0 or elapsed <= 0 or total_bytes <= done_bytes:
        return None if done_bytes <= 0 else 0.0
    return (total_bytes - done_bytes) * elapsed / done_bytes


@dataclass
class Progress:
    """Progress of one ``curate run``: waves, bytes, documents; a bar on a TTY, log lines otherwise."""

    total_bytes: int
    total_waves: int
    total_shards: int
    mode: str = "auto"  # auto | bar | log | quiet
    interval: float = 30.0  # seconds between heartbeat lines (log mode)
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    done_bytes: int = 0
    done_waves: int = 0
    done_docs: int = 0
    kept_docs: int = 0
    _t0: float = field(default_factory=time.monotonic)
    _cpu0: float = field(default_factory=cpu_seconds)
    _bar: Any = None
    _wave_t0: float = field(default_factory=time.monotonic)
    _wave_cpu0: float = field(default_factory=cpu_seconds)
    _stop: threading.Event | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        if self.mode == "auto":
            self.mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "log"

    def plan(self, total_bytes: int, total_waves: int, total_shards: int, skipped: int = 0) -> None:
        """Set the totals once the shards are planned, and say what is about to run."""
        self.total_bytes, self.total_waves, self.total_shards = total_bytes, total_waves, total_shards
        self._t0, self._cpu0 = time.monotonic(), cpu_seconds()
        done = f", {skipped} already complete (--resume)" if skipped else ""
        size = human_bytes(total_bytes)
        self.say(f"curate: {total_shards} shards, {size} of input in {total_waves} wave(s){done}")
        if self.mode == "bar" and total_waves:
            from tqdm import tqdm

            self._bar = tqdm(
                total=max(total_bytes, 1),
                unit="B",
                unit_scale=True,
                file=self.stream,
                desc="curate",
                dynamic_ncols=True,
                leave=True,
            )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    @property
    def cpu(self) -> float:
        return cpu_seconds() - self._cpu0

    def say(self, line: str) -> None:
        if self.mode == "quiet":
            return
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def status(self, wave_label: str) -> str:
        eta = eta_seconds(self.done_bytes, self.total_bytes, self.elapsed)
        parts = [
            wave_label,
            f"{human_bytes(self.done_bytes)} of {human_bytes(self.total_bytes)} done",
            f"total {self.done_docs} docs read, {self.kept_docs} kept",
            f"elapsed {human_seconds(self.elapsed)}",
            f"CPU {self.cpu:.0f} s",
            f"RSS {rss_mib():.0f} MiB",
        ]
        if eta is not None:
            parts.append(f"ETA {human_seconds(eta)}")
        return " | ".join(parts)

    def expected_docs(self, size_bytes: int) -> int | None:
        """Documents a wave of ``size_bytes`` should hold at the documents per byte of the finished waves
        (an estimate: exact counts exist only once a wave has finished); ``None`` before the first."""
        if self.done_bytes <= 0 or self.done_docs <= 0:
            return None
        return round(size_bytes * self.done_docs / self.done_bytes)

    def wave_started(self, index: int, shards: int, size_bytes: int) -> None:
        label = f"wave {index + 1}/{self.total_waves}"
        expected = self.expected_docs(size_bytes)
        guess = "" if expected is None else f", ~{expected} docs"
        self.say(f"{label}: {shards} shards, {human_bytes(size_bytes)}{guess}")
        if self.mode == "quiet":
            return
        self._wave_t0, self._wave_cpu0 = time.monotonic(), cpu_seconds()
        running = f"{label} running ({shards} shards, {human_bytes(size_bytes)}{guess})"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._heartbeat, args=(running, self._stop), daemon=True)
        self._thread.start()

    def _heartbeat(self, label: str, stop: threading.Event) -> None:
        interval = 1.0 if self._bar is not None else self.interval
        while not stop.wait(interval):
            if self._bar is not None:
                self._bar.set_postfix_str(f"{label} running {human_seconds(self.elapsed)}", refresh=True)
            else:
                self.say(self.status(f"{label} running"))

    def _stop_heartbeat(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._stop = self._thread = None

    def wave_done(self, index: int, size_bytes: int, stages: Mapping[str, Any] | None) -> None:
        self._stop_heartbeat()
        self.done_waves += 1
        self.done_bytes += size_bytes
        docs_in, kept = wave_counts(stages)
        self.done_docs += docs_in
        self.kept_docs += kept
        if self._bar is not None:
            self._bar.update(size_bytes)
        rate = self.done_docs / self.elapsed if self.elapsed > 0 else 0.0
        wall, cpu = time.monotonic() - self._wave_t0, cpu_seconds() - self._wave_cpu0
        self.say(
            self.status(
                f"wave {index + 1}/{self.total_waves} done in {human_seconds(wall)} (CPU {cpu:.0f} s): "
                f"{docs_in} docs read, {kept} kept"
            )
            + f" | {rate:.0f} docs/s overall"
        )
        line = stage_counts_line(stages)
        if line:
            self.say(f"  wave {index + 1} per stage (docs kept): {line}")

    def close(self) -> None:
        self._stop_heartbeat()
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def wave_counts(stages: Mapping[str, Any] | None) -> tuple[int, int]:
    """Documents read (first stage in) and kept (last stage out) by one wave's ``stages.json`` (pure)."""
    rows = (stages or {}).get("stages", [])
    if not rows:
        return 0, 0
    return int(rows[0]["total"]["docs_in"]), int(rows[-1]["total"]["docs_kept"])


def stage_counts_line(stages: Mapping[str, Any] | None) -> str:
    """One wave's documents kept after each stage, ``read 41230 > normalize 41228 > ...`` (pure)."""
    rows = (stages or {}).get("stages", [])
    return " > ".join(f"{row['stage']} {row['total']['docs_kept']}" for row in rows)


def funnel_lines(stages: Mapping[str, Any], top_reasons: int = 3) -> list[str]:
    """The per-stage funnel of a ``stages.json`` as aligned text lines (pure)."""
    rows = stages.get("stages", [])
    header = f"{'stage':<16}{'docs in':>10}{'kept':>10}{'rejected':>10}{'tokens out':>13}  top reasons"
    lines = [header, "-" * len(header)]
    for row in rows:
        t = row["total"]
        reasons = sorted(t.get("rejected_by_reason", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        top = ", ".join(f"{r} {n}" for r, n in reasons[:top_reasons])
        lines.append(
            f"{row['stage']:<16}{t['docs_in']:>10}{t['docs_kept']:>10}{t['docs_rejected']:>10}"
            f"{t['tokens_out']:>13}  {top}"
        )
    return lines


def summary_lines(
    stages: Mapping[str, Any] | None, wall: float, cpu: float, outputs: Sequence[tuple[str, str]]
) -> list[str]:
    """Everything printed at the end of a run: funnel, wall and CPU time, output locations (pure)."""
    lines = []
    if stages:
        lines += funnel_lines(stages)
    lines.append(f"wall {human_seconds(wall)}, CPU {cpu:.1f} s (user+sys, workers included)")
    width = max((len(name) for name, _ in outputs), default=0)
    lines += [f"  {name:<{width}} : {path}" for name, path in outputs]
    return lines


__all__ = [
    "Progress",
    "cpu_seconds",
    "eta_seconds",
    "funnel_lines",
    "human_bytes",
    "human_seconds",
    "rss_mib",
    "stage_counts_line",
    "summary_lines",
    "wave_counts",
]
