"""The results table: the Row record, millisecond figures, the desk's key and GC rows, and the Markdown table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.stats import percentile

FRAME_MS = 16.0


@dataclass
class Row:
    """One line of the results table."""

    metric: str
    measured: str
    budget: str
    ok: bool | None  # None: information, no budget

    @property
    def verdict(self) -> str:
        """pass / FAIL / info."""
        return "info" if self.ok is None else "pass" if self.ok else "FAIL"


def ms(seconds: float) -> str:
    """Seconds as a millisecond figure."""
    return f"{seconds * 1000:.1f} ms"


def first_times(samples: list[dict[str, Any]], key: str = "first") -> list[float]:
    """One figure of each key sample."""
    return [s[key] for s in samples]


def p95(values: list[float]) -> float:
    """95th percentile."""
    return percentile(values, 95)


def key_rows(desk: dict[str, Any]) -> list[Row]:
    """Key → painted rows of the table."""
    keys = desk["keys"]
    rows = []
    for name, label in (
        ("switch_enter", "switch: Ctrl+K, type, Enter → conversation painted (Enter)"),
        ("slot", "slot: Alt+1…Alt+0 → conversation painted"),
        ("next_waiting", "next waiting: Ctrl+N → conversation painted"),
    ):
        firsts = first_times(keys[name])
        cpu = first_times(keys[name], "cpu")
        rows.append(
            Row(
                f"{label}, p95 (n={len(firsts)})",
                f"{ms(p95(firsts))} (p50 {ms(percentile(firsts, 50))}, max {ms(max(firsts))};"
                f" CPU p50 {ms(percentile(cpu, 50))}, p95 {ms(p95(cpu))})",
                "≤ 16 ms",
                p95(firsts) * 1000 <= FRAME_MS,
            )
        )
    for name, label in (
        ("switch_enter", "  … switch settled (last repaint of the conversation it caused), p95"),
        ("slot", "  … slot settled, p95"),
        ("next_waiting", "  … next waiting settled, p95"),
    ):
        rows.append(Row(label, ms(p95(first_times(keys[name], "settled"))), "", None))
    opens, typing = keys["switcher_open"], keys["switcher_typing"]
    opens_cpu = keys.get("switcher_open_cpu") or []
    cpu_note = (
        f" (p50 {ms(percentile(opens, 50))}; CPU p50 {ms(percentile(opens_cpu, 50))},"
        f" p95 {ms(p95(opens_cpu))})"
        if opens_cpu
        else ""
    )
    rows.append(
        Row(
            f"Ctrl+K → switcher painted, p95 (n={len(opens)})",
            ms(p95(opens)) + cpu_note,
            "≤ 16 ms",
            p95(opens) * 1000 <= FRAME_MS,
        )
    )
    rows.append(
        Row(
            f"switcher keystroke → filtered list painted, p95 (n={len(typing)})",
            ms(p95(typing)),
            "≤ 16 ms",
            p95(typing) * 1000 <= FRAME_MS,
        )
    )
    popup = keys.get("template_popup") or []
    if popup:
        rows.append(
            Row(
                f"template popup: keystroke of /word → popup painted, {desk.get('templates_loaded')} templates, p95 (n={len(popup)})",
                ms(p95(popup)),
                "≤ 16 ms",
                p95(popup) * 1000 <= FRAME_MS,
            )
        )
    for name, label in (
        ("dialog_postpone", "Alt+P → postpone dialog painted"),
        ("dialog_tags", "Alt+G → tags dialog painted"),
        ("dialog_escape", "Esc → dialog closed, desk painted"),
    ):
        took = keys.get(name) or []
        cpu = keys.get(f"{name}_cpu") or []
        cpu_note = f"; CPU p50 {ms(percentile(cpu, 50))}, p95 {ms(p95(cpu))}" if cpu else ""
        if took:
            rows.append(
                Row(
                    f"{label}, p95 (n={len(took)})",
                    f"{ms(p95(took))} (p50 {ms(percentile(took, 50))}, max {ms(max(took))}"
                    f"{cpu_note})",
                    "≤ 16 ms",
                    p95(took) * 1000 <= FRAME_MS,
                )
            )
    return rows


def gc_rows(desk: dict[str, Any]) -> list[Row]:
    """What Python's garbage collector cost during the desk session."""
    gcs = desk.get("gc") or {}
    parts = [
        f"{g}: {v['count']:.0f}× (total {v['total_ms'] / 1000:.1f} s, longest {v['max_ms']:.0f} ms)"
        for g, v in sorted(gcs.items())
    ]
    keys = [s for name in ("switch_enter", "slot", "next_waiting") for s in desk["keys"][name]]
    share = [s["gc"] for s in keys]
    return [
        Row(
            "garbage collection during the desk session (keys, burst, idle)",
            "; ".join(parts) or "none",
            "",
            None,
        ),
        Row(
            "  … collector pause inside a key's interval (switch+slot+next waiting), p50 / p95",
            f"{ms(percentile(share, 50))} / {ms(p95(share))}",
            "",
            None,
        ),
    ]


def table(rows: list[Row]) -> str:
    """The results as a Markdown table (also readable in a terminal)."""
    lines = ["| metric | measured | budget | result |", "|---|---|---|---|"]
    lines += [f"| {r.metric} | {r.measured} | {r.budget} | {r.verdict} |" for r in rows]
    return "\n".join(lines)
