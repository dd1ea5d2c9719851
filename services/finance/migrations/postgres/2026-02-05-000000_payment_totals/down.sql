DROP TABLE payment_totals;
