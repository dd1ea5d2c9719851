DROP TABLE source_locks;
