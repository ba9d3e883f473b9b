-- Exact video counts kept in step with the videos table by triggers, so the feed's totalDocs is a
-- lookup instead of a count over an index (which grows with the table). owner_id '*' holds totals.
CREATE TABLE video_counts (
    owner_id     TEXT NOT NULL,
    is_published INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (owner_id, is_published)
) WITHOUT ROWID;

INSERT INTO video_counts (owner_id, is_published, n)
SELECT owner_id, is_published, COUNT(*) FROM videos GROUP BY owner_id, is_published;
INSERT INTO video_counts (owner_id, is_published, n)
SELECT '*', is_published, COUNT(*) FROM videos GROUP BY is_published;

CREATE TRIGGER videos_count_insert AFTER INSERT ON videos BEGIN
    INSERT INTO video_counts (owner_id, is_published, n) VALUES (NEW.owner_id, NEW.is_published, 1), ('*', NEW.is_published, 1)
        ON CONFLICT (owner_id, is_published) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER videos_count_delete AFTER DELETE ON videos BEGIN
    UPDATE video_counts SET n = n - 1
        WHERE is_published = OLD.is_published AND owner_id IN (OLD.owner_id, '*');
END;

CREATE TRIGGER videos_count_publish AFTER UPDATE OF is_published ON videos
WHEN OLD.is_published <> NEW.is_published BEGIN
    UPDATE video_counts SET n = n - 1 WHERE is_published = OLD.is_published AND owner_id IN (OLD.owner_id, '*');
    INSERT INTO video_counts (owner_id, is_published, n) VALUES (NEW.owner_id, NEW.is_published, 1), ('*', NEW.is_published, 1)
        ON CONFLICT (owner_id, is_published) DO UPDATE SET n = n + 1;
END;
