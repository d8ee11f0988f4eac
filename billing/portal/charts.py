"""Chart geometry for server-rendered inline SVG (no script, nothing fetched): the view
turns `usage_range` data into rectangles the template draws."""

from __future__ import annotations

from dataclasses import dataclass

PALETTE = ("#2f5fd0", "#e07b39", "#1f7a3a", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d4ac0d")
WIDTH, HEIGHT = 720, 180


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    color: str
    title: str


def agent_label(agent_id: int | None) -> str:
    return "no agent" if agent_id is None else f"agent #{agent_id}"


def agent_colors(agents: list[int | None]) -> dict[int | None, str]:
    return {agent: PALETTE[i % len(PALETTE)] for i, agent in enumerate(agents)}


def _slot(days: int) -> tuple[float, float]:
    slot = WIDTH / max(days, 1)
    return slot, max(slot * 0.8, 1.0)


def spend_bars(usage: dict) -> list[Bar]:
    """Daily spend, one column per day stacked by agent, scaled to the busiest day."""
    colors = agent_colors(usage["agents"])
    top = max((d["cost_micros"] for d in usage["daily"]), default=0) or 1
    slot, width = _slot(len(usage["daily"]))
    bars = []
    for i, day in enumerate(usage["daily"]):
        y = float(HEIGHT)
        for agent in usage["agents"]:
            cost = day["agents"].get(agent, 0)
            if not cost:
                continue
            h = HEIGHT * cost / top
            y -= h
            title = f"{day['day']:%d %b}: {agent_label(agent)} {cost / 1_000_000:.4f} USD"
            bars.append(
                Bar(
                    round(i * slot, 2),
                    round(y, 2),
                    round(width, 2),
                    round(h, 2),
                    colors[agent],
                    title,
                )
            )
    return bars


def fallback_bars(usage: dict) -> list[Bar]:
    """Per day, the share of model calls that were answered by a fallback model."""
    slot, width = _slot(len(usage["daily"]))
    bars = []
    for i, day in enumerate(usage["daily"]):
        rate = day["fallback_rate"]
        if rate is None:
            continue
        h = HEIGHT * rate
        title = (
            f"{day['day']:%d %b}: {day['fell_back']} of {day['calls']} calls fell back ({rate:.0%})"
        )
        bars.append(
            Bar(
                round(i * slot, 2),
                round(HEIGHT - h, 2),
                round(width, 2),
                round(h, 2),
                "#c0392b",
                title,
            )
        )
    return bars
