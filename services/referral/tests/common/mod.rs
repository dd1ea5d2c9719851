//! The referral tests' fixtures, in one place: the service started behind its client, the
//! council's document and new referrals, the competition and contract services' events, and
//! the states a behaviour starts from.

// Each test file uses some of these, never all: what one file leaves unused is not dead.
#![allow(dead_code)]

use chrono::{NaiveDate, Utc};
use hub_events::{
    CompetitionAwarded, CompetitionCloseReason, CompetitionClosed, CompetitionOpened, FrameworkLot,
    FrameworkPublished, PlacementStarted, Urgency,
};
use hub_platform::{
    db::Migrations,
    directory::{HALTON, SEFTON},
};
use hub_testkit::{TestApp, User};
use serde_json::{Value, json};
use uuid::Uuid;

pub static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &referral::MIGRATIONS];

pub const CHILD: &str = "Jordan Example-Child";
pub const DOB: &str = "2012-05-14";
/// The council's words about siblings and contact: the awarded provider's to read only.
pub const SIBLINGS: &str = "Two sisters, Aoife (9) and Niamh (6), placed together in Crosby";
pub const CONTACT: &str = "Supervised contact with mum Sinead at the Bootle family centre";

/// The referral service on `url`, behind its test client.
pub async fn start(url: &str) -> TestApp {
    TestApp::start(url, referral::NAME, &SETS, referral::start).await
}

/// The council's document about the child.
pub fn document() -> Value {
    json!({
        "child": {"name": CHILD, "date_of_birth": DOB, "gender": "male", "first_language": "English"},
        "legal_status": "s31 care order",
        "placement_type": "residential",
        "urgency": "planned",
        "needs": ["emotional_behavioural"],
        "education": {"school": "Example High", "school_type": "mainstream",
            "school_phase": "secondary", "school_postcode_district": "L21", "ehcp": true,
            "educational_needs": ["SEMH"]},
        "about_me": "Loves football; needs time to trust new adults.",
        "siblings": SIBLINGS,
        "sibling_ages": [9, 6],
        "contact_arrangements": CONTACT,
        "contact": [{"kind": "birth_mother", "frequency": "fortnightly"},
            {"kind": "siblings", "frequency": "monthly"}],
        "location": {"postcode_district": "L20", "latitude": 53.4612, "longitude": -2.9873, "max_distance_miles": 20.0},
        "wanted_start": "2026-12-01"
    })
}

/// A new referral on `route` (a framework and lot the replica has not heard of), submitted at
/// once or left a draft.
pub fn new_referral(route: &str, submit: bool) -> Value {
    json!({
        "partnership": "LCR-PPA",
        "framework_id": Uuid::now_v7(),
        "lot_id": Uuid::now_v7(),
        "route": route,
        "route_reason": "planned move; the PPA residential lot has suitable homes",
        "submit": submit,
        "document": document(),
    })
}

/// The referral's status as `user` reads it (the read is asserted 200).
pub async fn status(app: &TestApp, user: &User, id: &str) -> String {
    let (s, r) = app.referrals().get(user, id).await;
    assert_eq!(s, 200, "{r}");
    r["status"].as_str().unwrap().to_owned()
}

/// A problem's `type` (empty when the body has none).
pub fn problem_type(body: &Value) -> &str {
    body["type"].as_str().unwrap_or_default()
}

/// Competition `competition` opened for version `version` of `referral`, inviting `invited`.
pub fn opened(
    referral: &str,
    competition: Uuid,
    version: u32,
    invited: &[&str],
) -> CompetitionOpened {
    CompetitionOpened {
        competition_id: competition,
        referral_id: referral.parse().unwrap(),
        referral_version: version,
        council: SEFTON.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        lot_name: "Residential".into(),
        urgency: Urgency::Planned,
        deadline: Utc::now() + chrono::Duration::days(3),
        invited: invited.iter().map(|s| (*s).to_owned()).collect(),
        summary: "residential, 11-15, emotional_behavioural".into(),
        referral_path: format!("/v1/referrals/{referral}"),
    }
}

/// Competition `competition` for `referral` closed with no acceptable bid.
pub fn closed(referral: &str, competition: Uuid) -> CompetitionClosed {
    CompetitionClosed {
        competition_id: competition,
        referral_id: referral.parse().unwrap(),
        council: SEFTON.into(),
        reason: CompetitionCloseReason::NoAcceptableBid,
        provider_message: None,
        invited: vec!["prov-a".into(), "prov-b".into()],
    }
}

/// Competition `competition` for `referral` awarded to `provider` (directly, without bids,
/// if `direct`).
pub fn awarded(
    referral: &str,
    competition: Uuid,
    provider: &str,
    direct: bool,
) -> CompetitionAwarded {
    CompetitionAwarded {
        competition_id: competition,
        referral_id: referral.parse().unwrap(),
        council: SEFTON.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        provider_id: provider.into(),
        bid_id: (!direct).then(Uuid::now_v7),
        weekly_rate_pence: 450_000,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        unsuccessful: vec![],
        awarded_by: "user-of-E08000014".into(),
        direct,
        outcomes: vec![],
    }
}

/// A placement that started for `referral` in a block bed (no order, no award before it).
pub fn placed_in_block_bed(referral: &str) -> PlacementStarted {
    PlacementStarted {
        placement_id: Uuid::now_v7(),
        order_id: None,
        referral_id: referral.parse().unwrap(),
        council: SEFTON.into(),
        provider_id: "prov-care-assist".into(),
        weekly_rate_pence: 198_800,
        extras_weekly_pence: 0,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        block_contract_id: Some(Uuid::now_v7()),
        bed: Some(1),
    }
}

/// A framework of `partnership`, led by Halton, that `bodies` may buy from, with `lots`.
pub fn framework(partnership: &str, bodies: &[&str], lots: &[Uuid]) -> FrameworkPublished {
    FrameworkPublished {
        framework_id: Uuid::now_v7(),
        partnership: partnership.into(),
        lead_commissioner: HALTON.into(),
        purchasing_bodies: bodies.iter().map(|b| (*b).to_owned()).collect(),
        lots: lots
            .iter()
            .map(|l| FrameworkLot {
                lot_id: *l,
                name: "Residential".into(),
                placement_type: "residential".into(),
            })
            .collect(),
        start_date: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2029, 3, 31).unwrap(),
    }
}

/// A new mini-competition referral on `fw`'s `lot`.
pub fn for_framework(fw: &FrameworkPublished, lot: Uuid, submit: bool) -> Value {
    let mut r = new_referral("mini_competition", submit);
    r["framework_id"] = json!(fw.framework_id);
    r["lot_id"] = json!(lot);
    r
}
