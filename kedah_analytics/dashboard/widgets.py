"""Small pieces every page shares: the demo banner, the period line, figures as people read them."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from kedah_analytics.charts import compact
from kedah_analytics.marts.periods import Period


def banner(kind: str) -> None:
    """Say whenever the figures are demo data, or hold nothing."""
    if kind == "demo":
        st.warning("Demo data: no real posts were collected for this period. Configure the API credentials "
                   "(see the README) for real figures.", icon="⚠️")  # fmt: skip
    elif kind == "mixed":
        st.warning("Real and demo rows together: figures include invented demo posts.", icon="⚠️")
    elif kind == "none":
        st.info("No data for this period in the marts.")


def period_line(period: Period, kind: str) -> None:
    before = period.previous()
    note = (
        " This period is still running: it is compared with as many days of the one before."
        if period.so_far
        else ""
    )
    st.caption(f"{period.name}: {period.start:%d %b %Y} to {period.end:%d %b %Y} ({period.days} days), compared with "
               f"{before.start:%d %b} to {before.end:%d %b %Y}. Data: {kind}.{note}")  # fmt: skip


def number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "n/a"
    return compact(float(value))


def pct(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return f"{float(value):+.1f}%"


def against_previous(now: pd.DataFrame, before: pd.DataFrame, column: str) -> pd.DataFrame:
    """A period's daily values beside the period before's, day 1, day 2, ... (so_far periods line up)."""
    left = (
        now.groupby("date")[column].sum().reset_index(drop=True) if len(now) else pd.Series(dtype="float64")
    )
    right = (
        before.groupby("date")[column].sum().reset_index(drop=True)
        if len(before)
        else pd.Series(dtype="float64")
    )
    out = pd.DataFrame({"this period": left, "period before": right})
    out.index = out.index + 1
    return out.rename_axis("day")
