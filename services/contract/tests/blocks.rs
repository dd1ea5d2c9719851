//! Block contracts on their own, on SQLite and PostgreSQL: letting (the seed's Care Assist and
//! Family Care Group contracts), who sees them, beds filled and emptied through the functions
//! the placement code calls, voids offered to partner councils by the sweep (once, even with
//! two sweeps at once), savings to the penny, and extensions.
//!
//! The service's clock is slowed to an hour. Its first sweep (at start-up, as of today) may
//! run at any point of a test, so the contracts here run in the 2040s: nothing is void long
//! enough by today to be offered, and only the sweeps the tests run, with the dates they
//! choose, offer beds.

mod common;

use chrono::NaiveDate;
use common::{PROVIDER as CARE_ASSIST, d, id_of, start_hourly as start};
use contract::{
    handlers::sweep::sweep_once,
    ids::{BlockContractId, PlacementId},
    store::blocks,
};
use hub_events::{BedFilled, BedOffered, BedVoid, BlockContractExtended, BlockContractLet};
use hub_platform::{
    Role,
    directory::{KNOWSLEY, NOTTINGHAM, SEFTON},
};
use hub_testkit::{TestApp, assert_problem, on_both};
use serde_json::{Value, json};

const FAMILY_CARE: &str = "prov-family-care-group";

fn care_assist() -> Value {
    json!({
        "partnership": "LCR-PPA", "provider_id": CARE_ASSIST, "description": "male adolescents",
        "beds": 4, "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
        "start_date": "2040-04-01", "term_years": 3, "extension_options": 2,
        "postcode_district": "L20"
    })
}

/// Family Care Group, for AIM, without extension options.
fn family_care() -> Value {
    json!({
        "partnership": "AIM", "provider_id": FAMILY_CARE, "beds": 4,
        "description": "children and young people with physical and learning disabilities",
        "block_weekly_rate_pence": 280_900, "spot_weekly_rate_pence": 317_065,
        "start_date": "2040-04-01", "term_years": 3
    })
}

/// Sefton's commissioner lets `body`; the contract.
async fn let_block(app: &TestApp, body: Value) -> Value {
    let sefton = app.user(SEFTON, Role::Commissioner);
    let (s, block) = app.contracts().let_block(&sefton, &body).await;
    assert_eq!(s, 201, "{block}");
    block
}

/// Care Assist's and Family Care Group's contracts let by Sefton; their ids.
async fn both_let(app: &TestApp) -> (String, String) {
    let care = let_block(app, care_assist()).await;
    let family = let_block(app, family_care()).await;
    assert_eq!(family["planned_annual_saving_pence"], 7_522_320);
    (id_of(&care), id_of(&family))
}

/// A placement in a bed, as the placement code makes it: admit, then fill, in one write.
async fn place(
    app: &TestApp,
    council: &'static str,
    contract_id: &str,
    bed: u16,
    on: NaiveDate,
) -> Result<String, hub_platform::Problem> {
    let id: BlockContractId = contract_id.parse().unwrap();
    app.store
        .write(move |conn, events| {
            let admission = blocks::admit_to_bed(conn, council, id, bed, on)?;
            assert_eq!(admission.weekly_rate_pence, 198_800);
            let placement = PlacementId::new();
            blocks::bed_filled(conn, id, bed, placement, council, on, events)?;
            Ok(placement.to_string())
        })
        .await
        .map_err(hub_platform::Problem::from)
}

async fn end(app: &TestApp, contract_id: &str, bed: u16, placement: &str, last: NaiveDate) {
    let id: BlockContractId = contract_id.parse().unwrap();
    let p: PlacementId = placement.parse().unwrap();
    app.store
        .write(move |conn, events| blocks::bed_emptied(conn, id, bed, p, last, events))
        .await
        .expect("the placement ends");
}

/// A placement the bed refused, as the API would answer it.
fn refused(r: Result<String, hub_platform::Problem>) -> (u16, Value) {
    let p = r.unwrap_err();
    (p.status, serde_json::to_value(&p).unwrap())
}

async fn beds_offered(app: &TestApp, today: NaiveDate) -> usize {
    sweep_once(&app.store, today).await.unwrap().beds_offered
}

