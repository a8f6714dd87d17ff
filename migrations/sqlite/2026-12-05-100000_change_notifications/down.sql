ALTER TABLE blacklisted_tokens DROP COLUMN rotated;
