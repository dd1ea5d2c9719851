DROP TABLE offered_beds;
