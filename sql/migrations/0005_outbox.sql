-- A transactional outbox (reliability.md §2.1): a message is written in the same transaction
-- as the change it announces and deleted once published; a relay publishes what is left, so a
-- message is delivered at least once even when Redis was down at the commit.

-- dialect: mysql
CREATE TABLE outbox (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    channel VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
