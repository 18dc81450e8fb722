"""The FastAPI application: routes over :mod:`kedah_analytics.api.payloads`, a bearer token when
one is configured, CORS from a setting, and ETags from the marts' version so an unchanged reload is
a 304 that touches no mart, and a repeated request is answered from memory."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from importlib.metadata import version as package_version
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kedah_analytics import queries, status
from kedah_analytics.api import params, payloads
from kedah_analytics.api.db import ConnectionPool, MartVersion
from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.marts.periods import Period, kedah_today

OPEN_PATHS = ("/health",)  # answers without the token: a load balancer's probe
UNCACHED = ("/health", "/docs", "/openapi.json", "/redoc")
City = Annotated[str, Depends(params.city)]
PeriodParam = Annotated[Period, Depends(params.period)]
Platform = Annotated[str, Depends(params.platform)]
Data = Annotated[str, Depends(params.data)]


def create_app(
    pg_url: str,
    *,
    token: str | None = None,
    cors_origins: tuple[str, ...] = (),
    clock: Callable[[], datetime] = lambda: datetime.now(KEDAH_TZ),
) -> FastAPI:
    """The API over the warehouse at ``pg_url``; with ``token``, every path but /health needs
    ``Authorization: Bearer <token>``. ``clock`` says what time it is (named periods follow it)."""
    app = FastAPI(title="Kedah Analytics API", version=package_version("kedah-analytics"),
                  description="Read-only figures of Kedah's tourism marts: the seeds' paths and fields, with changes.")  # fmt: skip
    pool = ConnectionPool(pg_url)
    marts = MartVersion(pg_url, pool)
    answers = AnswerCache()
    app.state.pool = pool
    app.state.clock = clock
    app.router.add_event_handler("shutdown", pool.close)
    app.router.add_event_handler("shutdown", marts.close)

    def read(build: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        with pool.connection() as conn:
            return build(conn, *args)

    @app.middleware("http")
    async def etag(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method != "GET" or request.url.path in UNCACHED:
            response = await call_next(request)
            response.headers.setdefault("Cache-Control", "no-store")
            return response
        marts = await run_in_threadpool(lambda: read(lambda conn: {"v": status.mart_version(conn)})["v"])
        # Named periods move with the Kedah day, so the day is part of the tag.
        key = (
            f"{marts}|{kedah_today(clock())}|{request.url.path}|{sorted(request.query_params.multi_items())}"
        )
        tag = f'"{hashlib.sha256(key.encode()).hexdigest()[:24]}"'
        headers = {"ETag": tag, "Cache-Control": "no-cache", "Vary": "Authorization"}
        if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        # The same tag means the same answer: keep recent answers, and let one request of many
        # identical ones compute it while the others wait for it.
        async with answers.lock(tag):
            if (body := answers.get(tag)) is None:
                response = await call_next(request)
                if response.status_code != 200:
                    return response
                body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
                answers.put(tag, body)
        return Response(body, media_type="application/json", headers=headers)

    @app.middleware("http")
    async def bearer(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if token and request.url.path not in OPEN_PATHS and request.method != "OPTIONS":
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return JSONResponse({"detail": "a valid bearer token is required"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return await call_next(request)

    if cors_origins:  # added last, so it wraps the others and answers preflights itself
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"],
                           allow_headers=["Authorization", "If-None-Match"], expose_headers=["ETag"])  # fmt: skip

    @app.get("/api/analytics/overview-metrics/", summary="Totals, platform mix, sentiment and daily figures")
    def overview_metrics(city: City, period: PeriodParam, platform: Platform, data: Data) -> dict[str, Any]:
        return read(payloads.overview, city, period, platform, data)

    @app.get("/api/analytics/places/popular/", summary="Places ranked, with trending % and sentiment")
    def popular_places(city: City, period: PeriodParam, data: Data,
                       by: Annotated[str, Query(pattern="^(engagement|posts)$")] = "engagement",
                       limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:  # fmt: skip
        return read(payloads.popular_places, city, period, by, limit, data)

    @app.get("/api/analytics/sentiment/summary/", summary="Sentiment distribution and by place category")
    def sentiment_summary(city: City, period: PeriodParam, data: Data) -> dict[str, Any]:
        return read(payloads.sentiment_summary, city, period, data)

    @app.get("/api/alerts", summary="Bursts and sentiment dips with their evidence")
    def alerts(city: City, period: PeriodParam, data: Data) -> dict[str, Any]:
        return read(payloads.alerts, city, period, data)

    @app.get("/api/accounts/metrics", summary="The board's own accounts: reach, views, follows, watch time")
    def account_metrics(period: PeriodParam, platform: Platform, data: Data) -> dict[str, Any]:
        return read(payloads.accounts, period, platform, data)

    @app.get("/api/places.geojson", summary="Places as GeoJSON points with the period's figures")
    def places_geojson(city: City, period: PeriodParam, data: Data) -> dict[str, Any]:
        return read(payloads.places_geojson, city, period, data)

    @app.get("/predictions", summary="A day's predicted rising terms (default: the latest day)")
    def predictions(day: Annotated[date | None, Query(alias="date")] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:  # fmt: skip
        return read(_predictions, day, limit)

    @app.get("/predictions/top", summary="The latest day's top rising terms")
    def predictions_top(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
        return read(_predictions, None, limit)

    @app.get("/training/status", summary="The latest weekly training of the trend model")
    def training_status() -> dict[str, Any]:
        return read(lambda conn: {"training": payloads.plain(status.training_status(conn))})

    @app.get("/collection/status", summary="Per platform: last fetch, rows, providers, freshness")
    def collection_status() -> dict[str, Any]:
        now = clock()
        return read(lambda conn: {"platforms": payloads.plain(status.collection_status(conn, now))})

    @app.get("/health", summary="Database reachable, the marts' latest day, the version")
    def health() -> JSONResponse:
        try:
            body = read(
                lambda conn: {"database": "reachable", "marts": payloads.plain(status.marts_span(conn))}
            )
            code = 200
        except Exception as err:  # the answer is the state of the database, not a 500
            body, code = {"database": "unreachable", "error": type(err).__name__}, 503
        return JSONResponse({**body, "version": app.version}, status_code=code)

    return app


class AnswerCache:
    """The latest answers by ETag (a tag names the marts' version, the day and the request)."""

    def __init__(self, size: int = 256):
        self.size = size
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, tag: str) -> asyncio.Lock:
        if len(self._locks) > 4 * self.size:
            self._locks = {t: lock for t, lock in self._locks.items() if lock.locked()}
        return self._locks.setdefault(tag, asyncio.Lock())

    def get(self, tag: str) -> bytes | None:
        body = self._answers.get(tag)
        if body is not None:
            self._answers.move_to_end(tag)
        return body

    def put(self, tag: str, body: bytes) -> None:
        self._answers[tag] = body
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


def _predictions(conn: Any, day: date | None, limit: int) -> dict[str, Any]:
    day = day or status.latest_prediction_day(conn)
    rows = queries.trend_predictions(conn, day).head(limit) if day else None
    kinds = {row["data"] for row in status.collection_status(conn, datetime.now(KEDAH_TZ))} - {"none"}
    data = "mixed" if len(kinds) > 1 or "mixed" in kinds else (kinds.pop() if kinds else "none")
    return {
        "data": data,
        "date": payloads.plain(day),
        "predictions": [] if rows is None else payloads.records(rows),
    }