async fn letting(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = app.user(SEFTON, Role::Commissioner);

    // Letting: a commissioner of a member council only.
    for user in [
        app.user(SEFTON, Role::SocialWorker),
        app.user(NOTTINGHAM, Role::Commissioner),
        app.user(CARE_ASSIST, Role::Provider),
    ] {
        let got = contracts.let_block(&user, &care_assist()).await;
        assert_problem(&got, 403, "forbidden", None);
    }
    let mut bad = care_assist();
    bad["beds"] = json!(0);
    bad["held_for"] = json!([]);
    assert_problem(
        &contracts.let_block(&sefton, &bad).await,
        422,
        "validation",
        Some(("/beds", "range")),
    );
    let (s, care) = contracts.let_block(&sefton, &care_assist()).await;
    assert_eq!(s, 201, "{care}");
    assert_eq!(care["planned_annual_saving_pence"], 3_348_800);
    assert_eq!(care["lead_council"], SEFTON);
    assert_eq!(care["end_date"], "2043-03-31");
    assert_eq!(care["extensions_left"], 2);
    assert_eq!(care["void_offer_after_days"], 7);
    let beds = care["bed_states"].as_array().unwrap();
    assert_eq!(beds.len(), 4);
    assert!(beds.iter().all(|b| b["status"] == "void"
        && b["void_from"] == "2040-04-01"
        && b["held_for"] == SEFTON));
    let let_events = app.outbox_of::<BlockContractLet>().await;
    assert_eq!(let_events.len(), 1);
    assert_eq!(let_events[0].planned_annual_saving_pence, 3_348_800);
    assert_eq!(let_events[0].block_contract_id.to_string(), id_of(&care));
    let voids = app.outbox_of::<BedVoid>().await;
    assert_eq!(
        voids
            .iter()
            .map(|v| (v.bed, v.void_from))
            .collect::<Vec<_>>(),
        (1..=4).map(|b| (b, d(2040, 4, 1))).collect::<Vec<_>>()
    );
    assert_eq!(app.outbox().await[0].partnership, "LCR-PPA");
}

on_both!(
    letting,
    a_member_councils_commissioner_lets_a_block_contract_on_sqlite,
    a_member_councils_commissioner_lets_a_block_contract_on_postgres
);

async fn who_sees_them(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let (id, _) = both_let(&app).await;

    // The partnerships' councils and the provider.
    for (user, status) in [
        (app.user(KNOWSLEY, Role::SocialWorker), 200),
        (app.user(CARE_ASSIST, Role::Provider), 200),
        (app.user(NOTTINGHAM, Role::Commissioner), 404),
        (app.user(FAMILY_CARE, Role::Provider), 404),
    ] {
        let (s, body) = contracts.block(&user, &id).await;
        assert_eq!(s, status, "{body}");
    }
    let knowsley = app.user(KNOWSLEY, Role::Commissioner);
    let (_, listed) = contracts.blocks(&knowsley, "").await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        2,
        "LCR and AIM: {listed}"
    );
    let (_, listed) = contracts
        .blocks(&app.user(FAMILY_CARE, Role::Provider), "")
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let (_, listed) = contracts
        .blocks(&app.user(NOTTINGHAM, Role::Finance), "")
        .await;
    assert_eq!(listed["items"], json!([]));
}

on_both!(
    who_sees_them,
    partner_councils_and_the_provider_see_a_block_contract_on_sqlite,
    partner_councils_and_the_provider_see_a_block_contract_on_postgres
);

async fn beds_refused(url: &str) {
    let app = start(url).await;
    let (id, _) = both_let(&app).await;
    // Two Sefton children in beds 1 and 2.
    place(&app, SEFTON, &id, 1, d(2040, 4, 1)).await.unwrap();
    place(&app, SEFTON, &id, 2, d(2040, 4, 2)).await.unwrap();

    // Refusals: a bed held for Sefton and not offered; a bed in use; no such bed; outside
    // the term; a council outside the partnership.
    assert_problem(
        &refused(place(&app, KNOWSLEY, &id, 3, d(2040, 4, 5)).await),
        409,
        "bed-not-offered",
        None,
    );
    assert_problem(
        &refused(place(&app, SEFTON, &id, 1, d(2040, 5, 1)).await),
        409,
        "bed-occupied",
        None,
    );
    assert_problem(
        &refused(place(&app, SEFTON, &id, 5, d(2040, 5, 1)).await),
        422,
        "validation",
        Some(("/bed", "range")),
    );
    assert_problem(
        &refused(place(&app, SEFTON, &id, 3, d(2043, 4, 1)).await),
        422,
        "validation",
        Some(("/start_date", "within_term")),
    );
    assert_problem(
        &refused(place(&app, NOTTINGHAM, &id, 3, d(2040, 5, 1)).await),
        404,
        "not-found",
        None,
    );
}

