-- From the public Nexmark suite, github.com/nexmark/nexmark (commit 6b3646c),
-- nexmark-flink/src/main/resources/queries/insert_kafka.sql. Apache License 2.0. Unchanged below this header.
-- -------------------------------------------------------------------------------------------------
-- Insert into kafka from nexmark data generator.
-- -------------------------------------------------------------------------------------------------

INSERT INTO kafka
SELECT event_type, person, auction, bid FROM datagen;
