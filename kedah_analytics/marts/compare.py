"""A period's figures against the period they are compared with, as pure functions over rows
the queries read: headline totals, place rankings and own-account performance.

A change counts only days the warehouse covers: when the period before is not wholly covered
(the marts begin inside it), its changes are NULL with a note saying how many of its days are
there, never a rise inflated by missing days read as zeros.
"""

from __future__ import annotations

import pandas as pd

from kedah_analytics.marts.build import OVERVIEW_COUNTS, pct_change

# The board's own-account measures, from each platform's metric names in account_daily_metrics
# (daily values, summed over a period; a measure a platform does not report stays empty).
ACCOUNT_MEASURES: dict[str, dict[str, tuple[str, ...]]] = {
    "reach": {"instagram": ("reach",), "facebook": ("page_total_media_view_unique",)},
    "views": {"instagram": ("views",), "facebook": ("page_media_view",), "youtube": ("views",)},
    "follows": {"instagram": ("follows_and_unfollows",), "facebook": ("page_follows",),
                "youtube": ("subscribersGained",)},
    "watch_minutes": {"youtube": ("estimatedMinutesWatched",)},
    "engagement": {"instagram": ("total_interactions",), "youtube": ("likes", "comments")},
}  # fmt: skip
ACCOUNT_COLUMNS = ["platform", "account_id", *ACCOUNT_MEASURES]


def coverage_note(covered_days: int, days: int) -> str | None:
    """None when all ``days`` are covered, else why a change cannot be told."""
    if covered_days >= days:
        return None
    if covered_days == 0:
        return f"no change: the warehouse holds none of the {days} days before"
    return f"no change: the warehouse holds only {covered_days} of the {days} days before"


def period_totals(daily: pd.DataFrame) -> pd.Series:
    """Sums of the overview counts over some days, with the sentiment shares and the post-weighted mean."""
    values = {c: float(v) for c, v in daily[OVERVIEW_COUNTS].sum().items()} if len(daily) else dict.fromkeys(OVERVIEW_COUNTS, 0.0)  # fmt: skip
    posts = values["posts"]
    for label in ("positive", "neutral", "negative"):
        values[f"{label}_share"] = values[label] / posts if posts else float("nan")
    weighted = (
        float((daily["sentiment_mean"].astype("float64").fillna(0) * daily["posts"]).sum())
        if len(daily)
        else 0.0
    )
    values["sentiment_mean"] = weighted / posts if posts else float("nan")
    return pd.Series(values, dtype="float64")


def compare_totals(current: pd.Series, previous: pd.Series, note: str | None = None) -> pd.DataFrame:
    """``metric, current, previous, change_pct, change, change_note``: counts change in percent,
    shares and the mean sentiment in points (``change``, the difference); with a ``note`` (the
    period before is not wholly covered) every change is NaN and the note says why."""
    out = pd.DataFrame({"current": current, "previous": previous})
    out["change"] = out["current"] - out["previous"]
    out["change_pct"] = [
        pct_change(c, p) if m in OVERVIEW_COUNTS else float("nan")
        for m, c, p in zip(out.index, out["current"], out["previous"], strict=True)
    ]
    if note:
        out[["change", "change_pct"]] = float("nan")
    out["change_note"] = note
    return out.rename_axis("metric").reset_index()[
        ["metric", "current", "previous", "change_pct", "change", "change_note"]
    ]


def rank_places(
    now: pd.DataFrame,
    before: pd.DataFrame,
    *,
    by: str = "engagement",
    limit: int | None = 10,
    note: str | None = None,
) -> pd.DataFrame:
    """Rank a period's per-place totals against the previous period's; with a ``note`` (the period
    before is not wholly covered) the changes are NaN and ``change_note`` says why."""
    columns = ["rank", "place_id", "place_name", "city", "category", "posts", "engagement", f"{by}_change_pct",
               "sentiment_mean", "sentiment_change", "share_of_voice", "change_note"]  # fmt: skip
    if now.empty:
        return pd.DataFrame(columns=columns)
    for frame in (now, before):
        for column in ("posts", "engagement", "sentiment_mean"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce") if len(frame) else frame.get(column)
    previous = (
        before.set_index("place_id")
        if len(before)
        else pd.DataFrame(columns=["posts", "engagement", "sentiment_mean"])
    )
    out = now.copy()
    out["previous"] = out["place_id"].map(previous[by]).fillna(0) if len(previous) else 0
    out[f"{by}_change_pct"] = pct_change(out[by], out["previous"])
    prev_sentiment = out["place_id"].map(previous["sentiment_mean"]) if len(previous) else float("nan")
    out["sentiment_change"] = (out["sentiment_mean"] - prev_sentiment).round(4)
    if note:
        out[[f"{by}_change_pct", "sentiment_change"]] = float("nan")
    out["change_note"] = note
    out["share_of_voice"] = (out["posts"] / out["posts"].sum()).round(4)
    out = out.sort_values(
        [by, "posts" if by == "engagement" else "engagement", "place_id"], ascending=[False, False, True]
    )
    out.insert(0, "rank", range(1, len(out) + 1))
    out = out[columns].reset_index(drop=True)
    return out.head(limit) if limit else out


def account_daily(metrics: pd.DataFrame) -> pd.DataFrame:
    """``account_daily_metrics`` rows (date, platform, account_id, metric, value) as one row per
    account and day with the board's measures."""
    columns = ["date", *ACCOUNT_COLUMNS]
    if metrics.empty:
        return pd.DataFrame(columns=columns)
    frame = metrics.assign(value=pd.to_numeric(metrics["value"], errors="coerce"))
    keys = ["date", "platform", "account_id"]
    out = frame[keys].drop_duplicates().set_index(keys)
    for measure, by_platform in ACCOUNT_MEASURES.items():
        picked = frame[
            [metric in by_platform.get(platform, ()) for platform, metric in zip(frame["platform"], frame["metric"], strict=True)]
        ]  # fmt: skip
        out[measure] = picked.groupby(keys)["value"].sum(min_count=1)
    return out.reset_index().sort_values(keys, ignore_index=True)[columns]


def account_performance(now: pd.DataFrame, before: pd.DataFrame, note: str | None = None) -> pd.DataFrame:
    """Per account over a period (frames from :func:`account_daily`): each measure, its value in
    the period before (``*_previous``) and the change in percent (``*_change_pct``)."""
    keys = ["platform", "account_id"]
    measures = list(ACCOUNT_MEASURES)
    current = (
        now.groupby(keys)[measures].sum(min_count=1)
        if len(now)
        else pd.DataFrame(columns=keys + measures).set_index(keys)
    )
    previous = before.groupby(keys)[measures].sum(min_count=1) if len(before) else pd.DataFrame(columns=keys + measures).set_index(keys)  # fmt: skip
    out = current.join(previous.add_suffix("_previous"), how="left")
    for measure in measures:
        out[f"{measure}_change_pct"] = (
            float("nan") if note else pct_change(out[measure].astype("float64"), out[f"{measure}_previous"].astype("float64"))
        )  # fmt: skip
    out["change_note"] = note
    return out.reset_index()
