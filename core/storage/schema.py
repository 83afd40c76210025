"""The store's SQLite schema as an ordered list of migration steps (`PRAGMA user_version`).

Step *n* (0-based) takes a database from `user_version = n` to `n + 1`. Steps are only ever
appended: a released step is never edited, because databases in the field already ran it.
"""

from __future__ import annotations

# 'tgtr' — marks the file as tgtriage's so a foreign SQLite file is never migrated in place.
APPLICATION_ID = 0x74677472

_V1 = """
CREATE TABLE chats (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    username   TEXT,
    folder_ids TEXT    NOT NULL DEFAULT '[]'
);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    first_name TEXT    NOT NULL DEFAULT '',
    last_name  TEXT    NOT NULL DEFAULT '',
    username   TEXT,
    bot        INTEGER NOT NULL DEFAULT 0
);

-- `seq` is an explicit INTEGER PRIMARY KEY so that VACUUM never renumbers the rows the
-- external-content FTS index points at; (chat_id, id) is the message's real key.
CREATE TABLE messages (
    seq         INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    id          INTEGER NOT NULL,
    date        INTEGER NOT NULL,
    sender_id   INTEGER,
    sender_name TEXT    NOT NULL DEFAULT '',
    text        TEXT    NOT NULL DEFAULT '',
    out         INTEGER NOT NULL DEFAULT 0,
    reply_to    INTEGER,
    edit_date   INTEGER,
    media       TEXT,
    service     INTEGER NOT NULL DEFAULT 0,
    topic_id    INTEGER,
    UNIQUE (chat_id, id)
);
CREATE INDEX messages_chat_date ON messages (chat_id, date, id);
-- Telegram reports deletions in private chats and basic groups by message id alone (those ids
-- are unique account-wide); channels/supergroups (ids <= -10^12) always name their chat.
CREATE INDEX messages_unmarked_id ON messages (id) WHERE chat_id > -1000000000000;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text != '' BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text != '' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text)
        SELECT 'delete', old.seq, old.text WHERE old.text != '';
    INSERT INTO messages_fts (rowid, text) SELECT new.seq, new.text WHERE new.text != '';
END;

CREATE TABLE triage (
    chat_id           INTEGER PRIMARY KEY,
    last_msg_id       INTEGER NOT NULL DEFAULT 0,
    last_activity     INTEGER NOT NULL DEFAULT 0,
    last_preview      TEXT    NOT NULL DEFAULT '',
    last_staff_msg_id INTEGER NOT NULL DEFAULT 0,
    last_staff_at     INTEGER,
    last_staff_sender INTEGER,
    waiting_since     INTEGER,
    waiting_msg_id    INTEGER,
    last_customer_id  INTEGER,
    unread            INTEGER NOT NULL DEFAULT 0,
    read_inbox_max    INTEGER NOT NULL DEFAULT 0,
    read_outbox_max   INTEGER NOT NULL DEFAULT 0,
    handled_upto      INTEGER NOT NULL DEFAULT 0,
    status            TEXT    NOT NULL DEFAULT 'open',
    postponed_until   INTEGER,
    ticket            TEXT,
    due               INTEGER,
    reopened          INTEGER NOT NULL DEFAULT 0,
    levels_override   TEXT,
    alerted_level     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE drafts (
    chat_id INTEGER PRIMARY KEY,
    text    TEXT    NOT NULL,
    updated INTEGER NOT NULL
);

CREATE TABLE outbox (
    local_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id   INTEGER NOT NULL,
    random_id INTEGER NOT NULL UNIQUE,
    text      TEXT    NOT NULL,
    reply_to  INTEGER,
    state     TEXT    NOT NULL,
    error     TEXT,
    created   INTEGER NOT NULL,
    sent_id   INTEGER
);

CREATE TABLE slots (
    slot    INTEGER PRIMARY KEY CHECK (slot BETWEEN 1 AND 10),
    chat_id INTEGER NOT NULL UNIQUE
);

CREATE TABLE template_usage (
    key       TEXT    PRIMARY KEY,
    count     INTEGER NOT NULL,
    last_used INTEGER NOT NULL
);

CREATE TABLE notes (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    date    INTEGER NOT NULL,
    author  TEXT    NOT NULL,
    text    TEXT    NOT NULL
);
CREATE INDEX notes_chat ON notes (chat_id, date);

CREATE TABLE chat_tags (
    chat_id INTEGER NOT NULL,
    tag     TEXT    NOT NULL,
    PRIMARY KEY (chat_id, tag)
) WITHOUT ROWID;

-- Small facts about the account and sync state (e.g. "me_id"), as text.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE alerts (
    chat_id INTEGER NOT NULL,
    level   INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (chat_id, level, kind)
) WITHOUT ROWID;
"""

# v2: forum topic names per chat (JSON [[topic id, title], …]), so a desk restarted from its
# cache names the topics before Telegram has answered.
_V2_CHAT_TOPICS = """
ALTER TABLE chats ADD COLUMN topics TEXT NOT NULL DEFAULT '[]';
"""

# v3 (workflow): a note remembers the last message of the chat when it was written, so the
# conversation shows it right after that message however the clocks of note and chat compare.
_V3_NOTES = """
ALTER TABLE notes ADD COLUMN after_msg_id INTEGER;
"""

# v4 (sync): the id below which a chat's history was never fetched, so a wait that began
# before it shows as a lower bound ("≥ 2h") after a restart too.
_V4_HISTORY_CUT = """
ALTER TABLE triage ADD COLUMN history_cut INTEGER NOT NULL DEFAULT 0;
"""

# v5 (faults): a half-written internal note survives quitting and crashes, like a reply draft.
_V5_NOTE_DRAFTS = """
CREATE TABLE note_drafts (
    chat_id INTEGER PRIMARY KEY,
    text    TEXT    NOT NULL,
    updated INTEGER NOT NULL
);
"""

# v6 (search): newest-first search walks messages by date (carrying chat and sender, so filters
# on them need no row), and a customer's history reads one sender's messages by date.
_V6_SEARCH = """
CREATE INDEX messages_date ON messages (date, chat_id, sender_id);
CREATE INDEX messages_sender_date ON messages (sender_id, date);
"""

# v7 (shift): a chat marked unread by hand (Telegram's dialog unread mark), kept across restarts.
_V7_UNREAD_MARK = """
ALTER TABLE triage ADD COLUMN unread_mark INTEGER NOT NULL DEFAULT 0;
"""

# v8 (report): the chat-order index also carries what reply times read (sender, out, service),
# so a report walks 2,000,000 messages in the index alone, never their rows with the text.
_V8_REPORT_INDEX = """
DROP INDEX messages_chat_date;
CREATE INDEX messages_chat_date ON messages (chat_id, date, id, sender_id, out, service);
"""

MIGRATIONS: tuple[str, ...] = (
    _V1,
    _V2_CHAT_TOPICS,
    _V3_NOTES,
    _V4_HISTORY_CUT,
    _V5_NOTE_DRAFTS,
    _V6_SEARCH,
    _V7_UNREAD_MARK,
    _V8_REPORT_INDEX,
)

LATEST = len(MIGRATIONS)
