DROP TABLE payments;
DROP TABLE uploads;
