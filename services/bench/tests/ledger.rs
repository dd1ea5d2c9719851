//! `hub bench ledger` at a tiny scale against real PostgreSQL: the correctness half of the
//! national-scale bench. The monitoring reports the finance service serves over the bulk-
//! loaded ledger equal the plain SQL aggregate over the same rows, and the lines the bench
//! loaded are the ones finance's own handlers compute from the same facts.

use chrono::NaiveDate;
use diesel::{
    prelude::*,
    sql_types::{BigInt, Date, Integer, Nullable, Text},
};
use finance::app::commitments;
use hub_bench::ledger::{LedgerArgs, bench};
use hub_platform::{Database, Settings, db::DbConnection};

/// A line as stored, without its id and time of writing.
type Line = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i32>,
    String,
    (i32, i32, String, String, i32, i64, i64, i64),
);

/// A row of `commitment_lines` as this test reads it: finance's row types are its own.
#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    partnership: String,
    #[diesel(sql_type = Text)]
    council: String,
    #[diesel(sql_type = Text)]
    attribution: String,
    #[diesel(sql_type = Text)]
    budget_line: String,
    #[diesel(sql_type = Text)]
    source_kind: String,
    #[diesel(sql_type = Text)]
    source_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    contract_id: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    bed: Option<i32>,
    #[diesel(sql_type = Text)]
    provider_id: String,
    #[diesel(sql_type = Integer)]
    year: i32,
    #[diesel(sql_type = Integer)]
    period: i32,
    #[diesel(sql_type = Date)]
    from_date: NaiveDate,
    #[diesel(sql_type = Date)]
    to_date: NaiveDate,
    #[diesel(sql_type = Integer)]
    days: i32,
    #[diesel(sql_type = BigInt)]
    weekly_rate_pence: i64,
    #[diesel(sql_type = BigInt)]
    extras_weekly_pence: i64,
    #[diesel(sql_type = BigInt)]
    amount_pence: i64,
}

fn lines(conn: &mut DbConnection) -> Vec<Line> {
    let mut out: Vec<Line> = diesel::sql_query(
        "SELECT partnership, council, attribution, budget_line, source_kind, source_id, \
         contract_id, bed, provider_id, year, period, from_date, to_date, days, \
         weekly_rate_pence, extras_weekly_pence, amount_pence FROM commitment_lines",
    )
    .load::<Row>(conn)
    .expect("lines")
    .into_iter()
    .map(|l| {
        (
            l.partnership,
            l.council,
            l.attribution,
            l.budget_line,
            l.source_kind,
            l.source_id,
            l.contract_id,
            l.bed,
            l.provider_id,
            (
                l.year,
                l.period,
                l.from_date.to_string(),
                l.to_date.to_string(),
                l.days,
                l.weekly_rate_pence,
                l.extras_weekly_pence,
                l.amount_pence,
            ),
        )
    })
    .collect();
    out.sort();
    out
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(conn).expect(sql).n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_national_ledger_reports_the_plain_aggregates_figures_and_finances_own_lines() {
    let url = hub_platform::db::test_postgres_url("hub_test_ledger");
    let (server, rest) = url.rsplit_once('/').expect("a database URL");
    let (database, query) = rest
        .split_once('?')
        .map_or((rest, None), |(d, q)| (d, Some(q)));
    let mut args = LedgerArgs::with_placements(200);
    args.partnerships = 3;
    args.councils = 9;
    args.years = 2;
    args.first_year = 2022;
    args.period = 6;
    args.requests = 5;
    args.warmup = 1;
    args.rollups = 1;
    args.quiet = true;
    args.keep = true;
    args.database = database.to_owned();
    args.postgres = query.map_or_else(|| server.to_owned(), |q| format!("{server}?{q}"));
    let settings = Settings::load_with(&[("telemetry.log_filter", "warn")]).expect("settings");

    let report = bench(&args, settings).await.expect("the bench runs");

    // Every partnership's report (and the busiest one's, timed alone) gives the plain
    // aggregate's actual and committed figures for every budget line with money on it:
    // placements, commissioned support and staffing, for each of the three.
    assert!(
        report.mismatches.is_empty(),
        "the reports differ from the plain aggregate:\n{}",
        report.mismatches.join("\n")
    );
    assert!(report.compared >= 3 * 3 + 3, "{} compared", report.compared);
    let rows = &report.rows;
    assert_eq!(rows.placements, 200);
    assert_eq!(rows.budgets, 3 * 2);
    assert_eq!(rows.uploads, 3 * 2 * 12);
    assert!(rows.commitment_lines > 200 && rows.payments > 0);
    assert_eq!((report.report.runs, report.rollup.runs), (5, 1));
    assert!(report.report.p50_ms > 0.0 && report.plain.p50_ms > 0.0);
    assert!(
        report
            .table()
            .contains("the reports equal the plain aggregate")
    );

    // The lines loaded are the lines finance computes: recomputing every source through the
    // service's own handler code from the facts loaded changes nothing, and the totals kept
    // beside the lines still sum them.
    let db = Database::connect(&url, "finance", 2)
        .await
        .expect("connect");
    let loaded = db.run(|c| Ok(lines(c))).await.expect("lines");
    assert_eq!(loaded.len(), rows.commitment_lines);
    let after = db
        .transaction(|c| {
            let ids = |c: &mut DbConnection, sql: &str| -> Vec<String> {
                #[derive(QueryableByName)]
                struct Id {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    id: String,
                }
                diesel::sql_query(sql)
                    .load::<Id>(c)
                    .expect(sql)
                    .into_iter()
                    .map(|i| i.id)
                    .collect()
            };
            let cause = commitments::Cause {
                event_type: "test.recompute",
                event_id: "all",
            };
            for id in ids(c, "SELECT placement_id AS id FROM placements") {
                commitments::recompute_placement(c, &id, cause)?;
            }
            for id in ids(c, "SELECT block_contract_id AS id FROM block_contracts") {
                commitments::recompute_block(c, &id, cause)?;
            }
            for id in ids(c, "SELECT contract_id AS id FROM service_contracts") {
                commitments::recompute_service_contract(c, &id, cause)?;
            }
            Ok(lines(c))
        })
        .await
        .expect("recomputed");
    assert_eq!(
        loaded.len(),
        after.len(),
        "finance computes as many lines as were loaded"
    );
    assert!(
        loaded == after,
        "finance computes the lines that were loaded"
    );
    let off = db
        .run(|c| {
            Ok(count(
                c,
                "SELECT count(*) AS n FROM (SELECT partnership, year, period, budget_line, council, \
                 attribution, SUM(amount_pence) AS amount_pence FROM commitment_lines \
                 GROUP BY 1, 2, 3, 4, 5, 6) l FULL JOIN ledger_totals t USING (partnership, year, \
                 period, budget_line, council, attribution) \
                 WHERE t.amount_pence IS DISTINCT FROM l.amount_pence AND COALESCE(t.amount_pence, 0) <> 0",
            ))
        })
        .await
        .expect("totals");
    assert_eq!(off, 0, "ledger totals that do not sum the lines");
    drop(db);
    hub_platform::db::drop_postgres_database(&url).expect("drop");
}
