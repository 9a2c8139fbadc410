-- Whether a score's replay is stored. Set only once the `.osr` built from the play's
-- spectator frames is durably written (reliability.md S-INT-3); score JSON reads it as
-- `has_replay` (and `replay`), and GET scores/{id}/download serves only flagged scores.

-- dialect: all
ALTER TABLE scores ADD COLUMN has_replay TINYINT(1) NOT NULL DEFAULT 0;
