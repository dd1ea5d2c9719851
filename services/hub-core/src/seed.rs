//! `hub seed`: loads demo partnerships through the REST API of a running platform, so a
//! newcomer can try the flow at once: the LCR Provider Partner Agreement (let by Halton for
//! six councils) with a residential and a foster-care lot and six providers admitted
//! ([`seed`]); and Adoption in Merseyside's money for the current financial year
//! ([`seed_aim`]): its pooled budget, set by Liverpool as hosting authority, and an adoption
//! support contract let by Sefton as lead commissioner and live, so the ledger and the
//! monitoring report have figures at once. Provider names other than Care Assist and Family
//! Care Group (from the council papers) are made up.

use std::time::Duration;

use chrono::{Datelike, Months, Utc};
use hub_platform::{Authenticator, Role, calendar::FinancialYear, directory};
use serde_json::{Value, json};

/// Providers admitted by the seed: (id, name, lot index, Provider Response weekly pence).
pub const DEMO_PROVIDERS: &[(&str, &str, usize, i64)] = &[
    ("prov-care-assist", "Care Assist", 0, 214_900),
    ("prov-family-care-group", "Family Care Group", 0, 317_065),
    (
        "prov-mersey-homes",
        "Mersey Children's Homes (demo)",
        0,
        395_000,
    ),
    ("prov-brightpath", "Brightpath Fostering (demo)", 1, 98_500),
    (
        "prov-wirral-foster",
        "Wirral Foster Partners (demo)",
        1,
        102_000,
    ),
    (
        "prov-halton-families",
        "Halton Family Placements (demo)",
        1,
        95_000,
    ),
];

#[derive(Debug, Clone)]
pub struct Seeded {
    pub framework_id: String,
    pub residential_lot: String,
    pub foster_lot: String,
}

/// POSTs `body` as JSON with a bearer token; a non-2xx answer is an error that names the
/// URL, the status and the problem returned.
pub async fn post_json(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let res = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let value: Value = res.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "POST {url} answered {status}: {value}");
    Ok(value)
}

/// A framework to create through the API: its lots (name, placement type) and the providers
/// admitted to them (id, name, lot index, Provider Response weekly pence).
pub struct FrameworkSpec<'a> {
    pub partnership: &'a str,
    /// The lead commissioner's organisation (GSS code), who lets the framework.
    pub lead: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub lots: &'a [(&'a str, &'a str)],
    pub admissions: Vec<(&'a str, &'a str, usize, i64)>,
}

/// Creates `spec` on the platform at `base` (the competition service's URL); returns the
/// framework's id and its lots' ids in the order given.
pub async fn create_framework(
    client: &reqwest::Client,
    base: &str,
    auth: &Authenticator,
    spec: &FrameworkSpec<'_>,
) -> anyhow::Result<(String, Vec<String>)> {
    let lead = auth.mint_default(
        &format!("seed@{}", spec.lead),
        spec.lead,
        &[Role::Commissioner],
    );
    let lots: Vec<Value> = spec
        .lots
        .iter()
        .map(|(name, placement_type)| json!({"name": name, "placement_type": placement_type}))
        .collect();
    let fw = post_json(
        client,
        format!("{base}/v1/frameworks"),
        &lead,
        json!({
            "partnership": spec.partnership,
            "name": spec.name,
            "kind": spec.kind,
            "start_date": "2024-04-01",
            "end_date": "2028-03-31",
            "lots": lots
        }),
    )
    .await?;
    let framework_id = fw["id"].as_str().unwrap_or_default().to_owned();
    let lot_ids: Vec<String> = fw["lots"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(
        lot_ids.len() == spec.lots.len(),
        "expected {} lots, got {fw}",
        spec.lots.len()
    );
    for (id, name, lot, price) in &spec.admissions {
        post_json(
            client,
            format!(
                "{base}/v1/frameworks/{framework_id}/lots/{}/providers",
                lot_ids[*lot]
            ),
            &lead,
            json!({"provider_id": id, "name": name, "weekly_price_pence": price}),
        )
        .await?;
    }
    Ok((framework_id, lot_ids))
}

/// Creates the demo framework, lots and admissions on the platform at `base` (the
/// competition service's URL).
pub async fn seed(base: &str, auth: &Authenticator) -> anyhow::Result<Seeded> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let spec = FrameworkSpec {
        partnership: "LCR-PPA",
        lead: directory::HALTON,
        name: "Liverpool City Region Provider Partner Agreement (demo)",
        kind: "provider_partner_agreement",
        lots: &[
            ("Residential", "residential"),
            ("Foster care", "foster_care"),
        ],
        admissions: DEMO_PROVIDERS
            .iter()
            .map(|(id, name, lot, price)| (*id, *name, *lot, *price))
            .collect(),
    };
    let (framework_id, lots) = create_framework(&client, base, auth, &spec).await?;
    Ok(Seeded {
        framework_id,
        residential_lot: lots[0].clone(),
        foster_lot: lots[1].clone(),
    })
}

