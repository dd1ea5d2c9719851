//! Block contracts on their own, on SQLite and PostgreSQL: letting (the seed's Care Assist and
//! Family Care Group contracts), who sees them, beds filled and emptied through the functions
//! the placement code calls, voids offered to partner councils by the sweep (once, even with
//! two sweeps at once), savings to the penny, and extensions.

use chrono::NaiveDate;
use contract::{
    handlers::sweep::sweep_once,
    ids::{BlockContractId, PlacementId},
    store::blocks,
};
use hub_events::{BedFilled, BedOffered, BedVoid, BlockContractExtended, BlockContractLet};
use hub_platform::{
    Role, Settings,
    db::Migrations,
    directory::{KNOWSLEY, NOTTINGHAM, SEFTON},
};
use hub_testkit::{ServiceCtx, assert_problem, call, on_both};
use serde_json::{Value, json};

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &contract::MIGRATIONS];

const CARE_ASSIST: &str = "prov-care-assist";
const FAMILY_CARE: &str = "prov-family-care-group";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The service with its clock slowed to an hour. The clock's first sweep (at start-up, as of
/// today) may run at any point of the test, so the contracts here run in the 2040s: nothing
/// is void long enough by today to be offered, and only the sweeps the test runs, with the
/// dates it chooses, offer beds.
async fn start(url: &str) -> ServiceCtx {
    ServiceCtx::builder(contract::NAME)
        .settings(Settings::load_with(&[("contract.sweep_interval_secs", "3600")]).unwrap())
        .start(url, &SETS, contract::start)
        .await
}

fn care_assist() -> Value {
    json!({
        "partnership": "LCR-PPA", "provider_id": CARE_ASSIST, "description": "male adolescents",
        "beds": 4, "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
        "start_date": "2040-04-01", "term_years": 3, "extension_options": 2,
        "postcode_district": "L20"
    })
}

