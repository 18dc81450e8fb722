-- Real posts, counted right (issue 9): what X really sends, kept faithfully.
--
-- is_withheld: the platform withheld the post or its author (X's `withheld`). Its text is empty
--   (X's placeholder sentence is not the author's), so sentiment and text-based metrics must
--   leave it out; its counts still stand.
-- earlier_post_ids: ids of earlier versions of an edited post. An X edit chain is one row, keyed
--   by the first version's id, holding the latest version's text and counts.
-- quoted_post_id: the post a quote post quotes (a quote keeps its own text and counts).
ALTER TABLE kedah.raw_posts
    ADD COLUMN IF NOT EXISTS is_withheld boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS earlier_post_ids text[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS quoted_post_id text;

-- X bills every post read. Reads per UTC day (X's billing day), added up across runs like the
-- YouTube search allowance, so a daily budget holds across processes.
CREATE TABLE IF NOT EXISTS kedah.x_post_reads (
    utc_day     date PRIMARY KEY,
    posts       bigint NOT NULL DEFAULT 0 CHECK (posts >= 0),
    api_calls   integer NOT NULL DEFAULT 0 CHECK (api_calls >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
