//! The finance service on its own: placements start on the in-process bus, and the ledger is
//! read through the HTTP API. Runs on SQLite, and on PostgreSQL (the local server, or the
//! `HUB_TEST_POSTGRES` URL template with `{service}`); a database per run is created and dropped.

mod common;

use common::{d, placement, publish, start};
use hub_events::{Envelope, PlacementStarted};
use hub_platform::Role;
use hub_platform::directory::{HALTON, LIVERPOOL, NOTTINGHAM, SEFTON};
use hub_testkit::{TestApp, on_both};
use serde_json::Value;

/// A placement of `council`'s child with Family Care at `weekly` pence a week from `start`.
fn started(council: &str, weekly: i64, start: chrono::NaiveDate) -> PlacementStarted {
    placement(council, "prov-family-care", weekly, start)
}

/// A Sefton placement from 15 December 2026 at £3,170.65 a week in LCR-PPA, delivered twice
/// and re-announced; a Nottingham placement in D2N2; a Halton one from April 2027; and one of
/// Nottingham's named in LCR-PPA (refused, dead-lettered, nothing filed). Answers Sefton's.
async fn placements(app: &TestApp) -> PlacementStarted {
    let dec15 = d(2026, 12, 15);
    let placement = started(SEFTON, 317_065, dec15);
    let env = Envelope::new("contract", "LCR-PPA", &placement);
    app.publish_envelope(&env).await;
    app.publish_envelope(&env).await; // redelivered
    publish(app, "LCR-PPA", &placement).await; // re-announced
    // Another partnership's placement, and one for the next financial year.
    publish(app, "D2N2", &started(NOTTINGHAM, 500_000, dec15)).await;
    publish(app, "LCR-PPA", &started(HALTON, 100_001, d(2027, 4, 1))).await;
    // A council outside the partnership named: refused (dead-lettered), nothing filed.
    publish(app, "LCR-PPA", &started(NOTTINGHAM, 1, dec15)).await;
    placement
}

/// The numbers under `keys` of each of a ledger's lines.
fn columns(ledger: &Value, keys: &[&str]) -> Vec<Vec<i64>> {
    common::items(ledger, "lines")
        .iter()
        .map(|l| common::pick(l, keys))
        .collect()
}

async fn placements_become_commitment_lines(url: &str) {
    let app = start(url).await;
    let placement = placements(&app).await;
    let halton = app.user_as("fin-1", HALTON, Role::Finance);
    let (_, ledger) = app
        .finance()
        .ledger(&halton, "partnership=LCR-PPA&year=2026")
        .await;
    assert_eq!(ledger["partnership"], "LCR-PPA");
    assert_eq!(
        (ledger["year"].as_i64(), ledger["year_label"].as_str()),
        (Some(2026), Some("2026/27"))
    );
    let got = columns(&ledger, &["period", "days", "amount_pence"]);
    assert_eq!(
        got,
        vec![
            vec![9, 17, 770_015],
            vec![10, 31, 1_404_145],
            vec![11, 28, 1_268_260],
            vec![12, 31, 1_404_145]
        ]
    );
    for l in common::items(&ledger, "lines") {
        assert_eq!(l["source_kind"], "placement");
        assert_eq!(l["source_id"], placement.placement_id.to_string());
        assert_eq!(
            (l["council"].as_str(), l["partnership"].as_str()),
            (Some(SEFTON), Some("LCR-PPA"))
        );
        assert_eq!(
            (l["year"].as_i64(), l["weekly_rate_pence"].as_i64()),
            (Some(2026), Some(317_065))
        );
        assert_eq!(l["provider_id"], "prov-family-care");
    }
    let by_period: Vec<(i64, i64)> = common::items(&ledger, "by_period")
        .iter()
        .map(|p| (common::money(p, "period"), common::money(p, "amount_pence")))
        .collect();
    assert_eq!(
        by_period,
        vec![
            (9, 770_015),
            (10, 1_404_145),
            (11, 1_268_260),
            (12, 1_404_145)
        ]
    );
    assert_eq!(ledger["committed_pence"], 4_846_565);
}

on_both!(
    placements_become_commitment_lines,
    placements_become_commitment_lines_on_sqlite,
    placements_become_commitment_lines_on_postgres
);

