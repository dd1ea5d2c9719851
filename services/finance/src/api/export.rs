//! The monitoring report as CSV (one view a file) and as an XLSX workbook (one sheet a
//! view). Money is pounds to two decimals: in CSV as `1234.56`, in the workbook as numbers
//! formatted `£#,##0.00`; the JSON keeps pence. Every view carries the JSON's figures: a
//! budget line's, a partner's detail line's and a trend point's budget, actual to date,
//! accrued, committed, forecast outturn and variance.

use hub_platform::Pence;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::monitoring::MonitoringReport;
use crate::domain::monitoring::Figures;

/// The views, in sheet order.
pub const VIEWS: [&str; 5] = ["lines", "partners", "detail", "trend", "savings"];

/// A table: its sheet name, headers, and rows of cells.
struct Table {
    sheet: &'static str,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

enum Cell {
    Text(String),
    Int(i64),
    Money(Pence),
}

fn figures(f: &Figures) -> [Cell; 6] {
    [
        Cell::Money(f.budget_pence),
        Cell::Money(f.actual_to_date_pence),
        Cell::Money(f.accrued_pence),
        Cell::Money(f.committed_rest_of_year_pence),
        Cell::Money(f.forecast_outturn_pence),
        Cell::Money(f.variance_pence),
    ]
}

const FIGURE_HEADERS: [&str; 6] = [
    "budget",
    "actual_to_date",
    "accrued",
    "committed_rest_of_year",
    "forecast_outturn",
    "variance",
];

/// The sheet of the report a view names (`partners`, `detail`, `trend`, `savings`, or the
/// budget lines).
fn table(report: &MonitoringReport, view: &str) -> Table {
    match view {
        "partners" => partners_table(report),
        "detail" => detail_table(report),
        "trend" => trend_table(report),
        "savings" => savings_table(report),
        _ => lines_table(report),
    }
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

/// Each partner's contribution, own children's costs and share of the variance, then the
/// totals and how the variance was met.
fn partners_table(report: &MonitoringReport) -> Table {
    let mut rows: Vec<Vec<Cell>> = report
        .partners
        .iter()
        .map(|p| {
            vec![
                text(&p.council),
                text(&p.council_name),
                Cell::Money(p.contribution_pence),
                Cell::Money(p.own_children_costs_pence),
                Cell::Money(p.variance_share_pence),
            ]
        })
        .collect();
    let s = &report.risk_share.sharing;
    rows.push(vec![
        text("total"),
        text("all partners"),
        Cell::Money(report.partners.iter().map(|p| p.contribution_pence).sum()),
        Cell::Money(
            report
                .partners
                .iter()
                .map(|p| p.own_children_costs_pence)
                .sum(),
        ),
        Cell::Money(s.shared_pence),
    ]);
    for (label, v) in [
        ("variance", s.variance_pence),
        ("from_risk_pool", s.from_pool_pence),
        ("unmet", s.unmet_pence),
    ] {
        rows.push(vec![
            text(label),
            text(""),
            Cell::Money(Pence::ZERO),
            Cell::Money(Pence::ZERO),
            Cell::Money(v),
        ]);
    }
    Table {
        sheet: "Partners",
        headers: vec![
            "council",
            "name",
            "contribution",
            "own_children_costs",
            "variance_share",
        ],
        rows,
    }
}

/// Each partner's figures by budget line, with its total.
fn detail_table(report: &MonitoringReport) -> Table {
    Table {
        sheet: "Detail",
        headers: [vec!["council", "budget_line"], FIGURE_HEADERS.to_vec()].concat(),
        rows: report
            .detail
            .iter()
            .flat_map(|d| {
                d.lines
                    .iter()
                    .map(|l| (l.budget_line.as_str(), &l.figures))
                    .chain(std::iter::once(("total", &d.totals)))
                    .map(|(line, f)| {
                        let mut row = vec![text(&d.council), text(line)];
                        row.extend(figures(f));
                        row
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
    }
}

/// The figures as at each period so far.
fn trend_table(report: &MonitoringReport) -> Table {
    Table {
        sheet: "Trend",
        headers: [
            vec!["period", "budget_version", "actual_in_period"],
            FIGURE_HEADERS.to_vec(),
        ]
        .concat(),
        rows: report
            .trend
            .iter()
            .map(|p| {
                let mut row = vec![
                    Cell::Int(p.period.into()),
                    Cell::Int(p.budget_version.into()),
                    Cell::Money(p.actual_in_period_pence),
                ];
                row.extend(figures(&p.figures));
                row
            })
            .collect(),
    }
}

/// Each block contract's planned and realised saving.
fn savings_table(report: &MonitoringReport) -> Table {
    Table {
        sheet: "Block savings",
        headers: vec![
            "block_contract_id",
            "provider_id",
            "beds",
            "planned_annual_saving",
            "planned_for_year",
            "occupied_bed_days_to_date",
            "void_bed_days_to_date",
            "realised_saving_to_date",
            "void_cost_to_date",
            "net_saving_to_date",
        ],
        rows: report
            .block_savings
            .iter()
            .map(|b| {
                vec![
                    Cell::Text(b.block_contract_id.to_string()),
                    text(&b.provider_id),
                    Cell::Int(b.beds.into()),
                    Cell::Money(b.planned_annual_saving_pence),
                    Cell::Money(b.planned_for_year_pence),
                    Cell::Int(b.occupied_bed_days_to_date),
                    Cell::Int(b.void_bed_days_to_date),
                    Cell::Money(b.realised_saving_to_date_pence),
                    Cell::Money(b.void_cost_to_date_pence),
                    Cell::Money(b.net_saving_to_date_pence),
                ]
            })
            .collect(),
    }
}

/// The consolidated figures by budget line, with the total.
fn lines_table(report: &MonitoringReport) -> Table {
    let mut headers = vec!["budget_line"];
    headers.extend(FIGURE_HEADERS);
    let mut rows: Vec<Vec<Cell>> = report
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![text(&l.budget_line)];
            row.extend(figures(&l.figures));
            row
        })
        .collect();
    let mut total = vec![text("total")];
    total.extend(figures(&report.totals));
    rows.push(total);
    Table {
        sheet: "Budget lines",
        headers,
        rows,
    }
}

/// One view as CSV.
pub fn csv(report: &MonitoringReport, view: &str) -> Result<Vec<u8>, csv::Error> {
    let t = table(report, view);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&t.headers)?;
    for row in &t.rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(p) => p.decimal(),
        }))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Every view as a sheet of one workbook, with a cover sheet saying what it is.
pub fn xlsx(report: &MonitoringReport) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("£#,##0.00;-£#,##0.00");
    let cover = book.add_worksheet().set_name("Report")?;
    let about = [
        ("Partnership", report.partnership.clone()),
        ("Financial year", report.year_label.clone()),
        ("As at the end of period", format!("P{}", report.period)),
        ("As at", report.as_at.to_string()),
        ("Budget version", report.budget_version.to_string()),
    ];
    for (i, (k, v)) in about.iter().enumerate() {
        cover.write_string_with_format(i as u32, 0, *k, &bold)?;
        cover.write_string(i as u32, 1, v)?;
    }
    cover.set_column_width(0, 26)?;
    for view in VIEWS {
        let t = table(report, view);
        let sheet = book.add_worksheet().set_name(t.sheet)?;
        for (c, h) in t.headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
            sheet.set_column_width(c as u16, (h.len() as f64 + 4.0).max(14.0))?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => sheet.write_string(r, c, s)?,
                    Cell::Int(n) => sheet.write_number(r, c, *n as f64)?,
                    Cell::Money(p) => {
                        sheet.write_number_with_format(r, c, p.0 as f64 / 100.0, &money)?
                    }
                };
            }
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}
