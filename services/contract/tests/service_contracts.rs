//! Service contracts on their own, on SQLite and PostgreSQL: Sefton, AIM's lead
//! commissioner, lets an adoption-support contract for the four partners (1 April 2018 –
//! 31 March 2020), which cannot go live until TUPE staff's LGPS admission agreement is signed
//! and the bond in place; expiry alerts at 9, 6 and 3 months (once each, even with two sweeps
//! at once), a variation, the one extension, then none left, and termination.
//!
//! The contracts here ended years ago, so the service's own clock (sweeping as of today)
//! raises nothing: only the sweeps the tests run, with their dates, do.

mod common;

use chrono::NaiveDate;
use common::{OTHER_PROVIDER, d, id_of, start};
use contract::handlers::sweep::sweep_once;
use hub_events::{
    ServiceContractExpiring, ServiceContractExtended, ServiceContractLet,
    ServiceContractTerminated, ServiceContractVaried,
};
use hub_platform::{
    Role,
    directory::{HALTON, LIVERPOOL, NOTTINGHAM, SEFTON, WIRRAL},
};
use hub_testkit::{TestApp, User, assert_problem, on_both};
use serde_json::{Value, json};

const PROVIDER: &str = "prov-adoption-support";

fn adoption_support() -> Value {
    json!({
        "partnership": "AIM", "provider_id": PROVIDER,
        "title": "Adoption support services for Adoption in Merseyside",
        "services": ["access_to_records", "birth_parent_counselling", "letterbox"],
        "value_pence": 24_000_000, "start_date": "2018-04-01", "end_date": "2020-03-31",
        "budget_line": "commissioned_adoption_support", "extensions_allowed": 1,
        "tupe_lgps": true
    })
}

/// The adoption-support contract without TUPE staff: it goes live at once.
fn plain() -> Value {
    let mut plain = adoption_support();
    plain["tupe_lgps"] = json!(false);
    plain
}

async fn swept(app: &TestApp, today: NaiveDate) -> usize {
    sweep_once(&app.store, today)
        .await
        .unwrap()
        .contracts_expiring
}

/// AIM's lead commissioner (Sefton's).
fn lead(app: &TestApp) -> User {
    app.user(SEFTON, Role::Commissioner)
}

/// `body` let by the lead commissioner; the contract.
async fn let_contract(app: &TestApp, body: &Value) -> Value {
    let (s, c) = app.contracts().let_service(&lead(app), body).await;
    assert_eq!(s, 201, "{c}");
    c
}

/// The adoption-support contract let, and the admission agreement recorded as signed on
/// 20 March 2018 with the bond in progress; its id.
async fn bond_in_progress(app: &TestApp) -> String {
    let id = id_of(&let_contract(app, &adoption_support()).await);
    let (s, c) = app
        .contracts()
        .set_pensions(&lead(app), &id, &admission_signed())
        .await;
    assert_eq!(s, 200, "{c}");
    id
}

fn admission_signed() -> Value {
    json!({"admission_agreement": "signed", "admission_agreement_signed_on": "2018-03-20",
           "bond": "in_progress", "note": "Merseyside Pension Fund"})
}

/// Then the bond in place and the contract live; its id.
async fn live_contract(app: &TestApp) -> String {
    let contracts = app.contracts();
    let sefton = lead(app);
    let id = bond_in_progress(app).await;
    let (s, _) = contracts
        .set_pensions(
            &sefton,
            &id,
            &json!({"bond": "in_place", "bond_amount_pence": 5_000_000}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, c) = contracts.go_live(&sefton, &id).await;
    assert_eq!(s, 200, "{c}");
    id
}

/// The kinds of the entries in a contract's history, oldest first.
fn kinds(contract: &Value) -> Vec<&str> {
    contract["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect()
}

async fn letting(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);

    // Letting: AIM's lead commissioner only.
    for (user, why) in [
        (app.user(SEFTON, Role::SocialWorker), "not a commissioner"),
        (
            app.user(LIVERPOOL, Role::Commissioner),
            "a partner, not the lead",
        ),
        (
            app.user(HALTON, Role::Commissioner),
            "another partnership's lead",
        ),
        (app.user(PROVIDER, Role::Provider), "a provider"),
    ] {
        let got = contracts.let_service(&user, &adoption_support()).await;
        assert_eq!(got.0, 403, "{why}: {}", got.1);
        assert_problem(&got, 403, "forbidden", None);
    }
    let mut bad = adoption_support();
    bad["end_date"] = json!("2018-03-31");
    bad["services"] = json!([]);
    let got = contracts.let_service(&sefton, &bad).await;
    assert_problem(&got, 422, "validation", Some(("/end_date", "after_start")));
    assert_problem(&got, 422, "validation", Some(("/services", "min_items")));
    let (s, c) = contracts.let_service(&sefton, &adoption_support()).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        (
            c["status"].as_str(),
            c["admission_agreement"].as_str(),
            c["bond"].as_str(),
            c["no_extensions_left"].as_bool(),
            c["lead_council"].as_str()
        ),
        (
            Some("draft"),
            Some("required"),
            Some("required"),
            Some(false),
            Some(SEFTON)
        )
    );
    assert_eq!(c["alert_months"], json!([9, 6, 3]));
}