/// What [`seed_aim`] created.
#[derive(Debug, Clone)]
pub struct SeededAim {
    /// The financial year (2026 = 2026/27).
    pub year: i32,
    pub budget_id: String,
    pub service_contract_id: String,
}

/// Adoption in Merseyside for the financial year containing today: the pooled budget of
/// £1,100,000.07 in four lines, drawn from the four councils by fixed percentages (37.33,
/// 18.67, 21.5 and 22.5 %: they do not divide it evenly), with a £1,000 risk pool and the rest
/// of any variance shared half by contribution, half by usage, set by Liverpool's finance
/// staff; and a two-year adoption support contract (access to records, birth parent
/// counselling, letterbox) of £240,000.00 from the start of the year, let by Sefton and
/// live. `finance` and `contract` are the services' URLs (the same in embedded mode).
pub async fn seed_aim(
    finance: &str,
    contract: &str,
    auth: &Authenticator,
) -> anyhow::Result<SeededAim> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let year = FinancialYear::containing(Utc::now().date_naive());
    let host = auth.mint_default("seed@liverpool", directory::LIVERPOOL, &[Role::Finance]);
    let budget = post_json(
        &client,
        format!("{finance}/v1/budgets"),
        &host,
        json!({
            "partnership": "AIM", "year": year.0,
            "lines": [
                {"budget_line": "staffing", "amount_pence": 60_000_000},
                {"budget_line": "inter_agency_fees", "amount_pence": 15_000_007},
                {"budget_line": "commissioned_adoption_support", "amount_pence": 10_000_000},
                {"budget_line": "placements", "amount_pence": 25_000_000}
            ],
            "costing_model": {"method": "fixed_percentages", "shares_bp": {
                directory::LIVERPOOL: 3733, directory::KNOWSLEY: 1867,
                directory::SEFTON: 2150, directory::WIRRAL: 2250}},
            "risk_share": {"pool_pence": 100_000,
                "share": {"method": "blend", "contribution_bp": 5000, "usage_bp": 5000}},
            "reason": "demo: agreed by the AIM Governance board"
        }),
    )
    .await?;
    let lead = auth.mint_default("seed@sefton", directory::SEFTON, &[Role::Commissioner]);
    let start = year.start();
    let end = start
        .checked_add_months(Months::new(24))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| anyhow::anyhow!("no end date two years from {start}"))?;
    let services = format!("{contract}/v1/contracts/services");
    let let_ = post_json(
        &client,
        services.clone(),
        &lead,
        json!({
            "partnership": "AIM", "provider_id": "prov-after-adoption",
            "title": format!("Adoption support services for Adoption in Merseyside {}–{} (demo)",
                start.year(), end.year()),
            "services": ["access_to_records", "birth_parent_counselling", "letterbox"],
            "value_pence": 24_000_000, "start_date": start, "end_date": end,
            "budget_line": "commissioned_adoption_support", "extensions_allowed": 1,
            "tupe_lgps": false
        }),
    )
    .await?;
    let id = let_["id"].as_str().unwrap_or_default().to_owned();
    post_json(
        &client,
        format!("{services}/{id}/go-live"),
        &lead,
        json!({}),
    )
    .await?;
    Ok(SeededAim {
        year: year.0,
        budget_id: budget["id"].as_str().unwrap_or_default().to_owned(),
        service_contract_id: id,
    })
}
