"""The benchmark's table: measured values next to the targets of the gateway issue, PASS/FAIL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Targets (issue 4, "Performance"). The tray threshold is ours: the issue asks that the tray "stays
# responsive"; a 50 ms timer that is never more than one period late is our reading of that.
ADDED_P50_MS = 1.0
ADDED_TTFB_MS = 1.5
HEADLESS_RPS_C16 = 3500  # issue 16 (was 2,500: the dialects issue's "pass-through loses nothing")
TRANSLATION_ADDED_P50_MS = 0.5  # translating costs only those who need it
COMBO_ADDED_P50_MS = 0.3  # the combos issue: a priority combo over a direct route
IDLE_RSS_MIB = 80
READY_S = 1.0
DESKTOP_RPS_C16 = 2000  # issue 16: the desktop loop at headless speed
DESKTOP_STREAM_RPS_C16 = 1200
TRAY_P99_LATE_MS = 10  # issue 16: tray timers stay on time under c=16 load
CPU_MS_PER_REQUEST = 0.25  # issue 16: gateway CPU per non-streamed request
CPU_US_PER_EVENT = 30  # issue 16: gateway CPU per relayed stream event
LOOPS = {"asyncio": "qasync + asyncio scheduling (desktop/loop.py)", "qasync": "qasync's own scheduling"}
NOISY_PCT = 10  # other programs' mean CPU use (% of one CPU) above which the report warns


@dataclass
class Row:
    measure: str
    direct: str = ""
    gateway: str = ""
    added: str = ""
    target: str = ""
    passed: bool | None = None

    def cells(self) -> list[str]:
        verdict = "" if self.passed is None else ("PASS" if self.passed else "FAIL")
        return [self.measure, self.direct, self.gateway, self.added, self.target, verdict]


def rps(value: float) -> str:
    return f"{value:,.0f}"


def ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


class Report:
    def __init__(self, results: dict[str, Any], note: str = "") -> None:
        self.results = results
        self.note = note
        self.rows: list[Row | str] = []
        self._build()

    def _build(self) -> None:
        r = self.results
        headless = r.get("headless")
        if headless:
            d, g = headless["direct"], headless["gateway"]
            self.rows.append("Headless gateway (`quotagate serve`, asyncio)")
            for c in (1, 16, 64):
                dr, gr = d[f"chat_c{c}"], g[f"chat_c{c}"]
                target, passed = "", None
                if c == 16:
                    target, passed = f"≥ {HEADLESS_RPS_C16:,} req/s", gr.rps >= HEADLESS_RPS_C16
                self.rows.append(Row(f"chat c={c}: req/s", rps(dr.rps), rps(gr.rps),
                                     f"{(gr.rps / dr.rps - 1) * 100:+.0f} %" if dr.rps else "", target, passed))
                added = gr.p50_ms - dr.p50_ms
                target, passed = "", None
                if c == 1:
                    target, passed = f"added ≤ {ADDED_P50_MS:g} ms", added <= ADDED_P50_MS
                self.rows.append(Row(f"chat c={c}: p50 ms", ms(dr.p50_ms), ms(gr.p50_ms), f"{added:+.2f}",
                                     target, passed))
                self.rows.append(Row(f"chat c={c}: p99 ms", ms(dr.p99_ms), ms(gr.p99_ms),
                                     f"{gr.p99_ms - dr.p99_ms:+.2f}"))
            ds, gs = d["stream_c16"], g["stream_c16"]
            self.rows.append(Row("stream (20 chunks) c=16: req/s", rps(ds.rps), rps(gs.rps),
                                 f"{(gs.rps / ds.rps - 1) * 100:+.0f} %" if ds.rps else ""))
            self.rows.append(Row("stream c=16: p50 / p99 ms", f"{ms(ds.p50_ms)} / {ms(ds.p99_ms)}",
                                 f"{ms(gs.p50_ms)} / {ms(gs.p99_ms)}"))
            for c in (1, 16):
                dt, gt = d[f"ttfb_c{c}"], g[f"ttfb_c{c}"]
                added = gt.ttfb_p50_ms - dt.ttfb_p50_ms
                target, passed = "", None
                if c == 1:
                    target, passed = f"added ≤ {ADDED_TTFB_MS:g} ms", added <= ADDED_TTFB_MS
                self.rows.append(Row(f"stream c={c}: first byte p50 ms", ms(dt.ttfb_p50_ms), ms(gt.ttfb_p50_ms),
                                     f"{added:+.2f}", target, passed))
            self._cpu_rows(g, headless.get("chunks", 20))
            combo = headless.get("combo_chat_c1")
            if combo:
                direct_route = g["chat_c1"]
                added = combo.p50_ms - direct_route.p50_ms
                self.rows.append("Priority combo, first target answers ('direct' = the same target's route)")
                self.rows.append(Row("chat c=1: p50 ms", ms(direct_route.p50_ms), ms(combo.p50_ms), f"{added:+.2f}",
                                     f"added ≤ {COMBO_ADDED_P50_MS:g} ms", added <= COMBO_ADDED_P50_MS))
            translated = headless.get("translated")
            if translated:
                self._translated_rows(g, translated)
            self.rows.append(Row("RSS after all load runs, MiB", gateway=f"{headless['rss_after_load_mib']:.1f}"))
        startup = r.get("startup")
        if startup:
            runs = len(startup["ready_s"])
            self.rows.append(Row(f"idle RSS, MiB (median of {runs})", gateway=f"{startup['rss_median_mib']:.1f}",
                                 target=f"≤ {IDLE_RSS_MIB} MiB", passed=startup["rss_median_mib"] <= IDLE_RSS_MIB))
            self.rows.append(Row(f"ready: spawn → /healthz, s (median of {runs})",
                                 gateway=f"{startup['ready_median_s']:.3f}", target=f"≤ {READY_S:g} s",
                                 passed=startup["ready_median_s"] <= READY_S))
        desktop = r.get("desktop")
        if desktop:
            self.rows.append(f"Desktop app (`quotagate`, {LOOPS[r['machine'].get('qt_loop', 'asyncio')]}, offscreen)")
            c16 = desktop["chat_c16"]
            self.rows.append(Row("chat c=16: req/s", gateway=rps(c16.rps), target=f"≥ {DESKTOP_RPS_C16:,} req/s",
                                 passed=c16.rps >= DESKTOP_RPS_C16))
            self.rows.append(Row("chat c=16: p50 / p99 ms", gateway=f"{ms(c16.p50_ms)} / {ms(c16.p99_ms)}"))
            if headless:
                d1 = headless["direct"]["chat_c1"]
                self.rows.append(Row("chat c=1: p50 ms", ms(d1.p50_ms), ms(desktop["chat_c1"].p50_ms),
                                     f"{desktop['chat_c1'].p50_ms - d1.p50_ms:+.2f}"))
                dt = headless["direct"]["ttfb_c1"]
                self.rows.append(Row("stream c=1: first byte p50 ms", ms(dt.ttfb_p50_ms),
                                     ms(desktop["ttfb_c1"].ttfb_p50_ms),
                                     f"{desktop['ttfb_c1'].ttfb_p50_ms - dt.ttfb_p50_ms:+.2f}"))
            stream = desktop["stream_c16"]
            self.rows.append(Row("stream (20 chunks) c=16: req/s", gateway=rps(stream.rps),
                                 target=f"≥ {DESKTOP_STREAM_RPS_C16:,} req/s",
                                 passed=stream.rps >= DESKTOP_STREAM_RPS_C16))
            self.rows.append(Row("ready, s / RSS after load, MiB",
                                 gateway=f"{desktop['ready_s']:.3f} / {desktop['rss_after_load_mib']:.1f}"))
        fuzz = r.get("fuzz")
        if fuzz:
            self._fuzz_rows(fuzz)
        tray = r.get("tray")
        if tray:
            idle, load = tray["idle"], tray["load"]
            self.rows.append(Row("tray 50 ms timer lateness p99, ms", f"idle {ms(idle['p99_ms'])}",
                                 f"load {ms(load['p99_ms'])}", f"max {ms(load['max_ms'])}",
                                 f"≤ {TRAY_P99_LATE_MS} ms", load["p99_ms"] <= TRAY_P99_LATE_MS))
            self.rows.append(Row("  req/s while probing (c=16, in-process)", gateway=rps(tray["chat_c16"].rps)))
            self.rows.append(Row("  longest GC pause under load, ms (passes)",
                                 gateway=f"{ms(load['gc_max_ms'])} ({load['gc_count']})"))

    def _fuzz_rows(self, fuzz: dict[str, Any]) -> None:
        """`--only fuzz`: the targets of tests/bench/fuzz.py, one row each (the figure in 'gateway')."""
        from tests.bench.fuzz import targets

        self.rows.append("Fuzz and faults (`quotagate serve` started at a soft file limit of "
                         f"{fuzz['faults']['file_limit']['at_start']})")
        for measure, value, target, passed in targets(fuzz):
            self.rows.append(Row(measure, gateway=value, target=target, passed=passed))

    def _cpu_rows(self, runs: dict[str, Any], chunks: int) -> None:
        """The gateway process's CPU time (user + system, all threads) per answered request. An event's
        cost is what a stream costs beyond a plain request, over its `chunks` content events (the usage
        event and `[DONE]` ride along uncounted, so this errs high)."""
        chat, stream = runs["chat_c16"].cpu_ms_per_request, runs["stream_c16"].cpu_ms_per_request
        if chat is None or stream is None:
            return
        self.rows.append(Row("gateway CPU per request, ms (chat c=16)", gateway=f"{chat:.3f}",
                             target=f"≤ {CPU_MS_PER_REQUEST:g} ms", passed=chat <= CPU_MS_PER_REQUEST))
        self.rows.append(Row(f"gateway CPU per stream ({chunks} events) c=16, ms", gateway=f"{stream:.3f}"))
        per_event = (stream - chat) * 1000 / chunks
        self.rows.append(Row("gateway CPU per stream event, µs", gateway=f"{per_event:.1f}",
                             target=f"≤ {CPU_US_PER_EVENT:g} µs", passed=per_event <= CPU_US_PER_EVENT))

    def _translated_rows(self, passthrough: dict[str, Any], translated: dict[str, Any]) -> None:
        """Anthropic client -> OpenAI upstream, next to the same gateway passing OpenAI through: the
        'direct' column here is the pass-through, so 'added' is what translation costs."""
        self.rows.append("Translated: Anthropic /v1/messages -> OpenAI upstream ('direct' = pass-through)")
        p1, t1 = passthrough["chat_c1"], translated["chat_c1"]
        added = t1.p50_ms - p1.p50_ms
        self.rows.append(Row("chat c=1: p50 ms", ms(p1.p50_ms), ms(t1.p50_ms), f"{added:+.2f}",
                             f"added ≤ {TRANSLATION_ADDED_P50_MS:g} ms", added <= TRANSLATION_ADDED_P50_MS))
        for name, label in (("chat_c16", "chat c=16: req/s"), ("stream_c16", "stream (20 chunks) c=16: req/s")):
            p, t = passthrough[name], translated[name]
            self.rows.append(Row(label, rps(p.rps), rps(t.rps), f"{(t.rps / p.rps - 1) * 100:+.0f} %" if p.rps else ""))
        for name, label in (("chat_c16", "gateway CPU per request, ms (chat c=16)"),
                            ("stream_c16", "gateway CPU per stream, ms (stream c=16)")):
            p, t = passthrough[name].cpu_ms_per_request, translated[name].cpu_ms_per_request
            if p is not None and t is not None:
                self.rows.append(Row(label, f"{p:.3f}", f"{t:.3f}", f"{t - p:+.3f}"))
        pt, tt = passthrough["ttfb_c1"], translated["ttfb_c1"]
        self.rows.append(Row("stream c=1: first byte p50 ms", ms(pt.ttfb_p50_ms), ms(tt.ttfb_p50_ms),
                             f"{tt.ttfb_p50_ms - pt.ttfb_p50_ms:+.2f}"))

    def all_passed(self) -> bool:
        return all(row.passed is not False for row in self.rows if isinstance(row, Row))

    def render(self) -> str:
        m = self.results["machine"]
        pin = (f"gateway pinned to CPU {m['gateway_cpus']}, upstream + load to CPU {m['load_cpus']}"
               if m["pinned"] else "no CPU pinning")
        lines = [
            f"Quotagate gateway benchmark — {m['cpus']} × {m['cpu_model']}, Python {m['python']}, "
            f"PySide6 {m['pyside6']}, qasync {m['qasync']}, uvicorn {m['uvicorn']}, starlette {m['starlette']}, "
            f"{m['wrk']}",
            f"{m['duration_s']:g} s per load run; {pin}; 'added' = gateway − direct (same fake upstream).",
        ]
        if self.note:
            lines.append(f"NOTE: {self.note}")
        noise = self.results.get("noise") or {}
        if noise.get("mean_pct", 0) >= NOISY_PCT:
            lines.append(f"WARNING: other programs used {noise['mean_pct']:.0f} % of a CPU on average (peak "
                         f"{noise['max_pct']:.0f} %) during the run — {'; '.join(noise['busiest'])} — so these "
                         f"numbers understate an idle machine. Run again when it is quiet.")
        header = ["measure", "direct", "gateway", "added", "target", "result"]
        table = [header] + [row.cells() for row in self.rows if isinstance(row, Row)]
        widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
        aligns = ["<", ">", ">", ">", "<", "<"]

        def fmt(cells: list[str]) -> str:
            return "  ".join(f"{cell:{align}{width}}" for cell, align, width in zip(cells, aligns, widths)).rstrip()

        lines.append(fmt(header))
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            lines.append(f"[{row}]" if isinstance(row, str) else fmt(row.cells()))
        return "\n".join(lines)

    def markdown(self) -> str:
        out = ["| measure | direct | gateway | added | target | result |", "|---|---:|---:|---:|---|---|"]
        for row in self.rows:
            if isinstance(row, str):
                out.append(f"| **{row}** | | | | | |")
            else:
                out.append("| " + " | ".join(row.cells()) + " |")
        return "\n".join(out)

    def raw(self) -> dict[str, Any]:
        return self.results