on_both!(
    letting,
    the_lead_commissioner_lets_a_service_contract_on_sqlite,
    the_lead_commissioner_lets_a_service_contract_on_postgres
);

async fn reading(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let id = id_of(&let_contract(&app, &adoption_support()).await);

    // AIM's councils and the provider; another partnership's council gets 404.
    for (user, status) in [
        (app.user(LIVERPOOL, Role::Finance), 200),
        (app.user(WIRRAL, Role::SocialWorker), 200),
        (app.user(PROVIDER, Role::Provider), 200),
        (app.user(HALTON, Role::Commissioner), 404),
        (app.user(NOTTINGHAM, Role::Commissioner), 404),
        (app.user(OTHER_PROVIDER, Role::Provider), 404),
    ] {
        let (s, body) = contracts.service(&user, &id).await;
        assert_eq!(s, status, "{body}");
    }
    let (_, listed) = contracts
        .services(&app.user(WIRRAL, Role::Finance), "")
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("history").is_none());
    let (_, listed) = contracts
        .services(&app.user(HALTON, Role::Finance), "")
        .await;
    assert_eq!(listed["items"], json!([]));
}

on_both!(
    reading,
    aims_councils_and_the_provider_read_a_service_contract_on_sqlite,
    aims_councils_and_the_provider_read_a_service_contract_on_postgres
);

async fn going_live(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let liverpool = app.user(LIVERPOOL, Role::Commissioner);
    let id = id_of(&let_contract(&app, &adoption_support()).await);

    // Going live needs the admission agreement and the bond.
    let got = contracts.go_live(&sefton, &id).await;
    assert_problem(
        &got,
        409,
        "lgps-admission-required",
        Some(("admission_agreement", "signed")),
    );
    assert_problem(
        &got,
        409,
        "lgps-admission-required",
        Some(("bond", "in_place")),
    );
    assert_problem(
        &contracts.go_live(&liverpool, &id).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &contracts
            .set_pensions(&sefton, &id, &json!({"admission_agreement": "signed"}))
            .await,
        422,
        "validation",
        Some(("/admission_agreement_signed_on", "required")),
    );
    let (s, c) = contracts
        .set_pensions(&sefton, &id, &admission_signed())
        .await;
    assert_eq!(s, 200, "{c}");
    let got = contracts.go_live_with(&sefton, &id, &json!({})).await;
    assert_problem(
        &got,
        409,
        "lgps-admission-required",
        Some(("bond", "in_place")),
    );
    assert_eq!(got.1["errors"].as_array().unwrap().len(), 1, "{}", got.1);
    assert!(app.outbox_of::<ServiceContractLet>().await.is_empty());
}

on_both!(
    going_live,
    a_service_contract_needs_its_pensions_to_go_live_on_sqlite,
    a_service_contract_needs_its_pensions_to_go_live_on_postgres
);

/// Once the bond is in place too, the lead commissioner takes the contract live, once; the
/// let is told with its figures.
async fn live(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = bond_in_progress(&app).await;
    let got = contracts.go_live_with(&sefton, &id, &json!({})).await;
    assert_problem(&got, 409, "lgps-admission-required", None);
    let (s, _) = contracts
        .set_pensions(
            &sefton,
            &id,
            &json!({"bond": "in_place", "bond_amount_pence": 5_000_000}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, c) = contracts.go_live(&sefton, &id).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (
            c["status"].as_str(),
            c["admission_agreement"].as_str(),
            c["bond"].as_str(),
            c["bond_amount_pence"].as_i64()
        ),
        (
            Some("live"),
            Some("signed"),
            Some("in_place"),
            Some(5_000_000)
        )
    );
    assert_problem(
        &contracts.go_live(&sefton, &id).await,
        409,
        "contract-not-draft",
        None,
    );
    let let_events = app.outbox_of::<ServiceContractLet>().await;
    assert_eq!(let_events.len(), 1);
    let e = &let_events[0];
    assert_eq!(
        (
            e.lead_council.as_str(),
            e.value_pence,
            e.start_date,
            e.end_date,
            e.budget_line.as_str(),
            e.extensions_allowed
        ),
        (
            SEFTON,
            24_000_000,
            d(2018, 4, 1),
            d(2020, 3, 31),
            "commissioned_adoption_support",
            1
        )
    );
    assert_eq!(e.services.len(), 3);
    assert_eq!(app.outbox().await[0].partnership, "AIM");
    // The refusals wrote nothing: the history is the let, the two pensions and going live.
    let (_, c) = contracts.service(&sefton, &id).await;
    assert_eq!(kinds(&c), vec!["let", "pensions", "pensions", "live"]);
}