on_both!(
    beds_refused,
    a_bed_is_refused_when_held_occupied_missing_or_out_of_term_on_sqlite,
    a_bed_is_refused_when_held_occupied_missing_or_out_of_term_on_postgres
);

/// Care Assist's beds through April to September 2040 (the state the savings, extensions and
/// Family Care Group's day are seen in), as far as `until`: two Sefton
/// children in beds 1 and 2 (1 and 2 April), the sweeps of 7, 8 (twice) and 9 April offering
/// beds 3 and 4, a Knowsley child in bed 3 from 10 April, the first child leaving on 30 June,
/// and the sweeps of 7 and 8 July offering bed 1 again.
struct HalfYear {
    id: String,
    family_id: String,
    children: [String; 3],
}

#[derive(PartialEq, PartialOrd)]
enum Until {
    /// Beds 1 and 2 filled; nothing swept.
    Filled,
    /// The first sweeps run.
    Offered,
    /// All of it.
    September,
}

async fn half_year(app: &TestApp, until: Until) -> HalfYear {
    let (id, family_id) = both_let(app).await;
    let child1 = place(app, SEFTON, &id, 1, d(2040, 4, 1)).await.unwrap();
    let child2 = place(app, SEFTON, &id, 2, d(2040, 4, 2)).await.unwrap();
    let mut children = [child1, child2, String::new()];
    if until >= Until::Offered {
        for day in [d(2040, 4, 7), d(2040, 4, 8), d(2040, 4, 8), d(2040, 4, 9)] {
            beds_offered(app, day).await;
        }
    }
    if until >= Until::September {
        children[2] = place(app, KNOWSLEY, &id, 3, d(2040, 4, 10)).await.unwrap();
        end(app, &id, 1, &children[0], d(2040, 6, 30)).await;
        for day in [d(2040, 7, 7), d(2040, 7, 8)] {
            beds_offered(app, day).await;
        }
    }
    HalfYear {
        id,
        family_id,
        children,
    }
}

/// The sweep offers beds void for a week to the partnership's other councils, once, even
/// with two sweeps at once.
async fn void_beds_offered(url: &str) {
    let app = start(url).await;
    let HalfYear { id, family_id, .. } = half_year(&app, Until::Filled).await;
    // Two Sefton children in beds 1 and 2.
    let filled = app.outbox_of::<BedFilled>().await;
    assert_eq!(
        filled
            .iter()
            .map(|f| (f.bed, f.council.as_str(), f.filled_on))
            .collect::<Vec<_>>(),
        vec![(1, SEFTON, d(2040, 4, 1)), (2, SEFTON, d(2040, 4, 2))]
    );

    // The sweep offers beds 3 and 4 (void since 1 April) on the seventh day after, once,
    // even with two sweeps at once. Family Care Group's four beds are offered to AIM too.
    assert_eq!(beds_offered(&app, d(2040, 4, 7)).await, 0);
    let (a, b) = tokio::join!(
        sweep_once(&app.store, d(2040, 4, 8)),
        sweep_once(&app.store, d(2040, 4, 8))
    );
    assert_eq!(a.unwrap().beds_offered + b.unwrap().beds_offered, 6);
    assert_eq!(beds_offered(&app, d(2040, 4, 9)).await, 0);
    let offers = app.outbox_of::<BedOffered>().await;
    let care_offers: Vec<&BedOffered> = offers
        .iter()
        .filter(|o| o.block_contract_id.to_string() == id)
        .collect();
    assert_eq!(
        care_offers.iter().map(|o| o.bed).collect::<Vec<_>>(),
        vec![3, 4]
    );
    let o = care_offers[0];
    assert_eq!(o.offered_by, SEFTON);
    assert_eq!(o.offered_to.len(), 5);
    assert!(o.offered_to.iter().any(|c| c == KNOWSLEY));
    assert!(!o.offered_to.iter().any(|c| c == SEFTON));
    assert_eq!(
        (
            o.postcode_district.as_str(),
            o.available_from,
            o.offer_expires_on
        ),
        ("L20", d(2040, 4, 8), d(2043, 3, 31))
    );
    let family_offer = offers
        .iter()
        .find(|o| o.block_contract_id.to_string() == family_id)
        .unwrap();
    assert_eq!(
        family_offer.offered_to.len(),
        3,
        "AIM's other three councils"
    );
}

