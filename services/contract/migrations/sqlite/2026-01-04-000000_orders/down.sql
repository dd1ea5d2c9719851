DROP TABLE placements; DROP TABLE orders;
