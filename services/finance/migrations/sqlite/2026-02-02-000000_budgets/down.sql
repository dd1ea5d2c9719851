DROP TABLE period_closures;
DROP TABLE contributions;
DROP TABLE budget_lines;
DROP TABLE budget_versions;
DROP TABLE budgets;
