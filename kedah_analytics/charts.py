"""Charts of the marts with matplotlib: the same figures in the notebooks and the weekly report.

Each function takes what a :mod:`kedah_analytics.queries` function returns and gives a
``matplotlib.figure.Figure`` built without pyplot (no global state, no GUI backend, safe in a
server process); a notebook shows it after ``%matplotlib inline``, the report embeds it as a PNG.
"""

from __future__ import annotations

import base64
import io
import math

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

SENTIMENT_COLOURS = {"positive": "#2a9d8f", "neutral": "#c9c9c9", "negative": "#e76f51"}
PLATFORM_COLOURS = {"twitter": "#1d3557", "instagram": "#c13584", "facebook": "#4267b2", "youtube": "#e63946"}
WIDTH, HEIGHT = 8.0, 3.6


def compact(value: float) -> str:
    """3,200 as 3.2K, 1,250,000 as 1.25M: how a dashboard writes a count."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            text = f"{value / size:.2f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def _figure(height: float = HEIGHT) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH, height), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    return fig, ax


def _empty(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=ax.transAxes)


def over_time(daily: pd.DataFrame, measure: str = "engagement", title: str | None = None) -> Figure:
    """One line per city of a daily measure (``city_daily`` rows)."""
    fig, ax = _figure()
    title = title or f"{measure.replace('_', ' ').capitalize()} per day"
    if daily.empty:
        _empty(ax, title)
        return fig
    frame = daily.groupby(["date", "city"])[measure].sum().unstack("city").sort_index()
    for city in frame.columns:
        ax.plot(pd.to_datetime(frame.index), frame[city], marker="o", markersize=3, label=city)
    ax.set_title(title, loc="left")
    if measure != "sentiment_mean":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
    else:
        ax.axhline(0, color="grey", linewidth=0.8)
    ax.legend(frameon=False, fontsize=8, ncols=min(len(frame.columns), 6))
    fig.autofmt_xdate()
    return fig


def this_and_previous(current: pd.DataFrame, previous: pd.DataFrame, measure: str, title: str) -> Figure:
    """A measure per day of a period beside the same weekday of the period before."""
    fig, ax = _figure()
    if current.empty:
        _empty(ax, title)
        return fig
    now = current.groupby("date")[measure].sum().sort_index()
    ax.plot(range(len(now)), now.to_numpy(), marker="o", label="this period", color="#264653")
    if len(previous):
        before = previous.groupby("date")[measure].sum().sort_index()
        ax.plot(range(len(before)), before.to_numpy(), marker="o", linestyle="--", color="#a8a8a8",
                label="previous period")  # fmt: skip
    ax.set_xticks(range(len(now)), [pd.Timestamp(d).strftime("%a %d %b") for d in now.index], fontsize=8)
    ax.set_title(title, loc="left")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
    ax.legend(frameon=False, fontsize=8)
    return fig


def top_places(ranking: pd.DataFrame, measure: str = "engagement", title: str | None = None) -> Figure:
    """Horizontal bars of the ranked places, each labelled with its change against the previous period."""
    rows = max(len(ranking), 1)
    fig, ax = _figure(height=max(2.4, 0.42 * rows + 0.9))
    title = title or f"Top places by {measure}"
    if ranking.empty:
        _empty(ax, title)
        return fig
    ordered = ranking.iloc[::-1]
    bars = ax.barh(ordered["place_name"], ordered[measure], color="#2a9d8f")
    change = f"{measure}_change_pct"
    for bar, value, pct in zip(
        bars, ordered[measure], ordered.get(change, [float("nan")] * len(ordered)), strict=True
    ):
        label = f" {compact(value)}  " + ("new" if pd.isna(pct) else f"{pct:+.0f}%")
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=8)
    # Long place names push the axes right: the title starts at the figure's edge instead.
    fig.suptitle(title, x=0.01, ha="left", fontsize="large")
    ax.grid(axis="y", alpha=0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
    ax.margins(x=0.25)
    return fig


def platform_mix(breakdown: pd.DataFrame, title: str = "Platform mix") -> Figure:
    """Share of posts and of engagement per platform, side by side."""
    fig, ax = _figure(height=2.6)
    if breakdown.empty or breakdown["posts"].sum() == 0:
        _empty(ax, title)
        return fig
    left = 0.0
    for measure, y in (("posts_share", 1), ("engagement_share", 0)):
        left = 0.0
        for platform, share in zip(breakdown["platform"], breakdown[measure].fillna(0), strict=True):
            ax.barh(y, share, left=left, color=PLATFORM_COLOURS.get(platform, "#888"),
                    label=platform if y == 1 else None)  # fmt: skip
            if share >= 0.06:
                ax.text(
                    left + share / 2, y, f"{share:.0%}", ha="center", va="center", color="white", fontsize=8
                )
            left += share
    ax.set_yticks([0, 1], ["engagement", "posts"])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title, loc="left")
    ax.grid(axis="y", alpha=0)
    ax.legend(frameon=False, fontsize=8, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return fig


def share_of_voice(sov: pd.DataFrame, title: str = "Share of voice (posts)") -> Figure:
    """Each city's share of Kedah's posts this period and the period before."""
    fig, ax = _figure(height=2.8)
    if sov.empty:
        _empty(ax, title)
        return fig
    positions = range(len(sov))
    ax.bar([p - 0.2 for p in positions], sov["posts_share"], width=0.4, label="this period", color="#264653")
    ax.bar([p + 0.2 for p in positions], sov["posts_share_previous"], width=0.4, label="previous period",
           color="#a8a8a8")  # fmt: skip
    ax.set_xticks(list(positions), sov["city"])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title, loc="left")
    ax.legend(frameon=False, fontsize=8)
    return fig


def sentiment_split(categories: pd.DataFrame, title: str = "Sentiment by place category") -> Figure:
    """Positive, neutral and negative share of each category's posts, with its post count."""
    fig, ax = _figure(height=max(2.4, 0.4 * max(len(categories), 1) + 0.9))
    if categories.empty:
        _empty(ax, title)
        return fig
    frame = categories.iloc[::-1]
    posts = frame["posts"].astype(float)
    left = pd.Series(0.0, index=frame.index)
    for label, colour in SENTIMENT_COLOURS.items():
        share = frame[label].astype(float) / posts
        ax.barh(frame["category"], share, left=left, color=colour, label=label)
        left = left + share
    for y, n in enumerate(posts):
        ax.text(1.01, y, f"{n:.0f} posts", va="center", fontsize=8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1.18)
    ax.set_title(title, loc="left")
    ax.grid(axis="y", alpha=0)
    ax.legend(frameon=False, fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.45, -0.12))
    return fig


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def png_data_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI, for a self-contained HTML page."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(fig)).decode("ascii")
