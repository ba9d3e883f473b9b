-- Search and discovery (docs/api.md §3.16, docs/decisions.md D22): video tags, and full-text
-- indexes of listed videos and of channels, kept in step with every write by triggers.
--
-- The indexes fold case and accents (`unicode61`, `remove_diacritics 2`) and keep prefix indexes
-- of 2 and 3 characters for the last word of a query. Their rows are keyed by a column of their
-- own (`search_rowid`) rather than by the tables' rowids, which VACUUM (and so `VACUUM INTO`, the
-- backup) may renumber in tables without an INTEGER PRIMARY KEY.

ALTER TABLE videos ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE videos ADD COLUMN search_rowid INTEGER;
UPDATE videos SET search_rowid = rowid;
CREATE UNIQUE INDEX videos_search_rowid ON videos (search_rowid);

ALTER TABLE users ADD COLUMN search_rowid INTEGER;
UPDATE users SET search_rowid = rowid;
CREATE UNIQUE INDEX users_search_rowid ON users (search_rowid);

-- Only videos listed to everyone (public, not removed, owner not suspended: the listed level is
-- what `visibility` holds) are in the index, so a search never filters by visibility.
CREATE VIRTUAL TABLE video_search USING fts5 (
    title, tags, description, owner,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

INSERT INTO video_search (rowid, title, tags, description, owner)
SELECT v.search_rowid, v.title, v.tags, v.description, u.username || ' ' || u.full_name
FROM videos v JOIN users u ON u.id = v.owner_id WHERE v.visibility = 'public';

CREATE TRIGGER videos_search_insert AFTER INSERT ON videos BEGIN
    UPDATE videos SET search_rowid = (SELECT IFNULL(MAX(search_rowid), 0) + 1 FROM videos)
        WHERE id = NEW.id AND search_rowid IS NULL;
    INSERT INTO video_search (rowid, title, tags, description, owner)
    SELECT v.search_rowid, v.title, v.tags, v.description, u.username || ' ' || u.full_name
    FROM videos v JOIN users u ON u.id = v.owner_id WHERE v.id = NEW.id AND v.visibility = 'public';
END;

CREATE TRIGGER videos_search_update AFTER UPDATE OF title, tags, description, visibility ON videos BEGIN
    DELETE FROM video_search WHERE rowid = OLD.search_rowid;
    INSERT INTO video_search (rowid, title, tags, description, owner)
    SELECT v.search_rowid, v.title, v.tags, v.description, u.username || ' ' || u.full_name
    FROM videos v JOIN users u ON u.id = v.owner_id WHERE v.id = NEW.id AND v.visibility = 'public';
END;

CREATE TRIGGER videos_search_delete AFTER DELETE ON videos BEGIN
    DELETE FROM video_search WHERE rowid = OLD.search_rowid;
END;

-- Channels: every account; a suspended one is left out when read.
CREATE VIRTUAL TABLE user_search USING fts5 (
    username, full_name,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

INSERT INTO user_search (rowid, username, full_name) SELECT search_rowid, username, full_name FROM users;

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    UPDATE users SET search_rowid = (SELECT IFNULL(MAX(search_rowid), 0) + 1 FROM users)
        WHERE id = NEW.id AND search_rowid IS NULL;
    INSERT INTO user_search (rowid, username, full_name)
    SELECT search_rowid, username, full_name FROM users WHERE id = NEW.id;
END;

CREATE TRIGGER users_search_rename AFTER UPDATE OF username, full_name ON users BEGIN
    DELETE FROM user_search WHERE rowid = OLD.search_rowid;
    INSERT INTO user_search (rowid, username, full_name) VALUES (NEW.search_rowid, NEW.username, NEW.full_name);
    UPDATE video_search SET owner = NEW.username || ' ' || NEW.full_name
        WHERE rowid IN (SELECT search_rowid FROM videos WHERE owner_id = NEW.id AND visibility = 'public');
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_search WHERE rowid = OLD.search_rowid;
END;