on_both!(
    void_beds_offered,
    void_beds_are_offered_to_partners_once_on_sqlite,
    void_beds_are_offered_to_partners_once_on_postgres
);

/// An offered bed is taken by a partner; a bed emptied is void from the day after and
/// offered again a week on; each bed tells its stays.
async fn beds_taken_and_emptied(url: &str) {
    let app = start(url).await;
    let knowsley = app.user(KNOWSLEY, Role::Commissioner);
    let HalfYear { id, children, .. } = half_year(&app, Until::Offered).await;
    let [child1, child2, _] = children;
    // A Knowsley child takes the offered bed 3.
    let child3 = place(&app, KNOWSLEY, &id, 3, d(2040, 4, 10)).await.unwrap();
    let filled = app.outbox_of::<BedFilled>().await;
    assert_eq!((filled[2].bed, filled[2].council.as_str()), (3, KNOWSLEY));

    // The first Sefton child leaves on 30 June: bed 1 is void from 1 July, offered on 8 July.
    end(&app, &id, 1, &child1, d(2040, 6, 30)).await;
    let voids = app.outbox_of::<BedVoid>().await;
    let last = voids.last().unwrap();
    assert_eq!(
        (last.bed, last.void_from, last.council.as_str()),
        (1, d(2040, 7, 1), SEFTON)
    );
    assert_eq!(beds_offered(&app, d(2040, 7, 7)).await, 0);
    assert_eq!(beds_offered(&app, d(2040, 7, 8)).await, 1);
    // A Sefton child may still take its own offered bed; it cannot move in before the
    // last child's last night has passed.
    assert_problem(
        &refused(place(&app, SEFTON, &id, 1, d(2040, 6, 30)).await),
        409,
        "bed-occupied",
        None,
    );

    let (_, view) = app.contracts().block(&knowsley, &id).await;
    let states: Vec<(&str, &str)> = view["bed_states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["status"].as_str().unwrap(),
                b["held_for"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("offered", SEFTON),
            ("occupied", SEFTON),
            ("occupied", SEFTON),
            ("offered", SEFTON)
        ]
    );
    let bed1 = &view["bed_states"][0];
    assert_eq!(bed1["void_from"], "2040-07-01");
    assert_eq!(bed1["offered_on"], "2040-07-08");
    assert_eq!(
        bed1["stays"],
        json!([{ "placement_id": child1, "council": SEFTON, "from": "2040-04-01", "to": "2040-06-30" }])
    );
    assert_eq!(view["bed_states"][2]["placement_id"], child3);
    assert_eq!(view["bed_states"][2]["stays"][0]["council"], KNOWSLEY);
    assert_eq!(view["bed_states"][1]["placement_id"], child2);
}

on_both!(
    beds_taken_and_emptied,
    beds_are_taken_emptied_and_offered_again_on_sqlite,
    beds_are_taken_emptied_and_offered_again_on_postgres
);

/// Savings, April to September 2040, to the penny.
async fn savings_over_a_half_year(url: &str) {
    let app = start(url).await;
    let knowsley = app.user(KNOWSLEY, Role::Commissioner);
    let HalfYear { id, .. } = half_year(&app, Until::September).await;
    // Savings, April to September 2040 (183 days × 4 beds = 732 bed-days):
    // bed 1 occupied 1 April–30 June (91), bed 2 from 2 April (182), bed 3 from 10 April
    // (174), bed 4 never: 447 occupied, 285 void.
    // Realised £161 × 447 / 7 = £10,281.00; voids £1,988 × 285 / 7 = £80,940.00.
    let (s, sav) = app
        .contracts()
        .savings(&knowsley, &id, "from=2040-04-01&to=2040-09-30")
        .await;
    assert_eq!(s, 200, "{sav}");
    assert_eq!(sav["planned_annual_saving_pence"], 3_348_800);
    assert_eq!(
        (
            sav["bed_days"].as_i64(),
            sav["occupied_bed_days"].as_i64(),
            sav["void_bed_days"].as_i64()
        ),
        (Some(732), Some(447), Some(285))
    );
    assert_eq!(sav["realised_saving_pence"], 1_028_100);
    assert_eq!(sav["void_cost_pence"], 8_094_000);
    assert_eq!(sav["net_saving_pence"], 1_028_100 - 8_094_000);
    assert_eq!(
        sav["per_bed"][0],
        json!({"bed": 1, "occupied_days": 91, "void_days": 92})
    );
}

