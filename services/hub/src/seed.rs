//! `hub seed`: loads a demo partnership through the REST API of a running platform, so a
//! newcomer can try the flow at once: the LCR Provider Partner Agreement (let by Halton for
//! six councils) with a residential and a foster-care lot and six providers admitted.
//! Provider names other than Care Assist and Family Care Group (from the council papers)
//! are made up.

use std::time::Duration;

use hub_platform::{Authenticator, Role, directory};
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

async fn call(
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

/// Creates the demo framework, lots and admissions on the platform at `base` (the
/// competition service's URL).
pub async fn seed(base: &str, auth: &Authenticator) -> anyhow::Result<Seeded> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let halton = auth.mint_default("seed@halton", directory::HALTON, &[Role::Commissioner]);
    let fw = call(
        &client,
        format!("{base}/v1/frameworks"),
        &halton,
        json!({
            "partnership": "LCR-PPA",
            "name": "Liverpool City Region Provider Partner Agreement (demo)",
            "kind": "provider_partner_agreement",
            "start_date": "2024-04-01",
            "end_date": "2028-03-31",
            "lots": [
                {"name": "Residential", "placement_type": "residential"},
                {"name": "Foster care", "placement_type": "foster_care"}
            ]
        }),
    )
    .await?;
    let framework_id = fw["id"].as_str().unwrap_or_default().to_owned();
    let lots: Vec<String> = fw["lots"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(lots.len() == 2, "expected two lots, got {fw}");
    for (id, name, lot, price) in DEMO_PROVIDERS {
        call(
            &client,
            format!(
                "{base}/v1/frameworks/{framework_id}/lots/{}/providers",
                lots[*lot]
            ),
            &halton,
            json!({"provider_id": id, "name": name, "weekly_price_pence": price}),
        )
        .await?;
    }
    Ok(Seeded {
        framework_id,
        residential_lot: lots[0].clone(),
        foster_lot: lots[1].clone(),
    })
}
