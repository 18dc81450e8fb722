-- Withheld posts keep what is real (issue 24). withheld_in: the countries X withholds a post or its
-- author in (`withheld.country_codes`). A post withheld only in other countries arrives with its
-- author's text, which is stored; is_withheld now means the text is X's placeholder notice, which
-- is not stored and keeps the post out of text metrics.
ALTER TABLE kedah.raw_posts
    ADD COLUMN IF NOT EXISTS withheld_in text[] NOT NULL DEFAULT '{}';