on_both!(
    savings_over_a_half_year,
    savings_over_a_half_year_are_to_the_penny_on_sqlite,
    savings_over_a_half_year_are_to_the_penny_on_postgres
);

async fn savings_refused(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let HalfYear { id, .. } = half_year(&app, Until::September).await;
    assert_problem(
        &contracts
            .savings(
                &app.user(KNOWSLEY, Role::Commissioner),
                &id,
                "from=2040-09-30&to=2040-04-01",
            )
            .await,
        422,
        "validation",
        Some(("to", "after_from")),
    );
    assert_problem(
        &contracts
            .savings(&app.user(NOTTINGHAM, Role::Finance), &id, "")
            .await,
        404,
        "not-found",
        None,
    );
}

on_both!(
    savings_refused,
    savings_need_an_ordered_period_and_a_partner_on_sqlite,
    savings_need_an_ordered_period_and_a_partner_on_postgres
);

/// Family Care Group: one day of one bed saves £361.65 / 7 = £51.66 (half up).
async fn a_days_saving(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let HalfYear { family_id, .. } = half_year(&app, Until::September).await;
    let fcg_child = {
        let fid: BlockContractId = family_id.parse().unwrap();
        app.store
            .write(move |conn, events| {
                let a = blocks::admit_to_bed(conn, SEFTON, fid, 1, d(2040, 5, 1))?;
                assert_eq!(a.weekly_rate_pence, 280_900);
                let p = PlacementId::new();
                blocks::bed_filled(conn, fid, 1, p, SEFTON, d(2040, 5, 1), events)?;
                Ok(p.to_string())
            })
            .await
            .unwrap()
    };
    end(&app, &family_id, 1, &fcg_child, d(2040, 5, 1)).await;
    let (_, sav) = app
        .contracts()
        .savings(&sefton, &family_id, "from=2040-05-01&to=2040-05-01")
        .await;
    assert_eq!(
        (
            sav["realised_saving_pence"].as_i64(),
            sav["void_cost_pence"].as_i64()
        ),
        (Some(5_166), Some(120_386))
    );
}

on_both!(
    a_days_saving,
    one_day_of_one_bed_saves_to_the_penny_on_sqlite,
    one_day_of_one_bed_saves_to_the_penny_on_postgres
);

/// Extensions: the lead council's commissioner uses the two options, then none is left; a
/// contract let without options has none to use.
async fn extensions(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = app.user(SEFTON, Role::Commissioner);
    let knowsley = app.user(KNOWSLEY, Role::Commissioner);
    let HalfYear { id, family_id, .. } = half_year(&app, Until::September).await;
    assert_problem(
        &contracts.extend_block(&sefton, &family_id).await,
        409,
        "no-extensions-left",
        None,
    );
    assert_problem(
        &contracts.extend_block(&knowsley, &id).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &contracts
            .extend_block_with(&sefton, &id, &json!({"years": 1}))
            .await,
        422,
        "validation",
        Some(("/years", "unknown_field")),
    );
    let (s, ext) = contracts.extend_block(&sefton, &id).await;
    assert_eq!(s, 200, "{ext}");
    assert_eq!(
        (ext["end_date"].as_str(), ext["extensions_left"].as_i64()),
        (Some("2044-03-31"), Some(1))
    );
    let (_, ext) = contracts.extend_block_with(&sefton, &id, &json!({})).await;
    assert_eq!(
        (ext["end_date"].as_str(), ext["extensions_left"].as_i64()),
        (Some("2045-03-31"), Some(0))
    );
    assert_eq!(ext["extensions"].as_array().unwrap().len(), 2);
    assert_problem(
        &contracts.extend_block(&sefton, &id).await,
        409,
        "no-extensions-left",
        None,
    );
    let extended = app.outbox_of::<BlockContractExtended>().await;
    assert_eq!(
        extended
            .iter()
            .map(|e| (e.new_end_date, e.extensions_left))
            .collect::<Vec<_>>(),
        vec![(d(2044, 3, 31), 1), (d(2045, 3, 31), 0)]
    );
}

on_both!(
    extensions,
    the_lead_council_uses_the_extension_options_on_sqlite,
    the_lead_council_uses_the_extension_options_on_postgres
);