on_both!(
    live,
    a_service_contract_goes_live_once_its_pensions_are_in_place_on_sqlite,
    a_service_contract_goes_live_once_its_pensions_are_in_place_on_postgres
);

/// A live contract swept as of 30 June, 30 September (twice at once) and 31 December 2019:
/// the three expiry alerts raised.
async fn alerted(app: &TestApp) -> String {
    let id = live_contract(app).await;
    for day in [
        d(2019, 6, 29),
        d(2019, 6, 30),
        d(2019, 7, 1),
        d(2019, 9, 30),
        d(2019, 9, 30),
        d(2019, 12, 31),
        d(2020, 3, 1),
    ] {
        swept(app, day).await;
    }
    assert_eq!(app.outbox_of::<ServiceContractExpiring>().await.len(), 3);
    id
}

/// Then lifebooks added from 1 April 2019.
async fn varied(app: &TestApp) -> String {
    let id = alerted(app).await;
    let (s, c) = app
        .contracts()
        .vary_service(&lead(app), &id, &lifebooks_added())
        .await;
    assert_eq!(s, 200, "{c}");
    id
}

fn lifebooks_added() -> Value {
    json!({"effective_on": "2019-04-01", "reason": "the RAA's lifebook demand exceeds in-house capacity",
           "description": "lifebooks added within the existing budget",
           "services": ["access_to_records", "birth_parent_counselling", "letterbox", "lifebooks"]})
}

