"""Fake X, Graph (Instagram, Facebook), YouTube and Google Trends APIs answering from the
simulated world in the real page shapes, through the client libraries' own transport hooks (a
requests adapter for tweepy, the Graph client and pytrends; an httplib2-style object for
google-api-python-client), enforcing the real rules and counting every call against its quota.

Rules: X recent search covers 7 days (an older ``start_time`` is a 400), answers newest first,
bills each post read once per UTC day, 450 requests per 15 minutes; Instagram hashtag media covers
24 hours and 30 unique hashtags per account in 7 days; the Graph API allows 200 calls an hour
(``X-App-Usage`` reports the share, code 4 past it); YouTube allows 100 ``search.list`` calls and
10,000 units a Pacific day (``search.list`` 100 units, ``videos.list`` 1; 403 ``quotaExceeded``
past it); Google Trends answers 429 to more than 4 requests in a minute.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httplib2
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from month_sim.world import KEDAH, SimPost, World

PACIFIC = ZoneInfo("America/Los_Angeles")
GRAPH = "https://graph.facebook.com"
X_POST_USD = 0.005


class SimClock:
    """The simulated now, shared by the sources (clock and sleep hooks) and the fakes."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(0.0, seconds))

    def move_to(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


@dataclass
class Ledger:
    """Calls, units and refusals per Kedah day, and X's billed posts per UTC day."""

    calls: Counter[tuple[date, str]] = field(default_factory=Counter)
    breaches: Counter[tuple[date, str]] = field(default_factory=Counter)
    x_billed: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))
    x_billed_kedah: Counter[date] = field(default_factory=Counter)
    yt_search: Counter[date] = field(default_factory=Counter)  # Pacific day
    yt_units: Counter[date] = field(default_factory=Counter)  # Pacific day
    graph_peak_hour: Counter[date] = field(default_factory=Counter)
    ig_hashtags_week_peak: int = 0

    def count(self, now: datetime, api: str, n: int = 1) -> None:
        self.calls[(now.astimezone(KEDAH).date(), api)] += n

    def refuse(self, now: datetime, what: str) -> None:
        self.breaches[(now.astimezone(KEDAH).date(), what)] += 1


