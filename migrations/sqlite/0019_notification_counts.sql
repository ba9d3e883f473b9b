-- Notification totals kept by triggers (docs/decisions.md D25), so that a list's `totalDocs` and
-- the unread count are one lookup instead of a count over every one of the recipient's
-- notifications (1M notifications: a count took 0.6-1.1 s).
--
-- `shown`: whether the recipient is shown the notification, from its targets as they are. The
-- triggers that keep it in step with those targets (actor suspended, blocks, comment hidden, video
-- level) are made by the store when it opens, from the visibility rule in the code
-- (`src/store/sqlite/notifications.rs`, `SHOWN_TARGETS`), which also sets every row's `shown`
-- then; the one that follows a new notification also adds it to the counts (before it settles
-- its `shown`, so that the order of triggers does not matter). Rows of recipients without
-- notifications are absent and read as 0.
ALTER TABLE notifications ADD COLUMN shown INTEGER NOT NULL DEFAULT 1;

CREATE TABLE notification_counts (
    recipient_id TEXT PRIMARY KEY NOT NULL,
    shown        INTEGER NOT NULL DEFAULT 0,
    unread       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO notification_counts (recipient_id, shown, unread)
SELECT recipient_id, COUNT(*), SUM(read = 0) FROM notifications GROUP BY recipient_id;

CREATE TRIGGER notifications_count_delete AFTER DELETE ON notifications BEGIN
    UPDATE notification_counts
        SET shown = shown - OLD.shown, unread = unread - (OLD.shown AND NOT OLD.read)
        WHERE recipient_id = OLD.recipient_id;
END;

CREATE TRIGGER notifications_count_update AFTER UPDATE OF shown, read ON notifications BEGIN
    UPDATE notification_counts
        SET shown = shown - OLD.shown + NEW.shown,
            unread = unread - (OLD.shown AND NOT OLD.read) + (NEW.shown AND NOT NEW.read)
        WHERE recipient_id = NEW.recipient_id;
END;

-- Notifications whose `shown` may be out of step after a change that touches many of them (more
-- than the triggers settle at once): the store works through them in the background, `after` the
-- last notification (by rowid) it has settled. `target` names the change (`notifications.rs`).
CREATE TABLE notification_refresh (
    id     INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    a      TEXT NOT NULL,
    b      TEXT,
    after  INTEGER NOT NULL DEFAULT 0
);

-- A change walks the notifications it touches in rowid order (the queue's `after`): by actor, and
-- by actor and recipient (a block), each an index whose entries are in rowid order within a key.
DROP INDEX notifications_actor;
CREATE INDEX notifications_actor ON notifications (actor_id);
CREATE INDEX notifications_actor_recipient ON notifications (actor_id, recipient_id);