/// Then the one extension (£120,000 to 31 March 2021).
async fn extended(app: &TestApp) -> String {
    let id = varied(app).await;
    let (s, c) = app
        .contracts()
        .extend_service(
            &lead(app),
            &id,
            &json!({"added_value_pence": 12_000_000, "reason": "re-procurement delayed"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    id
}

/// Then swept as of 30 June 2020: the first alert for the new end date.
async fn alerted_again(app: &TestApp) -> String {
    let id = extended(app).await;
    assert_eq!(swept(app, d(2020, 6, 30)).await, 1);
    id
}

/// Then terminated on 31 December 2020 on notice given on 30 September.
async fn terminated(app: &TestApp) -> String {
    let id = alerted_again(app).await;
    let (s, c) = app
        .contracts()
        .terminate(&lead(app), &id, &termination())
        .await;
    assert_eq!(s, 200, "{c}");
    id
}

fn termination() -> Value {
    json!({"terminated_on": "2020-12-31", "reason": "services brought in-house by the RAA",
           "notice_given_on": "2020-09-30"})
}

/// Expiry alerts: 9 months before (30 June 2019), 6 (30 September), 3 (31 December); once
/// each, even with two sweeps at once.
async fn expiry_alerts(url: &str) {
    let app = start(url).await;
    live_contract(&app).await;
    // Expiry alerts: 9 months before (30 June 2019), 6 (30 September), 3 (31 December).
    assert_eq!(swept(&app, d(2019, 6, 29)).await, 0);
    assert_eq!(swept(&app, d(2019, 6, 30)).await, 1);
    assert_eq!(swept(&app, d(2019, 7, 1)).await, 0);
    let (a, b) = tokio::join!(
        sweep_once(&app.store, d(2019, 9, 30)),
        sweep_once(&app.store, d(2019, 9, 30))
    );
    assert_eq!(
        a.unwrap().contracts_expiring + b.unwrap().contracts_expiring,
        1
    );
    assert_eq!(swept(&app, d(2019, 12, 31)).await, 1);
    assert_eq!(swept(&app, d(2020, 3, 1)).await, 0);
    let alerts = app.outbox_of::<ServiceContractExpiring>().await;
    assert_eq!(
        alerts
            .iter()
            .map(|a| (a.months_before, a.end_date, a.extensions_left))
            .collect::<Vec<_>>(),
        vec![
            (9, d(2020, 3, 31), 1),
            (6, d(2020, 3, 31), 1),
            (3, d(2020, 3, 31), 1)
        ]
    );
}

on_both!(
    expiry_alerts,
    expiry_alerts_come_9_6_and_3_months_before_on_sqlite,
    expiry_alerts_come_9_6_and_3_months_before_on_postgres
);

async fn a_variation(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = alerted(&app).await;
    // A variation: lifebooks added from 1 April 2019.
    assert_problem(
        &contracts
            .vary_service(
                &sefton,
                &id,
                &json!({"effective_on": "2021-01-01", "reason": "demand", "description": "x"}),
            )
            .await,
        422,
        "validation",
        Some(("/effective_on", "within_term")),
    );
    let (s, c) = contracts
        .vary_service(&sefton, &id, &lifebooks_added())
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["services"].as_array().unwrap().len(), 4);
}

on_both!(
    a_variation,
    a_live_contract_is_varied_within_its_term_on_sqlite,
    a_live_contract_is_varied_within_its_term_on_postgres
);

/// The one extension: a positive added value, the end a year on.
async fn the_one_extension(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = varied(&app).await;
    // The one extension, then none left.
    assert_problem(
        &contracts
            .extend_service(&sefton, &id, &json!({"added_value_pence": -1}))
            .await,
        422,
        "validation",
        Some(("/added_value_pence", "min")),
    );
    let (s, c) = contracts
        .extend_service(
            &sefton,
            &id,
            &json!({"added_value_pence": 12_000_000, "reason": "re-procurement delayed"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (
            c["end_date"].as_str(),
            c["original_end_date"].as_str(),
            c["value_pence"].as_i64(),
            c["extensions_left"].as_i64(),
            c["no_extensions_left"].as_bool(),
            c["alerted_months"].as_i64()
        ),
        (
            Some("2021-03-31"),
            Some("2020-03-31"),
            Some(36_000_000),
            Some(0),
            Some(true),
            None
        )
    );
}

on_both!(
    the_one_extension,
    a_service_contract_is_extended_once_on_sqlite,
    a_service_contract_is_extended_once_on_postgres
);

/// After it none is left; alerts start again for the new end date.
async fn after_the_one_extension(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = extended(&app).await;
    assert_problem(
        &contracts
            .extend_service(&sefton, &id, &json!({"added_value_pence": 1}))
            .await,
        409,
        "no-extensions-left",
        None,
    );
    let extended = app.outbox_of::<ServiceContractExtended>().await;
    assert_eq!(extended.len(), 1);
    assert_eq!(
        (
            extended[0].previous_end_date,
            extended[0].new_end_date,
            extended[0].added_value_pence,
            extended[0].extensions_left
        ),
        (d(2020, 3, 31), d(2021, 3, 31), 12_000_000, 0)
    );
    // Alerts start again for the new end date.
    assert_eq!(swept(&app, d(2020, 6, 30)).await, 1);
    let alerts = app.outbox_of::<ServiceContractExpiring>().await;
    assert_eq!(
        (
            alerts[3].months_before,
            alerts[3].end_date,
            alerts[3].extensions_left
        ),
        (9, d(2021, 3, 31), 0)
    );
}

on_both!(
    after_the_one_extension,
    none_is_left_after_the_one_extension_on_sqlite,
    none_is_left_after_the_one_extension_on_postgres
);

/// Termination: the lead commissioner, with the reason and dates; then nothing more.
async fn terminating(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let liverpool = app.user(LIVERPOOL, Role::Commissioner);
    let id = alerted_again(&app).await;
    // Termination: the lead commissioner, with the reason and dates.
    let body = termination();
    assert_problem(
        &contracts.terminate(&liverpool, &id, &body).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &contracts
            .terminate(
                &sefton,
                &id,
                &json!({"terminated_on": "2020-12-31", "reason": "x", "notice_given_on": "2021-01-01"}),
            )
            .await,
        422,
        "validation",
        Some(("/notice_given_on", "before_end")),
    );
    let (s, c) = contracts.terminate(&sefton, &id, &body).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (
            c["status"].as_str(),
            c["terminated_on"].as_str(),
            c["state"].as_str()
        ),
        (Some("terminated"), Some("2020-12-31"), Some("terminated"))
    );
    assert_problem(
        &contracts.terminate(&sefton, &id, &body).await,
        409,
        "contract-not-live",
        None,
    );
    assert_problem(
        &contracts
            .extend_service(&sefton, &id, &json!({"added_value_pence": 1}))
            .await,
        409,
        "contract-not-live",
        None,
    );
    let terminated = app.outbox_of::<ServiceContractTerminated>().await;
    assert_eq!(
        (terminated.len(), terminated[0].terminated_on),
        (1, d(2020, 12, 31))
    );
    assert_eq!(
        swept(&app, d(2020, 12, 31)).await,
        0,
        "terminated: no alerts"
    );
}

on_both!(
    terminating,
    the_lead_commissioner_terminates_a_service_contract_on_sqlite,
    the_lead_commissioner_terminates_a_service_contract_on_postgres
);

/// The history a change or termination notice is written from: the let, the pensions,
/// going live, the variation, the extension and the termination.
async fn the_history(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let id = terminated(&app).await;
    let (_, c) = contracts
        .service(&app.user(WIRRAL, Role::Finance), &id)
        .await;
    assert_eq!(
        kinds(&c),
        vec![
            "let",
            "pensions",
            "pensions",
            "live",
            "variation",
            "extension",
            "termination"
        ]
    );
    let variation = &c["history"][4];
    assert_eq!(variation["effective_on"], "2019-04-01");
    assert_eq!(
        variation["reason"],
        "the RAA's lifebook demand exceeds in-house capacity"
    );
    assert_eq!(
        variation["detail"]["services_before"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(variation["detail"]["services_after"][3], "lifebooks");
    let termination = &c["history"][6];
    assert_eq!(
        (
            termination["effective_on"].as_str(),
            termination["detail"]["notice_given_on"].as_str(),
            termination["by"].as_str()
        ),
        (
            Some("2020-12-31"),
            Some("2020-09-30"),
            Some(format!("user-of-{SEFTON}").as_str())
        )
    );
}

on_both!(
    the_history,
    the_history_tells_the_contracts_life_on_sqlite,
    the_history_tells_the_contracts_life_on_postgres
);

/// A contract without TUPE staff goes live at once; one let without extension options
/// (like AIM's old contracts, whose extensions were exhausted) cannot be extended.
async fn without_tupe_or_options(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let mut plain = plain();
    plain["extensions_allowed"] = json!(0);
    let (_, c) = contracts.let_service(&sefton, &plain).await;
    assert_eq!(
        (
            c["admission_agreement"].as_str(),
            c["no_extensions_left"].as_bool()
        ),
        (Some("not_required"), Some(true))
    );
    let other = id_of(&c);
    assert_problem(
        &contracts
            .set_pensions(&sefton, &other, &json!({"bond": "in_progress"}))
            .await,
        409,
        "pensions-not-required",
        None,
    );
    let (s, c) = contracts.go_live(&sefton, &other).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("live")), "{c}");
    assert_eq!(c["state"], "expired", "live but past its end date");
    assert_problem(
        &contracts
            .extend_service(&sefton, &other, &json!({"added_value_pence": 1}))
            .await,
        409,
        "no-extensions-left",
        None,
    );
}

on_both!(
    without_tupe_or_options,
    a_contract_without_tupe_or_options_goes_live_at_once_and_cannot_be_extended_on_sqlite,
    a_contract_without_tupe_or_options_goes_live_at_once_and_cannot_be_extended_on_postgres
);

/// What a refused request must leave as it was: the contract's value, its history and the
/// outbox.
async fn written(app: &TestApp, app_view: &Value) -> (Value, usize, usize) {
    (
        app_view["value_pence"].clone(),
        app_view["history"].as_array().unwrap().len(),
        app.outbox().await.len(),
    )
}

/// A variation from `from` changing the value by `change`.
fn vary(change: Value, from: &str) -> Value {
    json!({"effective_on": from, "reason": "more birth parents than planned",
           "description": "counselling sessions added", "value_change_pence": change})
}

/// A draft: £240,000 over 1 April 2018 – 31 March 2020 (731 days: 32,831p a day, the first
/// 539 days a penny more). From 1 March 2020 (day 701) 31 × 32,831p = 1,017,761p are left to
/// phase, so a reduction of a penny more is refused, and nothing is written. A rise on a
/// draft changes the value the let will carry, with no event of its own.
async fn draft_value_changes(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let draft_id = id_of(&let_contract(&app, &plain()).await);
    let got = contracts
        .vary_service(&sefton, &draft_id, &vary(json!(-1_017_762), "2020-03-01"))
        .await;
    assert_problem(
        &got,
        409,
        "reduction-exceeds-remaining",
        Some(("/value_change_pence", "within_remaining")),
    );
    let (s, c) = contracts
        .vary_service(&sefton, &draft_id, &vary(json!(1_000_000), "2019-04-01"))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["value_pence"], 25_000_000);
    let entry = &c["history"][1];
    assert_eq!(
        (
            entry["kind"].as_str(),
            entry["value_change_pence"].as_i64(),
            entry["phased_to"].is_null(),
            entry["detail"]["value_before_pence"].as_i64(),
            entry["detail"]["value_after_pence"].as_i64()
        ),
        (
            Some("variation"),
            Some(1_000_000),
            true,
            Some(24_000_000),
            Some(25_000_000)
        )
    );
    assert!(app.outbox_of::<ServiceContractVaried>().await.is_empty());
    let (s, c) = contracts.go_live(&sefton, &draft_id).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        app.outbox_of::<ServiceContractLet>().await[0].value_pence,
        25_000_000
    );
    let live_entry = &c["history"][2];
    assert_eq!(
        (
            live_entry["kind"].as_str(),
            live_entry["value_change_pence"].as_i64(),
            live_entry["phased_to"].as_str()
        ),
        (Some("live"), Some(25_000_000), Some("2020-03-31"))
    );
}

on_both!(
    draft_value_changes,
    a_drafts_value_changes_are_carried_by_its_let_on_sqlite,
    a_drafts_value_changes_are_carried_by_its_let_on_postgres
);

/// +£12,000 from 15 October 2018, with lifebooks added.
fn rise() -> Value {
    let mut rise = vary(json!(1_200_000), "2018-10-15");
    rise["services"] = json!([
        "access_to_records",
        "birth_parent_counselling",
        "letterbox",
        "lifebooks"
    ]);
    rise
}

/// The extension: £120,000 over 2020/21.
fn extension() -> Value {
    json!({"added_value_pence": 12_000_000})
}

fn brought_in_house() -> Value {
    json!({"terminated_on": "2020-12-31", "reason": "brought in-house"})
}

/// The contract without TUPE staff let, live, and risen by [`rise`]; its id. The refusals
/// made of it after that wrote nothing.
async fn risen(app: &TestApp) -> String {
    let (contracts, sefton) = (app.contracts(), lead(app));
    let id = id_of(&let_contract(app, &plain()).await);
    contracts.go_live(&sefton, &id).await;
    let (s, c) = contracts.vary_service(&sefton, &id, &rise()).await;
    assert_eq!(s, 200, "{c}");
    id
}

/// Then reduced by exactly what was left from 1 January 2020 (3,192,098p).
async fn reduced(app: &TestApp) -> String {
    let id = risen(app).await;
    let (s, c) = app
        .contracts()
        .vary_service(&lead(app), &id, &vary(json!(-3_192_098), "2020-01-01"))
        .await;
    assert_eq!(s, 200, "{c}");
    id
}

/// Then extended; its £120,000 taken back from 1 April 2020, and letterbox ending from
/// 1 June.
async fn extended_and_reduced(app: &TestApp) -> String {
    let id = reduced(app).await;
    let (contracts, sefton) = (app.contracts(), lead(app));
    let (s, _) = contracts.extend_service(&sefton, &id, &extension()).await;
    assert_eq!(s, 200);
    for change in [
        vary(json!(-12_000_000), "2020-04-01"),
        json!({"effective_on": "2020-06-01", "reason": "r", "description": "letterbox ends",
               "services": ["access_to_records"]}),
    ] {
        let (s, c) = contracts.vary_service(&sefton, &id, &change).await;
        assert_eq!(s, 200, "{c}");
    }
    id
}

/// A live contract's rise is phased to the end date (534 days) and told to finance, without
/// the free text.
async fn a_rise(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = id_of(&let_contract(&app, &plain()).await);
    contracts.go_live(&sefton, &id).await;
    let (s, c) = contracts.vary_service(&sefton, &id, &rise()).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (c["value_pence"].as_i64(), c["services"][3].as_str()),
        (Some(25_200_000), Some("lifebooks"))
    );
    let entry = c["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            entry["kind"].as_str(),
            entry["effective_on"].as_str(),
            entry["value_change_pence"].as_i64(),
            entry["phased_to"].as_str(),
            entry["reason"].as_str(),
            entry["detail"]["value_after_pence"].as_i64()
        ),
        (
            Some("variation"),
            Some("2018-10-15"),
            Some(1_200_000),
            Some("2020-03-31"),
            Some("more birth parents than planned"),
            Some(25_200_000)
        )
    );
    let varied = app.outbox_of::<ServiceContractVaried>().await;
    assert_eq!(varied.len(), 1);
    assert_eq!(
        varied[0],
        ServiceContractVaried {
            contract_id: id.parse().unwrap(),
            lead_council: SEFTON.into(),
            provider_id: PROVIDER.into(),
            variation_id: entry["id"].as_str().unwrap().parse().unwrap(),
            effective_on: d(2018, 10, 15),
            phased_to: d(2020, 3, 31),
            value_change_pence: 1_200_000,
            services: Some(vec![
                "access_to_records".into(),
                "birth_parent_counselling".into(),
                "letterbox".into(),
                "lifebooks".into()
            ]),
        }
    );
    let envelope = app.outbox().await.pop().unwrap();
    assert_eq!(
        (envelope.event_type.as_str(), envelope.partnership.as_str()),
        ("contract.service_contract_varied", "AIM")
    );
    for free_text in ["reason", "description"] {
        assert!(envelope.payload.get(free_text).is_none(), "{envelope:?}");
    }
}