def _iso_x(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _iso_graph(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _json_reply(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    return (
        status,
        json.dumps(body).encode(),
        {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
    )


class FakeApis(BaseAdapter):
    """The requests transport for X, the Graph API and Google Trends."""

    def __init__(self, world: World, clock: SimClock, ledger: Ledger, x_queries: list[str]):
        super().__init__()
        self.world, self.clock, self.ledger = world, clock, ledger
        self.x_queries = x_queries
        self.x_window: deque[datetime] = deque()
        self.graph_calls: deque[datetime] = deque()
        self.hashtag_queries: list[tuple[datetime, str]] = []
        self.trends_calls: deque[datetime] = deque()
        self.by_tag: dict[str, list[SimPost]] = defaultdict(list)
        for post in world.posts["instagram"]:
            self.by_tag[post.term].append(post)

    def session(self) -> requests.Session:
        from kedah_analytics.sources.common.retry import TimeoutSession

        s = TimeoutSession()
        s.mount("https://", self)
        s.mount("http://", self)
        return s

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        if path == "/2/tweets/search/recent":
            status, body, headers = self.x_search(params)
        elif parts.netloc.endswith("graph.facebook.com"):
            status, body, headers = self.graph(path, params)
        elif "trends" in parts.netloc:
            status, body, headers = self.trends(path, params)
        else:
            raise AssertionError(f"the simulation has no API at {request.url}")
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status == 200 else "Error"
        response._content = body
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        response.connection = self  # type: ignore[attr-defined]
        return response

    def close(self) -> None:
        pass

    # --- X ------------------------------------------------------------------------------------
    def x_search(self, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        now = self.clock()
        self.ledger.count(now, "x_requests")
        while self.x_window and self.x_window[0] <= now - timedelta(minutes=15):
            self.x_window.popleft()
        if len(self.x_window) >= 450:
            self.ledger.refuse(now, "x_rate_limit")
            reset = int((self.x_window[0] + timedelta(minutes=15)).timestamp())
            return _json_reply(429, {"title": "Too Many Requests", "status": 429},
                               {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})  # fmt: skip
        self.x_window.append(now)
        start, end = _parse(params.get("start_time")), _parse(params.get("end_time")) or now
        if start is not None and start < now - timedelta(days=7):
            self.ledger.refuse(now, "x_window")
            return _json_reply(400, {"errors": [{"parameters": {"start_time": [params["start_time"]]},
                                                 "message": "start_time must be within the last 7 days"}],
                                     "title": "Invalid Request", "status": 400})  # fmt: skip
        query = params["query"].lower()
        since = int(params["since_id"]) if params.get("since_id") else None
        no_retweets = "-is:retweet" in query
        found = [
            p for p in self.world.posts["twitter"]
            if p.term.lower() in query and p.created_at <= min(end, now) and (start is None or p.created_at >= start)
            and (since is None or int(p.post_id) > since) and not (no_retweets and p.retweet)
        ]  # fmt: skip
        found.sort(key=lambda p: int(p.post_id), reverse=True)
        offset = int(params.get("pagination_token") or params.get("next_token") or 0)
        size = int(params.get("max_results", 10))
        page = found[offset : offset + size]
        billed = self.ledger.x_billed[now.astimezone(UTC).date()]
        new = {p.post_id for p in page} - billed  # charged once per UTC day
        billed.update(new)
        self.ledger.x_billed_kedah[now.astimezone(KEDAH).date()] += len(new)
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0].post_id, "oldest_id": page[-1].post_id}
        if offset + size < len(found):
            meta["next_token"] = str(offset + size)
        if not page:
            return _json_reply(200, {"meta": meta})
        users = {p.author_id: {"id": p.author_id, "name": p.author_id, "username": p.author_id,
                               "public_metrics": {"followers_count": 150}} for p in page}  # fmt: skip
        return _json_reply(200, {"data": [self._tweet(p, now) for p in page],
                                 "includes": {"users": list(users.values())}, "meta": meta})  # fmt: skip

    def _tweet(self, post: SimPost, now: datetime) -> dict[str, Any]:
        chain = [i for i in post.edit_chain if _snowflake_time(i) <= now] or [post.post_id]
        out: dict[str, Any] = {
            "id": post.post_id, "text": post.text, "created_at": _iso_x(post.created_at), "author_id": post.author_id,
            "lang": "en", "conversation_id": post.post_id, "edit_history_tweet_ids": chain,
            "public_metrics": {"retweet_count": post.shares, "reply_count": post.comments, "like_count": post.likes,
                               "quote_count": 0, "bookmark_count": 0, "impression_count": post.views},
        }  # fmt: skip
        if post.hashtags:
            start = post.text.index("#")
            out["entities"] = {"hashtags": [{"start": start, "end": len(post.text), "tag": post.hashtags[0]}]}
        return out

    # --- Graph ----------------------------------------------------------------------------------
    def graph(self, path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        now = self.clock()
        self.ledger.count(now, "graph_calls")
        while self.graph_calls and self.graph_calls[0] <= now - timedelta(hours=1):
            self.graph_calls.popleft()
        if len(self.graph_calls) >= 200:
            self.ledger.refuse(now, "graph_rate_limit")
            return _json_reply(403, {"error": {"message": "(#4) Application request limit reached",
                                               "type": "OAuthException", "is_transient": True, "code": 4}},
                               {"X-App-Usage": json.dumps({"call_count": 100, "total_time": 40, "total_cputime": 40})})  # fmt: skip
        self.graph_calls.append(now)
        day = now.astimezone(KEDAH).date()
        self.ledger.graph_peak_hour[day] = max(self.ledger.graph_peak_hour[day], len(self.graph_calls))
        usage = {"X-App-Usage": json.dumps({"call_count": len(self.graph_calls) * 100 // 200, "total_time": 5,
                                            "total_cputime": 5})}  # fmt: skip
        parts = path.strip("/").split("/")[1:]  # drop the version
        if parts == ["ig_hashtag_search"]:
            return self._hashtag_search(now, params, usage)
        if parts == ["debug_token"]:
            data = {"data": {"is_valid": True, "expires_at": 0, "data_access_expires_at": 0, "scopes": []}}
            return _json_reply(200, data, usage)
        if len(parts) == 2 and parts[1] == "recent_media":
            return self._recent_media(now, parts[0], params, usage)
        if len(parts) == 2 and parts[1] == "posts":
            return self._page_posts(now, parts[0], params, usage)
        if len(parts) == 2 and parts[1] == "insights":
            return _json_reply(200, {"data": []}, usage)
        if len(parts) == 1:
            return _json_reply(200, {"id": parts[0], "name": f"Page {parts[0]}", "followers_count": 15000,
                                     "access_token": f"EAAPageToken{parts[0]}"}, usage)  # fmt: skip
        raise AssertionError(f"the simulated Graph API has no {path}")

    def _hashtag_search(
        self, now: datetime, params: dict[str, str], usage: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        tag = params["q"].lower()
        week = {t for at, t in self.hashtag_queries if at > now - timedelta(days=7)}
        if tag not in week and len(week) >= 30:
            self.ledger.refuse(now, "instagram_hashtags")
            return _json_reply(400, {"error": {"message": "(#18) Unique hashtag query limit of 30 reached",
                                               "type": "OAuthException", "code": 18}}, usage)  # fmt: skip
        self.hashtag_queries.append((now, tag))
        self.ledger.ig_hashtags_week_peak = max(self.ledger.ig_hashtags_week_peak, len(week | {tag}))
        return _json_reply(200, {"data": [{"id": _hashtag_id(tag)}]}, usage)

    def _recent_media(
        self, now: datetime, hashtag_id: str, params: dict[str, str], usage: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        tag = next((t for t in self.by_tag if _hashtag_id(t) == hashtag_id), None)
        posts = [
            p for p in self.by_tag.get(tag or "", []) if now - timedelta(hours=24) <= p.created_at <= now
        ]
        posts.sort(key=lambda p: p.created_at, reverse=True)
        return self._paged(posts, params, f"/v25.0/{hashtag_id}/recent_media", usage, lambda p: {
            "id": p.post_id, "caption": p.text, "media_type": "IMAGE", "like_count": p.likes,
            "comments_count": p.comments, "permalink": f"https://www.instagram.com/p/{p.post_id}/",
            "timestamp": _iso_graph(p.created_at),
        })  # fmt: skip

    def _page_posts(
        self, now: datetime, page_id: str, params: dict[str, str], usage: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        since, until = _parse(params.get("since")), _parse(params.get("until"))
        posts = [p for p in self.world.posts["facebook"] if p.term == page_id and p.created_at <= now
                 and (since is None or p.created_at >= since) and (until is None or p.created_at <= until)]  # fmt: skip
        posts.sort(key=lambda p: p.created_at, reverse=True)
        return self._paged(posts, params, f"/v25.0/{page_id}/posts", usage, lambda p: {
            "id": p.post_id, "message": p.text, "created_time": _iso_graph(p.created_at),
            "permalink_url": f"https://www.facebook.com/{p.post_id}", "shares": {"count": p.shares},
            "reactions": {"data": [], "summary": {"total_count": p.likes}},
            "comments": {"data": [], "summary": {"total_count": p.comments}},
        })  # fmt: skip

    def _paged(
        self, posts: list[SimPost], params: dict[str, str], path: str, usage: dict[str, str], shape: Any
    ) -> tuple[int, bytes, dict[str, str]]:
        offset, size = int(params.get("after") or 0), int(params.get("limit") or 25)
        page = posts[offset : offset + size]
        body: dict[str, Any] = {"data": [shape(p) for p in page]}
        if offset + size < len(posts):
            following = {k: v for k, v in params.items() if k not in ("access_token", "appsecret_proof")}
            following["after"] = str(offset + size)
            body["paging"] = {
                "cursors": {"after": str(offset + size)},
                "next": f"{GRAPH}{path}?{urlencode(following)}",
            }
        return _json_reply(200, body, usage)

    # --- Google Trends ---------------------------------------------------------------------------
    def trends(self, path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        now = self.clock()
        self.ledger.count(now, "trends_requests")
        while self.trends_calls and self.trends_calls[0] <= now - timedelta(minutes=1):
            self.trends_calls.popleft()
        if len(self.trends_calls) >= 4:
            self.ledger.refuse(now, "trends_429")
            return 429, b"Too Many Requests", {"Content-Type": "text/html"}
        self.trends_calls.append(now)
        if path == "/trends/api/explore":
            req = json.loads(params["req"])
            items = req["comparisonItem"]
            request = {"time": items[0]["time"], "resolution": "DAY", "locale": "en-US",
                       "comparisonItem": [{"geo": {"region": i.get("geo", "")}, "complexKeywordsRestriction":
                                           {"keyword": [{"type": "BROAD", "value": i["keyword"]}]}} for i in items],
                       "requestOptions": {"property": "", "backend": "IZG", "category": 0}}  # fmt: skip
            body = {"widgets": [{"request": request, "token": "SIMTOKEN", "id": "TIMESERIES", "type": "fe_line_chart",
                                 "title": "Interest over time"}]}  # fmt: skip
            return (
                200,
                (")]}'\n" + json.dumps(body)).encode(),
                {"Content-Type": "application/json; charset=utf-8"},
            )
        if path == "/trends/api/widgetdata/multiline":
            req = json.loads(params["req"])
            first, last = (date.fromisoformat(d) for d in req["time"].split(" "))
            keywords = len(req["comparisonItem"])
            points = []
            day = first
            while day <= last:
                stamp = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
                values = [(day.toordinal() * (k + 3)) % 80 + 20 for k in range(keywords)]
                points.append({"time": str(stamp), "formattedTime": str(day), "value": values,
                               "hasData": [True] * keywords, "formattedValue": [str(v) for v in values]})  # fmt: skip
                day += timedelta(days=1)
            body = {"default": {"timelineData": points, "averages": []}}
            return (
                200,
                (")]}',\n" + json.dumps(body)).encode(),
                {"Content-Type": "application/json; charset=utf-8"},
            )
        # The cookie page.
        return (
            200,
            b"<html></html>",
            {"Content-Type": "text/html; charset=UTF-8", "Set-Cookie": "NID=525=sim; Path=/"},
        )


def _hashtag_id(tag: str) -> str:
    return "1784" + str(int(hashlib.sha1(tag.encode()).hexdigest()[:10], 16)).zfill(13)[:13]


def _snowflake_time(tweet_id: str) -> datetime:
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + 1288834974657) / 1000, UTC)


class FakeYouTubeHttp:
    """What google-api-python-client calls ``http``: ``request(uri, method, body, headers)``."""

    def __init__(self, world: World, clock: SimClock, ledger: Ledger, search_allowance: int = 100):
        self.world, self.clock, self.ledger = world, clock, ledger
        self.search_allowance = search_allowance
        self.videos = {p.post_id: p for p in world.posts["youtube"]}

    def request(
        self, uri: str, method: str = "GET", body: Any = None, headers: Any = None, **_: Any
    ) -> tuple[httplib2.Response, bytes]:
        now = self.clock()
        parts = urlsplit(uri)
        params = dict(parse_qsl(parts.query))
        pacific = now.astimezone(PACIFIC).date()
        search = parts.path.endswith("/search")
        cost = 100 if search else 1
        self.ledger.count(now, "youtube_search" if search else "youtube_videos")
        if (search and self.ledger.yt_search[pacific] >= self.search_allowance) or self.ledger.yt_units[
            pacific
        ] + cost > 10_000:
            self.ledger.refuse(now, "youtube_quota")
            error = {"error": {"code": 403, "message": "quota", "errors": [{"message": "quota", "domain": "youtube.quota",
                                                                               "reason": "quotaExceeded"}]}}  # fmt: skip
            return httplib2.Response({"status": 403}), json.dumps(error).encode()
        self.ledger.yt_units[pacific] += cost
        self.ledger.yt_search[pacific] += 1 if search else 0
        if search:
            after, before = _parse(params.get("publishedAfter")), _parse(params.get("publishedBefore"))
            found = [p for p in self.world.posts["youtube"] if p.term == params.get("q") and p.created_at <= now
                     and (after is None or p.created_at >= after) and (before is None or p.created_at < before)]  # fmt: skip
            found.sort(key=lambda p: p.created_at, reverse=True)
            offset, size = int(params.get("pageToken") or 0), int(params.get("maxResults") or 5)
            page = found[offset : offset + size]
            out: dict[str, Any] = {"kind": "youtube#searchListResponse", "regionCode": "MY",
                                   "pageInfo": {"totalResults": len(found), "resultsPerPage": size},
                                   "items": [{"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": p.post_id},
                                              "snippet": self._snippet(p)} for p in page]}  # fmt: skip
            if offset + size < len(found):
                out["nextPageToken"] = str(offset + size)
            return httplib2.Response({"status": 200}), json.dumps(out).encode()
        ids = [i for i in params.get("id", "").split(",") if i in self.videos]
        items = [{"kind": "youtube#video", "id": i, "snippet": self._snippet(self.videos[i]),
                  "statistics": {"viewCount": str(self.videos[i].views), "likeCount": str(self.videos[i].likes),
                                 "commentCount": str(self.videos[i].comments)}} for i in ids]  # fmt: skip
        return httplib2.Response({"status": 200}), json.dumps(
            {"kind": "youtube#videoListResponse", "items": items}
        ).encode()

    @staticmethod
    def _snippet(post: SimPost) -> dict[str, Any]:
        return {"publishedAt": post.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "channelId": f"UC{post.author_id}",
                "title": post.text[:60], "description": post.text, "channelTitle": post.author_id,
                "liveBroadcastContent": "none"}  # fmt: skip