/// Halton (the LCR PPA's lead commissioner; it has no hosting authority) sees every line:
/// Halton's child's from April 2027 and Sefton's, open since December 2026, which runs on
/// into 2027/28 once the year is asked for (issue 10 rule 11). Sefton, a partner, sees the
/// partnership's totals and its own child's lines, not Halton's child's.
async fn the_lead_sees_every_line_a_partner_its_own(url: &str) {
    let app = start(url).await;
    placements(&app).await;
    let ledger = app.finance();
    let halton = app.user_as("fin-1", HALTON, Role::Finance);
    let sefton = app.user_as("fin-1", SEFTON, Role::Finance);
    let (_, next) = ledger
        .ledger(&halton, "partnership=LCR-PPA&year=2027")
        .await;
    assert_eq!(next["lines"].as_array().unwrap().len(), 24);
    assert_eq!(
        (next["detail"].as_str(), next["withheld_lines"].as_i64()),
        (Some("all"), Some(0))
    );
    assert_eq!(next["year_label"], "2027/28");
    let (_, partner_view) = ledger
        .ledger(&sefton, "partnership=LCR-PPA&year=2027")
        .await;
    assert_eq!(
        (
            partner_view["detail"].as_str(),
            partner_view["lines"].as_array().unwrap().len(),
            partner_view["withheld_lines"].as_i64()
        ),
        (Some("own"), 12, Some(12))
    );
    assert_eq!(partner_view["committed_pence"], next["committed_pence"]);
    assert_eq!(partner_view["by_period"], next["by_period"]);
}

on_both!(
    the_lead_sees_every_line_a_partner_its_own,
    the_lead_sees_every_line_a_partner_its_own_on_sqlite,
    the_lead_sees_every_line_a_partner_its_own_on_postgres
);

async fn another_partnership_has_its_own_ledger(url: &str) {
    let app = start(url).await;
    placements(&app).await;
    let nottingham = app.user_as("fin-1", NOTTINGHAM, Role::Finance);
    let (_, d2n2) = app
        .finance()
        .ledger(&nottingham, "partnership=D2N2&year=2026")
        .await;
    assert_eq!(d2n2["lines"].as_array().unwrap().len(), 4);
    assert!(
        d2n2["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["council"] == NOTTINGHAM)
    );
}

on_both!(
    another_partnership_has_its_own_ledger,
    another_partnership_has_its_own_ledger_on_sqlite,
    another_partnership_has_its_own_ledger_on_postgres
);

/// Access and input: finance staff of a member council only; the partnership and the year.
async fn the_ledger_checks_access_and_input(url: &str) {
    let app = start(url).await;
    placements(&app).await;
    let ledger = app.finance();
    let nottingham = app.user_as("fin-1", NOTTINGHAM, Role::Finance);
    let liverpool = app.user_as("fin-1", LIVERPOOL, Role::Finance);
    let commissioner = app.user_as("fin-1", SEFTON, Role::Commissioner);
    let (status, _) = ledger
        .ledger(&commissioner, "partnership=LCR-PPA&year=2026")
        .await;
    assert_eq!(status, 403);
    for q in [
        "partnership=LCR-PPA&year=2026",
        "partnership=NOPE&year=2026",
    ] {
        let (status, p) = ledger.ledger(&nottingham, q).await;
        assert_eq!(status, 404);
        assert_eq!(p["detail"], "no such partnership");
    }
    let (status, p) = ledger.ledger(&liverpool, "partnership=AIM").await;
    assert_eq!(status, 422);
    assert_eq!(
        (
            p["errors"][0]["field"].as_str(),
            p["errors"][0]["rule"].as_str()
        ),
        (Some("year"), Some("required"))
    );
    let (status, p) = ledger.ledger(&liverpool, "year=26/27").await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = common::items(&p, "errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["partnership", "year"]);
    let (_, empty) = ledger.ledger(&liverpool, "partnership=AIM&year=2026").await;
    assert_eq!(
        (
            empty["lines"].as_array().unwrap().len(),
            empty["committed_pence"].as_i64()
        ),
        (0, Some(0))
    );
}

on_both!(
    the_ledger_checks_access_and_input,
    the_ledger_checks_access_and_input_on_sqlite,
    the_ledger_checks_access_and_input_on_postgres
);
