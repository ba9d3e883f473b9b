-- Comment threads (docs/api.md §3.5): a reply belongs to the thread of a top-level comment
-- (`parent_id`, going with it) and names the author it answered (`reply_to_id`: a mention, not a
-- reference: it stays when that account goes, and then reads as no one). The video's owner pins one
-- top-level comment (`pinned`, at most one per video) and hearts comments (`hearted`).
ALTER TABLE comments ADD COLUMN parent_id TEXT REFERENCES comments (id) ON DELETE CASCADE;
ALTER TABLE comments ADD COLUMN reply_to_id TEXT;
ALTER TABLE comments ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN hearted INTEGER NOT NULL DEFAULT 0;
-- Kept by the triggers below, in the transaction of each write: the replies everyone sees (not
-- hidden) of a top-level comment, and a comment's likes. They order the `top` sort through an index;
-- the likes a response shows are still counted when read (§4.9).
ALTER TABLE comments ADD COLUMN replies_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN like_total INTEGER NOT NULL DEFAULT 0;

UPDATE comments SET like_total = (SELECT COUNT(*) FROM likes l WHERE l.comment_id = comments.id);

-- A video's top-level comments, newest first and most liked first; a thread's replies, oldest first
-- (also the lookup of a deleted thread's replies).
CREATE INDEX comments_video_threads ON comments (video_id, created_at, id) WHERE parent_id IS NULL;
CREATE INDEX comments_video_top ON comments (video_id, like_total, replies_count, created_at, id)
    WHERE parent_id IS NULL;
CREATE INDEX comments_parent_created ON comments (parent_id, created_at, id);
CREATE UNIQUE INDEX comments_pinned ON comments (video_id) WHERE pinned = 1;

-- A viewer's own hidden comments: counted per video among the top-level ones, per thread among replies.
DROP INDEX comments_hidden;
CREATE INDEX comments_hidden ON comments (video_id, owner_id, parent_id) WHERE hidden = 1;

-- `comment_counts` now counts a video's top-level comments (a page's `totalDocs`). Existing rows
-- need no change: no reply existed before this migration.
DROP TRIGGER comments_count_insert;
DROP TRIGGER comments_count_delete;
DROP TRIGGER comments_count_hidden;

CREATE TRIGGER comments_count_insert AFTER INSERT ON comments WHEN NEW.hidden = 0 AND NEW.parent_id IS NULL BEGIN
    INSERT INTO comment_counts (video_id, n) VALUES (NEW.video_id, 1)
        ON CONFLICT (video_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER comments_count_delete AFTER DELETE ON comments WHEN OLD.hidden = 0 AND OLD.parent_id IS NULL BEGIN
    UPDATE comment_counts SET n = n - 1 WHERE video_id = OLD.video_id;
END;

CREATE TRIGGER comments_count_hidden AFTER UPDATE OF hidden ON comments
    WHEN OLD.hidden <> NEW.hidden AND NEW.parent_id IS NULL BEGIN
    INSERT INTO comment_counts (video_id, n) VALUES (NEW.video_id, CASE WHEN NEW.hidden = 0 THEN 1 ELSE -1 END)
        ON CONFLICT (video_id) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER comments_replies_insert AFTER INSERT ON comments WHEN NEW.hidden = 0 AND NEW.parent_id IS NOT NULL BEGIN
    UPDATE comments SET replies_count = replies_count + 1 WHERE id = NEW.parent_id;
END;

CREATE TRIGGER comments_replies_delete AFTER DELETE ON comments WHEN OLD.hidden = 0 AND OLD.parent_id IS NOT NULL BEGIN
    UPDATE comments SET replies_count = replies_count - 1 WHERE id = OLD.parent_id;
END;

CREATE TRIGGER comments_replies_hidden AFTER UPDATE OF hidden ON comments
    WHEN OLD.hidden <> NEW.hidden AND NEW.parent_id IS NOT NULL BEGIN
    UPDATE comments SET replies_count = replies_count + CASE WHEN NEW.hidden = 0 THEN 1 ELSE -1 END
        WHERE id = NEW.parent_id;
END;

CREATE TRIGGER comments_likes_insert AFTER INSERT ON likes WHEN NEW.comment_id IS NOT NULL BEGIN
    UPDATE comments SET like_total = like_total + 1 WHERE id = NEW.comment_id;
END;

CREATE TRIGGER comments_likes_delete AFTER DELETE ON likes WHEN OLD.comment_id IS NOT NULL BEGIN
    UPDATE comments SET like_total = like_total - 1 WHERE id = OLD.comment_id;
END;
