"""Write notebooks/*.ipynb from the cells below (the notebooks are kept without outputs; run
`python scripts/make_notebooks.py` after editing this file)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
KERNEL = {"name": "kedah-analytics", "display_name": "Kedah Analytics (.venv)", "language": "python"}

OVERVIEW = [
    new_markdown_cell(
        "# Kedah tourism: overview\n\n"
        "Engagement and sentiment over time per city, top places with their change, platform mix, share of "
        "voice, the latest trend predictions and alerts. Reads the marts that `make run` (or your deployment) "
        "fills; `KEDAH_PG_URL` names the database, unset it uses the project's embedded PostgreSQL.\n\n"
        "Demo rows are left out when the warehouse holds real rows; on a fresh install (demo data only) the "
        "notebook shows the demo rows and says so."
    ),
    new_code_cell(
        "%matplotlib inline\n"
        "from datetime import timedelta\n\n"
        "import pandas as pd\n\n"
        "from kedah_analytics import charts, queries\n"
        "from kedah_analytics.marts.periods import kedah_today\n"
        "from kedah_analytics.queries import ALL_KEDAH, Period\n\n"
        "pd.set_option('display.max_colwidth', 80)\n"
        "conn = queries.connect()"
    ),
    new_code_cell(
        "# Parameters: the period to show (the last 30 complete days up to the latest day in the marts).\n"
        "days = 30\n"
        "end = queries.latest_day(conn, include_demo=True)\n"
        "assert end is not None, 'the marts are empty: run `make run` or `kedah-analytics seed` first'\n"
        "end = min(end, kedah_today() - timedelta(days=1))  # complete Kedah days only\n"
        "period = Period.last(days, end=end)\n"
        "rows = False if queries.has_real_rows(conn, period) else 'only'  # real rows, else the demo rows\n"
        "print(f\"{period.name}: {'real' if rows is False else 'DEMO'} data\")",
        metadata={"tags": ["parameters"]},
    ),
    new_markdown_cell("## Headline figures for Kedah, against the previous period of the same length"),
    new_code_cell("queries.city_overview(conn, ALL_KEDAH, period, include_demo=rows).round(3)"),
    new_markdown_cell("## Engagement and sentiment over time, per city"),
    new_code_cell(
        "daily = queries.city_daily(conn, period, include_demo=rows)\n"
        "cities = daily[daily['city'] != ALL_KEDAH]\n"
        "charts.over_time(cities, 'engagement', 'Engagement per day')"
    ),
    new_code_cell("charts.over_time(cities, 'sentiment_mean', 'Mean sentiment per day (-1..1)')"),
    new_markdown_cell("## Top places and their change on the previous period"),
    new_code_cell(
        "ranking = queries.place_ranking(conn, period, limit=10, include_demo=rows)\n"
        "charts.top_places(ranking, 'engagement')"
    ),
    new_code_cell("ranking"),
    new_markdown_cell("## Platform mix and share of voice"),
    new_code_cell(
        "charts.platform_mix(queries.platform_breakdown(conn, ALL_KEDAH, period, include_demo=rows))"
    ),
    new_code_cell("charts.share_of_voice(queries.share_of_voice(conn, period, include_demo=rows))"),
    new_markdown_cell("## Sentiment by place category"),
    new_code_cell("charts.sentiment_split(queries.sentiment_by_category(conn, period, include_demo=rows))"),
    new_markdown_cell("## Top posts and authors"),
    new_code_cell(
        "queries.top_posts(conn, period, limit=10, include_demo=rows)"
        "[['date', 'platform', 'place_name', 'author_name', 'engagement', 'sentiment_label', 'text']]"
    ),
    new_code_cell("queries.top_authors(conn, period, limit=10, include_demo=rows)"),
    new_markdown_cell(
        "## Latest trend predictions and alerts\n\n"
        "Predictions need 14 days of counts (the 61 days `make run` seeds are enough)."
    ),
    new_code_cell("queries.trend_predictions(conn, end)"),
    new_markdown_cell("## Our accounts: reach, views, follows, watch time and engagement, with their change"),
    new_code_cell("queries.account_performance(conn, period, include_demo=rows).round(1)"),
    new_code_cell(
        "raised = queries.alerts(conn, period, include_demo=rows)\n"
        "for message in raised['message'].head(5):\n"
        "    print(message, end='\\n\\n')\n"
        "raised[['date', 'kind', 'subject_name', 'city', 'observed', 'baseline', 'change_pct', 'posts']]"
    ),
]

WEEKLY = [
    new_markdown_cell(
        "# Weekly report\n\n"
        "One city's week against the week before: headline figures, charts, top places, top posts and alerts. "
        "Set `city` and `week` in the next cell (or with papermill: `papermill weekly_report.ipynb out.ipynb "
        "-p city Langkawi -p week 2026-W47`). The same report as a file to send on: "
        "`kedah-analytics report --city Langkawi --week 2026-W47 --out report.html`."
    ),
    new_code_cell(
        "# Parameters\n"
        "city = 'Langkawi'   # or 'Alor Setar', 'Sungai Petani', 'Kulim', 'Jitra', 'All Kedah'\n"
        "week = None         # ISO week like '2026-W47'; None: the latest week with data",
        metadata={"tags": ["parameters"]},
    ),
    new_code_cell(
        "%matplotlib inline\n"
        "from datetime import timedelta\n\n"
        "from IPython.display import HTML, display\n\n"
        "from kedah_analytics import queries, report\n"
        "from kedah_analytics.marts.periods import kedah_today\n"
        "from kedah_analytics.queries import Period\n\n"
        "conn = queries.connect()\n"
        "if week is None:\n"
        "    latest = queries.latest_day(conn, include_demo=True)\n"
        "    assert latest is not None, 'the marts are empty: run `make run` first'\n"
        "    latest = min(latest, kedah_today() - timedelta(days=1))  # complete Kedah days only\n"
        "    week = Period.week_of(latest).label\n"
        "period = Period.parse(week)  # a week still running is 'so far', against as many days before\n"
        "weekly = report.weekly_report(conn, city, period, render=False)\n"
        "print(f'{city}, {period.name} ({period.start}..{period.end}), {weekly.data} data, built in {weekly.seconds:.1f}s')"
    ),
    new_markdown_cell("## Headline figures"),
    new_code_cell(
        "cards = report.headline_cards(weekly.sections['overview'])\n"
        "display(HTML(''.join(f\"<div style='display:inline-block;margin:0 1.5em 1em 0'><small>{c['label']}</small><br>\"\n"
        "                     f\"<b style='font-size:1.5em'>{c['value']}</b><br>{c['change']}</div>\" for c in cards)))"
    ),
    new_markdown_cell("## Charts"),
    new_code_cell("weekly.sections['figures']['engagement']"),
    new_code_cell("weekly.sections['figures']['places']"),
    new_code_cell("weekly.sections['figures']['platforms']"),
    new_code_cell("weekly.sections['figures']['sentiment']"),
    new_markdown_cell("## Our accounts"),
    new_code_cell("weekly.sections['accounts'].round(1)"),
    new_markdown_cell("## Top places, top posts, alerts"),
    new_code_cell("weekly.sections['ranking']"),
    new_code_cell(
        "weekly.sections['posts'][['date', 'platform', 'place_name', 'author_name', 'engagement', 'text']]"
    ),
    new_code_cell(
        "for message in weekly.sections['alerts']['message']:\n    print(message, end='\\n\\n')\n"
        "len(weekly.sections['alerts'])"
    ),
]


def write(cells: list, path: Path) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = KERNEL
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    write(OVERVIEW, ROOT / "notebooks" / "kedah_overview.ipynb")
    write(WEEKLY, ROOT / "notebooks" / "weekly_report.ipynb")