/// A placement in a bed, as the placement code makes it: admit, then fill, in one write.
async fn place(
    ctx: &ServiceCtx,
    council: &'static str,
    contract_id: &str,
    bed: u16,
    on: NaiveDate,
) -> Result<String, hub_platform::Problem> {
    let id: BlockContractId = contract_id.parse().unwrap();
    ctx.store
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

async fn end(ctx: &ServiceCtx, contract_id: &str, bed: u16, placement: &str, last: NaiveDate) {
    let id: BlockContractId = contract_id.parse().unwrap();
    let p: PlacementId = placement.parse().unwrap();
    ctx.store
        .write(move |conn, events| blocks::bed_emptied(conn, id, bed, p, last, events))
        .await
        .expect("the placement ends");
}

fn problem(p: hub_platform::Problem) -> (u16, Value) {
    (p.status, serde_json::to_value(&p).unwrap())
}

async fn lifecycle(url: &str) {
    let ctx = start(url).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let knowsley = ctx.token(KNOWSLEY, Role::Commissioner);

    // Letting: a commissioner of a member council only.
    let path = "/v1/contracts/blocks";
    for (token, status) in [
        (ctx.token(SEFTON, Role::SocialWorker), 403),
        (ctx.token(NOTTINGHAM, Role::Commissioner), 403),
        (ctx.token(CARE_ASSIST, Role::Provider), 403),
    ] {
        assert_problem(
            &call(&app, "POST", path, &token, Some(care_assist())).await,
            status,
            "forbidden",
            None,
        );
    }
    let mut bad = care_assist();
    bad["beds"] = json!(0);
    bad["held_for"] = json!([]);
    assert_problem(
        &call(&app, "POST", path, &sefton, Some(bad)).await,
        422,
        "validation",
        Some(("/beds", "range")),
    );
    let (s, care) = call(&app, "POST", path, &sefton, Some(care_assist())).await;
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
    let id = care["id"].as_str().unwrap().to_owned();
    let let_events = ctx.outbox_of::<BlockContractLet>().await;
    assert_eq!(let_events.len(), 1);
    assert_eq!(let_events[0].planned_annual_saving_pence, 3_348_800);
    assert_eq!(let_events[0].block_contract_id.to_string(), id);
    let voids = ctx.outbox_of::<BedVoid>().await;
    assert_eq!(
        voids
            .iter()
            .map(|v| (v.bed, v.void_from))
            .collect::<Vec<_>>(),
        (1..=4).map(|b| (b, d(2040, 4, 1))).collect::<Vec<_>>()
    );
    assert_eq!(ctx.outbox().await[0].partnership, "LCR-PPA");

    // Family Care Group, for AIM, without extension options.
    let (s, family) = call(
        &app,
        "POST",
        path,
        &sefton,
        Some(json!({
            "partnership": "AIM", "provider_id": FAMILY_CARE, "beds": 4,
            "description": "children and young people with physical and learning disabilities",
            "block_weekly_rate_pence": 280_900, "spot_weekly_rate_pence": 317_065,
            "start_date": "2040-04-01", "term_years": 3
        })),
    )
    .await;
    assert_eq!(s, 201, "{family}");
    assert_eq!(family["planned_annual_saving_pence"], 7_522_320);
    let family_id = family["id"].as_str().unwrap().to_owned();
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("{path}/{family_id}/extend"),
            &sefton,
            None,
        )
        .await,
        409,
        "no-extensions-left",
        None,
    );

    // Who sees them: the partnerships' councils and the provider.
    let care_path = format!("{path}/{id}");
    for (token, status) in [
        (ctx.token(KNOWSLEY, Role::SocialWorker), 200),
        (ctx.token(CARE_ASSIST, Role::Provider), 200),
        (ctx.token(NOTTINGHAM, Role::Commissioner), 404),
        (ctx.token(FAMILY_CARE, Role::Provider), 404),
    ] {
        let (s, body) = call(&app, "GET", &care_path, &token, None).await;
        assert_eq!(s, status, "{body}");
    }
    let (_, listed) = call(&app, "GET", path, &knowsley, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "LCR and AIM: {listed}");
    let (_, listed) = call(
        &app,
        "GET",
        path,
        &ctx.token(FAMILY_CARE, Role::Provider),
        None,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, listed) = call(
        &app,
        "GET",
        path,
        &ctx.token(NOTTINGHAM, Role::Finance),
        None,
    )
    .await;
    assert_eq!(listed, json!([]));

    // Two Sefton children in beds 1 and 2.
    let child1 = place(&ctx, SEFTON, &id, 1, d(2040, 4, 1)).await.unwrap();
    let child2 = place(&ctx, SEFTON, &id, 2, d(2040, 4, 2)).await.unwrap();
    let filled = ctx.outbox_of::<BedFilled>().await;
    assert_eq!(
        filled
            .iter()
            .map(|f| (f.bed, f.council.as_str(), f.filled_on))
            .collect::<Vec<_>>(),
        vec![(1, SEFTON, d(2040, 4, 1)), (2, SEFTON, d(2040, 4, 2))]
    );
    // Refusals: a bed held for Sefton and not offered; a bed in use; no such bed; outside
    // the term; a council outside the partnership.
    let refused = |r: Result<String, hub_platform::Problem>| problem(r.unwrap_err());
    assert_problem(
        &refused(place(&ctx, KNOWSLEY, &id, 3, d(2040, 4, 5)).await),
        409,
        "bed-not-offered",
        None,
    );
    assert_problem(
        &refused(place(&ctx, SEFTON, &id, 1, d(2040, 5, 1)).await),
        409,
        "bed-occupied",
        None,
    );
    assert_problem(
        &refused(place(&ctx, SEFTON, &id, 5, d(2040, 5, 1)).await),
        422,
        "validation",
        Some(("/bed", "range")),
    );
    assert_problem(
        &refused(place(&ctx, SEFTON, &id, 3, d(2043, 4, 1)).await),
        422,
        "validation",
        Some(("/start_date", "within_term")),
    );
    assert_problem(
        &refused(place(&ctx, NOTTINGHAM, &id, 3, d(2040, 5, 1)).await),
        404,
        "not-found",
        None,
    );

    // The sweep offers beds 3 and 4 (void since 1 April) on the seventh day after, once,
    // even with two sweeps at once. Family Care Group's four beds are offered to AIM too.
    let swept = sweep_once(&ctx.store, d(2040, 4, 7)).await.unwrap();
    assert_eq!(swept.beds_offered, 0);
    let (a, b) = tokio::join!(
        sweep_once(&ctx.store, d(2040, 4, 8)),
        sweep_once(&ctx.store, d(2040, 4, 8))
    );
    assert_eq!(a.unwrap().beds_offered + b.unwrap().beds_offered, 6);
    assert_eq!(
        sweep_once(&ctx.store, d(2040, 4, 9))
            .await
            .unwrap()
            .beds_offered,
        0
    );
    let offers = ctx.outbox_of::<BedOffered>().await;
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

    // A Knowsley child takes the offered bed 3.
    let child3 = place(&ctx, KNOWSLEY, &id, 3, d(2040, 4, 10)).await.unwrap();
    let filled = ctx.outbox_of::<BedFilled>().await;
    assert_eq!((filled[2].bed, filled[2].council.as_str()), (3, KNOWSLEY));

    // The first Sefton child leaves on 30 June: bed 1 is void from 1 July, offered on 8 July.
    end(&ctx, &id, 1, &child1, d(2040, 6, 30)).await;
    let voids = ctx.outbox_of::<BedVoid>().await;
    let last = voids.last().unwrap();
    assert_eq!(
        (last.bed, last.void_from, last.council.as_str()),
        (1, d(2040, 7, 1), SEFTON)
    );
    assert_eq!(
        sweep_once(&ctx.store, d(2040, 7, 7))
            .await
            .unwrap()
            .beds_offered,
        0
    );
    assert_eq!(
        sweep_once(&ctx.store, d(2040, 7, 8))
            .await
            .unwrap()
            .beds_offered,
        1
    );
    // A Sefton child may still take its own offered bed; it cannot move in before the
    // last child's last night has passed.
    assert_problem(
        &refused(place(&ctx, SEFTON, &id, 1, d(2040, 6, 30)).await),
        409,
        "bed-occupied",
        None,
    );

    let (_, view) = call(&app, "GET", &care_path, &knowsley, None).await;
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

    // Savings, April to September 2040 (183 days × 4 beds = 732 bed-days):
    // bed 1 occupied 1 April–30 June (91), bed 2 from 2 April (182), bed 3 from 10 April
    // (174), bed 4 never: 447 occupied, 285 void.
    // Realised £161 × 447 / 7 = £10,281.00; voids £1,988 × 285 / 7 = £80,940.00.
    let (s, sav) = call(
        &app,
        "GET",
        &format!("{care_path}/savings?from=2040-04-01&to=2040-09-30"),
        &knowsley,
        None,
    )
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
    assert_problem(
        &call(
            &app,
            "GET",
            &format!("{care_path}/savings?from=2040-09-30&to=2040-04-01"),
            &knowsley,
            None,
        )
        .await,
        422,
        "validation",
        Some(("to", "after_from")),
    );
    assert_problem(
        &call(
            &app,
            "GET",
            &format!("{care_path}/savings"),
            &ctx.token(NOTTINGHAM, Role::Finance),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );

    // Extensions: the lead council's commissioner uses the two options, then none is left.
    let extend = format!("{care_path}/extend");
    assert_problem(
        &call(&app, "POST", &extend, &knowsley, None).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(&app, "POST", &extend, &sefton, Some(json!({"years": 1}))).await,
        422,
        "validation",
        Some(("/years", "unknown_field")),
    );
    let (s, ext) = call(&app, "POST", &extend, &sefton, None).await;
    assert_eq!(s, 200, "{ext}");
    assert_eq!(
        (ext["end_date"].as_str(), ext["extensions_left"].as_i64()),
        (Some("2044-03-31"), Some(1))
    );
    let (_, ext) = call(&app, "POST", &extend, &sefton, Some(json!({}))).await;
    assert_eq!(
        (ext["end_date"].as_str(), ext["extensions_left"].as_i64()),
        (Some("2045-03-31"), Some(0))
    );
    assert_eq!(ext["extensions"].as_array().unwrap().len(), 2);
    assert_problem(
        &call(&app, "POST", &extend, &sefton, None).await,
        409,
        "no-extensions-left",
        None,
    );
    let extended = ctx.outbox_of::<BlockContractExtended>().await;
    assert_eq!(
        extended
            .iter()
            .map(|e| (e.new_end_date, e.extensions_left))
            .collect::<Vec<_>>(),
        vec![(d(2044, 3, 31), 1), (d(2045, 3, 31), 0)]
    );

    // Family Care Group: one day of one bed saves £361.65 / 7 = £51.66 (half up).
    let fcg_child = {
        let fid: BlockContractId = family_id.parse().unwrap();
        ctx.store
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
    end(&ctx, &family_id, 1, &fcg_child, d(2040, 5, 1)).await;
    let (_, sav) = call(
        &app,
        "GET",
        &format!("{path}/{family_id}/savings?from=2040-05-01&to=2040-05-01"),
        &sefton,
        None,
    )
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
    lifecycle,
    block_contracts_on_sqlite,
    block_contracts_on_postgres
);