on_both!(
    a_rise,
    a_live_contracts_rise_is_phased_and_told_to_finance_on_sqlite,
    a_live_contracts_rise_is_phased_and_told_to_finance_on_postgres
);

async fn refused_changes(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = risen(&app).await;
    // Refused, nothing written: a zero change; a change from outside the term; a reduction
    // of more than is left from 1 January 2020 (91 × 32,831p of the value and 91 × 2,247p of
    // the rise: 3,192,098p); a value past i64; a partner that is not the lead commissioner.
    let (_, before) = contracts.service(&sefton, &id).await;
    let before = written(&app, &before).await;
    for (body, status, slug, field, rule) in [
        (
            vary(json!(0), "2019-01-01"),
            422,
            "validation",
            "/value_change_pence",
            "non_zero",
        ),
        (
            vary(json!(100), "2020-04-01"),
            422,
            "validation",
            "/effective_on",
            "within_term",
        ),
        (
            vary(json!(-3_192_099), "2020-01-01"),
            409,
            "reduction-exceeds-remaining",
            "/value_change_pence",
            "within_remaining",
        ),
        (
            vary(json!(i64::MAX), "2020-01-01"),
            422,
            "validation",
            "/value_change_pence",
            "range",
        ),
    ] {
        let got = contracts.vary_service(&sefton, &id, &body).await;
        assert_problem(&got, status, slug, Some((field, rule)));
        let (_, after) = contracts.service(&sefton, &id).await;
        assert_eq!(written(&app, &after).await, before, "{}", got.1);
    }
    let liverpool = app.user(LIVERPOOL, Role::Commissioner);
    assert_problem(
        &contracts
            .vary_service(&liverpool, &id, &vary(json!(-1), "2020-01-01"))
            .await,
        403,
        "forbidden",
        None,
    );
    let (_, after) = contracts.service(&sefton, &id).await;
    assert_eq!(written(&app, &after).await, before);
}

