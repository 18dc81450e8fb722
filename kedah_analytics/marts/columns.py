"""What each mart column means: shown in the Dagster UI as the assets' column schema."""

from __future__ import annotations

from kedah_analytics.config.settings import ALERT_WEBHOOK

_PROVIDER = "'demo' for demo rows, 'real' for rows from the real APIs (never summed together)"
_SENTIMENT = "mean sentiment score (-1..1) over the posts"

CITY_DAILY_OVERVIEW = {
    "date": "Kedah day",
    "city": "city, or 'All Kedah' for the five cities together",
    "platform": "twitter, instagram, facebook, youtube, or 'all' for the four together",
    "provider": _PROVIDER,
    "posts": "non-spam posts linked to a place in the city",
    "likes": "likes of those posts",
    "comments": "comments of those posts",
    "shares": "shares (retweets, reposts) of those posts",
    "views": "views of those posts, where the platform gives them",
    "engagement": "likes + comments + shares",
    "positive": "posts labelled positive",
    "neutral": "posts labelled neutral",
    "negative": "posts labelled negative",
    "positive_share": "positive / posts",
    "neutral_share": "neutral / posts",
    "negative_share": "negative / posts",
    "sentiment_mean": _SENTIMENT,
}

PLACE_RANKINGS = {
    "date": "Kedah day",
    "place_id": "place",
    "provider": _PROVIDER,
    "place_name": "place name",
    "city": "city of the place",
    "category": "place category (beach, island, culture, nature, ...)",
    "posts": "non-spam posts of the day, all platforms",
    "engagement": "likes + comments + shares of those posts",
    "rank_engagement": "rank by engagement among Kedah's places that day (1 = most)",
    "rank_posts": "rank by posts among Kedah's places that day (1 = most)",
    "rank_engagement_city": "rank by engagement within the place's city",
    "engagement_avg_7d": "mean daily engagement over the days of the 7 before that the warehouse covers "
    "(a covered day without posts counts 0)",
    "engagement_avg_28d": "mean daily engagement over the covered days of the 28 before",
    "engagement_change_7d": "engagement against its 7-day mean, in percent (null: no posts before, or "
    "fewer than 7 days before covered: see change_7d_reason)",
    "engagement_change_28d": "engagement against its 28-day mean, in percent (null: see change_28d_reason)",
    "posts_avg_7d": "mean daily posts over the 7 days before",
    "posts_avg_28d": "mean daily posts over the 28 days before",
    "posts_change_7d": "posts against their 7-day mean, in percent (the 'trending %')",
    "posts_change_28d": "posts against their 28-day mean, in percent",
    "sentiment_mean": _SENTIMENT,
    "sentiment_mean_28d": "mean sentiment over the posts of the 28 days before",
    "sentiment_change_28d": "sentiment_mean - sentiment_mean_28d, in score points",
    "share_of_voice_city": "the place's share of the city's posts that day",
    "share_of_voice_kedah": "the place's share of Kedah's posts that day",
    "change_7d_reason": "why the 7-day changes are null: how few of the 7 days before the warehouse covers",
    "change_28d_reason": "why the 28-day changes are null: how few of the 28 days before the warehouse covers",
}

SENTIMENT_BY_CATEGORY = {
    "date": "Kedah day",
    "city": "city, or 'All Kedah'",
    "category": "place category (beach, island, culture, nature, shopping, ...)",
    "provider": _PROVIDER,
    "posts": "non-spam posts linked to places of the category",
    "positive": "posts labelled positive",
    "neutral": "posts labelled neutral",
    "negative": "posts labelled negative",
    "sentiment_mean": _SENTIMENT,
}

TOP_POSTS = {
    "date": "Kedah day",
    "place_id": "place the post is linked to",
    "provider": _PROVIDER,
    "rank": "1 = the place's most engaging post of the day",
    "place_name": "place name",
    "city": "city of the place",
    "platform": "platform of the post",
    "post_id": "the platform's post id",
    "created_at": "when the post was published",
    "author_name": "author as the platform shows it",
    "url": "link to the post",
    "text": "the post's text (first 280 characters)",
    "language": "en, ms, mixed or other",
    "sentiment_label": "positive, neutral or negative",
    "sentiment_score": "sentiment score, -1..1",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "views": "views (0 where the platform gives none)",
    "engagement": "likes + comments + shares",
}

ALERTS = {
    "date": "Kedah day the alert is raised for",
    "alert_id": "hash of kind, subject, provider and day: the same event gives the same id on every re-run",
    "kind": "burst (the trend detector flags the term) or sentiment_dip (a place's sentiment falls well below its own level)",
    "subject": "the trend series key: a keyword, a #hashtag, 'topic:<topic>' or 'place:<place_id>'",
    "subject_type": "keyword, hashtag, topic or place",
    "subject_name": "the term, or the place's name",
    "city": "city of the place (places only)",
    "provider": "'demo' if any post behind the alert is demo data, else 'real'",
    "observed": "burst: posts in the flagged hours; dip: the day's mean sentiment",
    "baseline": "burst: posts expected in those hours from the term's past; dip: the mean over the 28 days before",
    "change_pct": "observed against baseline, in percent",
    "score": "burst: the detector's score (-log10 p); dip: z of the drop",
    "posts": "the subject's posts that day",
    "platforms": "posts of the day per platform",
    "sentiment_now": "mean sentiment of the subject's posts that day",
    "sentiment_baseline": "mean sentiment of the subject's posts over the 28 days before",
    "top_posts": "the posts behind the alert: platform, author, url, text, engagement, sentiment",
    "message": f"the text sent to {ALERT_WEBHOOK.name}",
}
