DROP TABLE known_frameworks;
