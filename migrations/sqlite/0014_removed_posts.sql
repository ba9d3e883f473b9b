-- Comments and tweets hidden by moderation (docs/api.md §3.15.3): `hidden` is set while a
-- moderator's removal stands (`removed_reason`) or the author is suspended; a hidden one is shown
-- to its author only. The comment counter's triggers count only what everyone sees.
ALTER TABLE comments ADD COLUMN removed_reason TEXT;
ALTER TABLE comments ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tweets ADD COLUMN removed_reason TEXT;
ALTER TABLE tweets ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER comments_count_insert;
DROP TRIGGER comments_count_delete;

CREATE TRIGGER comments_count_insert AFTER INSERT ON comments WHEN NEW.hidden = 0 BEGIN
    INSERT INTO comment_counts (video_id, n) VALUES (NEW.video_id, 1)
        ON CONFLICT (video_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER comments_count_delete AFTER DELETE ON comments WHEN OLD.hidden = 0 BEGIN
    UPDATE comment_counts SET n = n - 1 WHERE video_id = OLD.video_id;
END;

CREATE TRIGGER comments_count_hidden AFTER UPDATE OF hidden ON comments WHEN OLD.hidden <> NEW.hidden BEGIN
    INSERT INTO comment_counts (video_id, n) VALUES (NEW.video_id, CASE WHEN NEW.hidden = 0 THEN 1 ELSE -1 END)
        ON CONFLICT (video_id) DO UPDATE SET n = n + excluded.n;
END;

-- A viewer's own hidden comments on a video are added to the count they see: a lookup in this
-- small index, not a walk over the video's comments.
CREATE INDEX comments_hidden ON comments (video_id, owner_id) WHERE hidden = 1;

-- A suspended account (§3.15.3): `suspended_reason` is set while the suspension stands.
ALTER TABLE users ADD COLUMN suspended_reason TEXT;
