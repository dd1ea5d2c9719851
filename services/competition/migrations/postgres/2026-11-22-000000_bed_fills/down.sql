DROP TABLE bed_fills;