on_both!(
    refused_changes,
    a_refused_variation_writes_nothing_on_sqlite,
    a_refused_variation_writes_nothing_on_postgres
);

async fn exactly_what_is_left(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = risen(&app).await;
    let post = |body: Value| {
        let (contracts, sefton, id) = (&contracts, &sefton, &id);
        async move { contracts.vary_service(sefton, id, &body).await }
    };
    // Exactly what is left may be taken; then nothing more from that day.
    let (s, c) = post(vary(json!(-3_192_098), "2020-01-01")).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["value_pence"], 25_200_000 - 3_192_098);
    assert_problem(
        &post(vary(json!(-1), "2020-01-01")).await,
        409,
        "reduction-exceeds-remaining",
        Some(("/value_change_pence", "within_remaining")),
    );
    let varied = app.outbox_of::<ServiceContractVaried>().await;
    assert_eq!(
        (
            varied.len(),
            varied[1].value_change_pence,
            varied[1].services.as_ref()
        ),
        (2, -3_192_098, None)
    );
}

on_both!(
    exactly_what_is_left,
    exactly_what_is_left_may_be_taken_on_sqlite,
    exactly_what_is_left_may_be_taken_on_postgres
);

async fn after_the_extension(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = reduced(&app).await;
    assert_problem(
        &contracts
            .vary_service(&sefton, &id, &vary(json!(-1), "2020-01-01"))
            .await,
        409,
        "reduction-exceeds-remaining",
        None,
    );
    let post = |body: Value| {
        let (contracts, sefton, id) = (&contracts, &sefton, &id);
        async move { contracts.vary_service(sefton, id, &body).await }
    };
    // After the extension (£120,000 over 2020/21), a change is phased to the new end, and
    // the extension's value counts in what is left; a change of services alone tells
    // finance nothing.
    let (s, _) = contracts.extend_service(&sefton, &id, &extension()).await;
    assert_eq!(s, 200);
    // From 1 March 2020 the extension leaves £120,000 to phase, but March 2020's days already
    // cost nothing (the reduction above took them): a penny a day less over March and the
    // extension would make them cost less than nothing.
    let got = post(vary(json!(-396), "2020-03-01")).await;
    assert_problem(
        &got,
        409,
        "reduction-exceeds-remaining",
        Some(("/value_change_pence", "within_remaining")),
    );
    assert!(
        got.1["detail"].as_str().unwrap().contains("2020-03-01"),
        "{}",
        got.1
    );
    assert_problem(
        &post(vary(json!(-12_000_001), "2020-04-01")).await,
        409,
        "reduction-exceeds-remaining",
        None,
    );
    let (s, c) = post(vary(json!(-12_000_000), "2020-04-01")).await;
    assert_eq!(s, 200, "{c}");
    let (s, _) = post(
        json!({"effective_on": "2020-06-01", "reason": "r", "description": "letterbox ends",
                    "services": ["access_to_records"]}),
    )
    .await;
    assert_eq!(s, 200);
    let varied = app.outbox_of::<ServiceContractVaried>().await;
    assert_eq!(
        (
            varied.len(),
            varied[2].effective_on,
            varied[2].phased_to,
            varied[2].value_change_pence
        ),
        (3, d(2020, 4, 1), d(2021, 3, 31), -12_000_000)
    );
}

on_both!(
    after_the_extension,
    after_the_extension_a_change_is_phased_to_the_new_end_on_sqlite,
    after_the_extension_a_change_is_phased_to_the_new_end_on_postgres
);

async fn once_terminated(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let id = extended_and_reduced(&app).await;
    let post = |body: Value| {
        let (contracts, sefton, id) = (&contracts, &sefton, &id);
        async move { contracts.vary_service(sefton, id, &body).await }
    };
    // Terminated: no more variations.
    let (s, _) = contracts.terminate(&sefton, &id, &brought_in_house()).await;
    assert_eq!(s, 200);
    assert_problem(
        &post(vary(json!(100), "2020-06-01")).await,
        409,
        "contract-not-live",
        None,
    );
    assert_eq!(app.outbox_of::<ServiceContractVaried>().await.len(), 3);
}

on_both!(
    once_terminated,
    a_terminated_contract_takes_no_variation_on_sqlite,
    a_terminated_contract_takes_no_variation_on_postgres
);

/// Money cannot overflow: a contract's value, an extension's added value and a variation's
/// change are each at most £1,000,000,000.00, and so is the value they add up to (summed
/// without wrapping); out of range is 422 naming the field, with nothing written and nothing
/// told to finance.
async fn money_bounds(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = lead(&app);
    let max = contract::domain::service_contracts::MAX_CONTRACT_VALUE.0;
    let mut letting = plain();
    letting["value_pence"] = json!(i64::MAX);
    assert_problem(
        &contracts.let_service(&sefton, &letting).await,
        422,
        "validation",
        Some(("/value_pence", "range")),
    );
    letting["value_pence"] = json!(max - 1_000);
    let (s, c) = contracts.let_service(&sefton, &letting).await;
    assert_eq!(s, 201, "{c}");
    let id = id_of(&c);
    let (s, c) = contracts.go_live(&sefton, &id).await;
    assert_eq!(s, 200, "{c}");
    let vary = |change: i64| {
        json!({"effective_on": "2019-04-01", "reason": "more birth parents than planned",
               "description": "counselling sessions added", "value_change_pence": change})
    };
    let extend = |added: i64| json!({ "added_value_pence": added });
    for (got, field) in [
        (
            contracts
                .extend_service(&sefton, &id, &extend(i64::MAX))
                .await,
            "/added_value_pence",
        ),
        (
            contracts.extend_service(&sefton, &id, &extend(1_001)).await,
            "/added_value_pence",
        ),
        (
            contracts.vary_service(&sefton, &id, &vary(i64::MAX)).await,
            "/value_change_pence",
        ),
        (
            contracts.vary_service(&sefton, &id, &vary(1_001)).await,
            "/value_change_pence",
        ),
    ] {
        assert_problem(&got, 422, "validation", Some((field, "range")));
    }
    let (_, c) = contracts.service(&sefton, &id).await;
    assert_eq!(
        (c["value_pence"].as_i64(), c["extensions_used"].as_i64()),
        (Some(max - 1_000), Some(0)),
        "{c}"
    );
    assert!(app.outbox_of::<ServiceContractExtended>().await.is_empty());
    assert!(app.outbox_of::<ServiceContractVaried>().await.is_empty());
    // Up to the bound exactly is fine.
    let (s, c) = contracts.extend_service(&sefton, &id, &extend(1_000)).await;
    assert_eq!((s, c["value_pence"].as_i64()), (200, Some(max)), "{c}");
}

on_both!(
    money_bounds,
    service_contract_money_bounds_on_sqlite,
    service_contract_money_bounds_on_postgres
);
