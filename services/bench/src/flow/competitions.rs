//! `hub bench --scenario competition` (issue 3): a competition of `--competition-providers`
//! (50) providers and `--bids` (20) bids, run `--competitions` times on the platform the
//! bench started.
//!
//! * **Set-up**, once, over REST: a framework in the LCR PPA with one residential lot whose
//!   default criteria are a compatibility gate and price 50 / location 20 / quality 30, and
//!   the providers admitted to it, each with a webhook for `competition.invited` pointing at
//!   the bench's receiver; the providers that bid each have a home near the child's area.
//! * **Each competition**: Sefton submits a mini-competition referral for the whole lot (every
//!   provider is invited), the bench waits for all the invitations, then the bidders bid (one
//!   after the other, each with its home), the commissioner decides the gate and scores
//!   quality for every bid, and `POST /v1/competitions/{id}/evaluate` is timed
//!   `--evaluations` times.
//! * **Measured**: the time from the competition's opening (the `competition.opened` event's
//!   time, which each invitation carries as its `timestamp`) to the arrival of the last of the
//!   invitations, and from the referral's POST to it; the evaluate endpoint end to end; and the
//!   evaluation itself ([`competition::domain::evaluation::evaluate`], the pure function the
//!   endpoint calls, on 20 bids shaped like the ones submitted) timed in process the way
//!   criterion does: warm-up, then samples of enough iterations to last about a millisecond,
//!   reported per iteration.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chrono::NaiveDate;
use competition::domain::{
    criteria::{Criterion, CriterionName},
    evaluation::{self, BidInput, Mark, Marks},
};
use hdrhistogram::Histogram;
use hub_platform::{Authenticator, Role, directory};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    CpuUse, Percentiles, Platform, Receiver, StatementsPerReferral, histogram, percentiles,
    referral_body,
};
use hub_core::seed::{self, FrameworkSpec};

/// Provider Response rate of every provider admitted (bids stay at or under it).
const RATE_PENCE: i64 = 250_000;
/// The child's area in the referral the bench submits (L20).
const CHILD_AT: (f64, f64) = (53.46, -2.99);

/// The lot's default criteria, as the bench sets them and evaluates in process.
fn criteria() -> Vec<Criterion> {
    vec![
        Criterion::gate(CriterionName::Compatibility),
        Criterion::scored(CriterionName::Price, 50),
        Criterion::scored(CriterionName::Location, 20),
        Criterion::scored(CriterionName::Quality, 30),
    ]
}

/// Bid `i`'s weekly price and quality points (0..=30), varied so that the ranking is not
/// trivial.
fn bid_terms(i: usize) -> (i64, u32) {
    (
        RATE_PENCE - 1_500 * ((i * 7) % 20) as i64,
        ((i * 11) % 31) as u32,
    )
}

/// Bid `i`'s home: a little further from the child's area for each bidder.
fn home_at(i: usize) -> (f64, f64) {
    (CHILD_AT.0 + 0.01 * i as f64, CHILD_AT.1 - 0.005 * i as f64)
}

#[derive(Debug, Clone, Serialize)]
pub struct CompetitionReport {
    pub providers: usize,
    pub bids: usize,
    pub competitions: usize,
    pub evaluations_per_competition: usize,
    /// Competitions whose every invitation arrived.
    pub fully_notified: usize,
    /// The competition's opening (its event's time) → the last invitation's arrival.
    pub opened_to_all_notified_ms: Percentiles,
    /// The referral's POST → the last invitation's arrival.
    pub post_to_all_notified_ms: Percentiles,
    /// The opening → the first invitation's arrival.
    pub opened_to_first_notified_ms: Percentiles,
    pub bid_post_ms: Percentiles,
    pub score_put_ms: Percentiles,
    /// `POST /v1/competitions/{id}/evaluate`, end to end.
    pub evaluate_endpoint_ms: Percentiles,
    /// The pure evaluation of `bids` bids, per call, in microseconds (timed after the
    /// competitions, outside their CPU figures).
    pub evaluate_fn_us: Option<FnTiming>,
    pub http_errors: usize,
    pub first_http_error: Option<String>,
    /// CPU during the competitions (% of one core).
    pub cpu: Vec<CpuUse>,
    pub machine_cpu_busy_pct: f64,
    /// Statements and round trips each service sent PostgreSQL per competition (referral,
    /// opening, invitations, bids, scores and evaluations; `--count-statements`).
    pub statements_per_competition: Vec<StatementsPerReferral>,
}

/// Criterion-style timing of a function: per-iteration times of `samples` samples.
#[derive(Debug, Clone, Serialize)]
pub struct FnTiming {
    pub samples: usize,
    pub iterations_per_sample: u64,
    pub mean: f64,
    pub p50: f64,
    pub p99: f64,
    pub min: f64,
}

/// Times `f`: warms up for `warm_up`, picks the iterations per sample so that a sample lasts
/// about `sample_time`, then takes `samples` samples; each sample's time divided by its
/// iterations is one per-iteration time (in µs).
pub fn time_fn<T>(
    mut f: impl FnMut() -> T,
    warm_up: Duration,
    sample_time: Duration,
    samples: usize,
) -> FnTiming {
    let start = Instant::now();
    let mut warm_iterations = 0u64;
    while start.elapsed() < warm_up || warm_iterations == 0 {
        std::hint::black_box(f());
        warm_iterations += 1;
    }
    let per_iteration = start.elapsed().as_secs_f64() / warm_iterations as f64;
    let iterations = ((sample_time.as_secs_f64() / per_iteration.max(1e-9)) as u64).max(1);
    let mut times: Vec<f64> = (0..samples.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iterations {
                std::hint::black_box(f());
            }
            t.elapsed().as_secs_f64() * 1e6 / iterations as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    FnTiming {
        samples: times.len(),
        iterations_per_sample: iterations,
        mean: times.iter().sum::<f64>() / times.len() as f64,
        p50: at(0.5),
        p99: at(0.99),
        min: times[0],
    }
}

/// The pure evaluation's inputs for `bids` bids shaped like the bench's: every gate decided,
/// quality scored.
fn evaluation_inputs(bids: usize) -> (Vec<Criterion>, Vec<BidInput>, Marks) {
    let submitted = NaiveDate::from_ymd_opt(2026, 11, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("a valid time");
    let mut inputs = Vec::new();
    let mut marks: Marks = HashMap::new();
    for i in 0..bids {
        let (price, quality) = bid_terms(i);
        let bid_id = format!("bid-{i:02}");
        inputs.push(BidInput {
            bid_id: bid_id.clone(),
            provider_id: format!("bench-comp-{:02}", i + 1),
            weekly_price_pence: price,
            provider_response_pence: Some(RATE_PENCE),
            distance_miles: Some({
                let (child, home) = (CHILD_AT, home_at(i));
                hub_platform::directory::distance_miles(child.0, child.1, home.0, home.1)
            }),
            submitted_at: submitted + chrono::Duration::seconds(i as i64),
        });
        marks.insert(
            (bid_id.clone(), CriterionName::Compatibility),
            Mark {
                points: None,
                passed: Some(true),
                reason: "suits the child's needs".into(),
            },
        );
        marks.insert(
            (bid_id, CriterionName::Quality),
            Mark {
                points: Some(quality),
                passed: None,
                reason: "Ofsted and offer".into(),
            },
        );
    }
    (criteria(), inputs, marks)
}

/// Times the pure evaluation of `bids` bids.
pub fn time_evaluation(bids: usize) -> FnTiming {
    let (criteria, inputs, marks) = evaluation_inputs(bids);
    let ev = evaluation::evaluate(&criteria, 20.0, &inputs, &marks);
    assert!(
        ev.winner.is_some() && ev.complete && ev.ranking.len() == bids,
        "the bench's evaluation is complete and has a winner"
    );
    time_fn(
        || evaluation::evaluate(&criteria, 20.0, &inputs, &marks),
        Duration::from_millis(500),
        Duration::from_millis(2),
        300,
    )
}

/// What one competition needs: its framework, lot and the bidders' homes.
pub struct Setup {
    framework_id: String,
    lot_id: String,
    providers: Vec<String>,
    homes: Vec<String>,
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = client.request(method.clone(), &url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await?;
    let status = res.status();
    let value: Value = res.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(
        status.is_success(),
        "{method} {url} answered {status}: {value}"
    );
    Ok(value)
}

/// Creates the framework, the lot's criteria, the providers with their webhooks and the
/// bidders' homes.
pub async fn set_up(
    client: &reqwest::Client,
    platform: &Platform,
    auth: &Authenticator,
    receiver: &Receiver,
    providers: usize,
    bids: usize,
) -> anyhow::Result<Setup> {
    let ids: Vec<String> = (1..=providers)
        .map(|i| format!("bench-comp-{i:02}"))
        .collect();
    let names: Vec<String> = (1..=providers)
        .map(|i| format!("Bench Competition Homes {i:02}"))
        .collect();
    let spec = FrameworkSpec {
        partnership: "LCR-PPA",
        lead: directory::HALTON,
        name: "hub bench competition framework",
        kind: "provider_partner_agreement",
        lots: &[("Residential", "residential")],
        admissions: ids
            .iter()
            .zip(&names)
            .map(|(id, name)| (id.as_str(), name.as_str(), 0, RATE_PENCE))
            .collect(),
    };
    let comp = platform.url("competition");
    let (framework_id, lots) = seed::create_framework(client, comp, auth, &spec).await?;
    let lot_id = lots[0].clone();
    let lead = auth.mint_default("bench@halton", directory::HALTON, &[Role::Commissioner]);
    let criteria: Vec<Value> = criteria()
        .iter()
        .map(|c| serde_json::to_value(c).expect("criteria serialise"))
        .collect();
    send(
        client,
        reqwest::Method::PUT,
        format!("{comp}/v1/frameworks/{framework_id}/lots/{lot_id}/criteria"),
        &lead,
        Some(json!({ "criteria": criteria })),
    )
    .await
    .context("setting the lot's criteria")?;
    let mut homes = Vec::new();
    for (i, provider) in ids.iter().enumerate() {
        let token = auth.mint_default(&format!("bench@{provider}"), provider, &[Role::Provider]);
        let created = seed::post_json(
            client,
            format!("{}/v1/webhooks", platform.url("notifications")),
            &token,
            json!({"url": receiver.endpoint(provider), "event_types": [notifications::domain::INVITED]}),
        )
        .await?;
        let secret = created["secret"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no secret in {created}"))?;
        receiver.set_secret(provider, secret);
        if i < bids {
            let (lat, lon) = home_at(i);
            let home = seed::post_json(
                client,
                format!(
                    "{comp}/v1/frameworks/{framework_id}/lots/{lot_id}/providers/{provider}/homes"
                ),
                &token,
                json!({"name": format!("{provider} house"), "latitude": lat, "longitude": lon,
                       "postcode_district": "L20", "registered_places": 4, "occupied_places": 1,
                       "genders_accepted": [], "min_age_years": 8, "max_age_years": 17,
                       "specialisms": ["emotional_behavioural"], "ofsted_rating": "good",
                       "emergency_capacity": false, "educational_provision": []}),
            )
            .await?;
            homes.push(
                home["id"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("no id in {home}"))?
                    .to_owned(),
            );
        }
    }
    Ok(Setup {
        framework_id,
        lot_id,
        providers: ids,
        homes,
    })
}

/// Runs `competitions` competitions one after the other and measures them.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &reqwest::Client,
    platform: &Platform,
    auth: &Authenticator,
    receiver: &Receiver,
    setup: &Setup,
    competitions: usize,
    evaluations: usize,
    drain: Duration,
) -> anyhow::Result<CompetitionReport> {
    let (providers, bids) = (setup.providers.len(), setup.homes.len());
    let one = One {
        client,
        auth,
        setup,
        sefton: auth.mint_default("bench@sefton", directory::SEFTON, &[Role::Commissioner]),
        referral: platform.url("referral").to_owned(),
        comp: platform.url("competition").to_owned(),
    };
    let mut t = Timings::default();
    let (mut fully_notified, mut errors) = (0, Vec::<String>::new());
    for n in 0..competitions {
        eprintln!(
            "hub bench: competition {}/{competitions}: {providers} providers invited, {bids} bids",
            n + 1
        );
        let referral_id = match one.refer_and_wait(receiver, drain, &mut t).await {
            Ok(id) => id,
            Err(e) => {
                errors.push(format!("competition {}: {e:#}", n + 1));
                continue;
            }
        };
        fully_notified += 1;
        let id = one.competition_of(&referral_id).await?;
        let bid_ids = one.bid(&id, &mut t.bid_post).await?;
        one.score(&id, &bid_ids, &mut t.score_put).await?;
        one.evaluate(&id, evaluations, &mut t.evaluate).await?;
    }
    Ok(CompetitionReport {
        providers,
        bids,
        competitions,
        evaluations_per_competition: evaluations,
        fully_notified,
        opened_to_all_notified_ms: percentiles(&t.opened_to_all),
        post_to_all_notified_ms: percentiles(&t.post_to_all),
        opened_to_first_notified_ms: percentiles(&t.opened_to_first),
        bid_post_ms: percentiles(&t.bid_post),
        score_put_ms: percentiles(&t.score_put),
        evaluate_endpoint_ms: percentiles(&t.evaluate),
        evaluate_fn_us: None,
        http_errors: errors.len(),
        first_http_error: errors.into_iter().next(),
        cpu: Vec::new(),
        machine_cpu_busy_pct: 0.0,
        statements_per_competition: Vec::new(),
    })
}

/// What one competition's steps take.
struct Timings {
    opened_to_all: Histogram<u64>,
    opened_to_first: Histogram<u64>,
    post_to_all: Histogram<u64>,
    bid_post: Histogram<u64>,
    score_put: Histogram<u64>,
    evaluate: Histogram<u64>,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            opened_to_all: histogram(),
            opened_to_first: histogram(),
            post_to_all: histogram(),
            bid_post: histogram(),
            score_put: histogram(),
            evaluate: histogram(),
        }
    }
}

fn record(h: &mut Histogram<u64>, t: Instant) {
    h.saturating_record(t.elapsed().as_micros() as u64);
}

/// One competition's journey through the API, as Sefton and the providers.
struct One<'a> {
    client: &'a reqwest::Client,
    auth: &'a Authenticator,
    setup: &'a Setup,
    sefton: String,
    referral: String,
    comp: String,
}

impl One<'_> {
    /// Posts a referral and waits until every provider was invited (or says why not);
    /// records how long that took.
    async fn refer_and_wait(
        &self,
        receiver: &Receiver,
        drain: Duration,
        t: &mut Timings,
    ) -> anyhow::Result<String> {
        let providers = self.setup.providers.len();
        let body = referral_body(&self.setup.framework_id, &self.setup.lot_id);
        let posted = Instant::now();
        let created = send(
            self.client,
            reqwest::Method::POST,
            format!("{}/v1/referrals", self.referral),
            &self.sefton,
            Some(body),
        )
        .await?;
        let referral_id = created["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("a referral was created without an id"))?
            .to_owned();
        if !receiver
            .wait_for(std::slice::from_ref(&referral_id), providers, drain)
            .await
        {
            anyhow::bail!(
                "only {} of {providers} invitations within {drain:?}",
                receiver.arrivals(&referral_id).len()
            );
        }
        if let Some(last) = receiver.arrivals(&referral_id).iter().max() {
            t.post_to_all
                .saturating_record(last.saturating_duration_since(posted).as_micros() as u64);
        }
        let lags = receiver.lags_secs(&referral_id);
        if let (Some(max), Some(min)) = (
            lags.iter().copied().reduce(f64::max),
            lags.iter().copied().reduce(f64::min),
        ) {
            t.opened_to_all
                .saturating_record((max.max(0.0) * 1e6) as u64);
            t.opened_to_first
                .saturating_record((min.max(0.0) * 1e6) as u64);
        }
        Ok(referral_id)
    }

    /// The competition the referral opened.
    async fn competition_of(&self, referral_id: &str) -> anyhow::Result<String> {
        let list = send(
            self.client,
            reqwest::Method::GET,
            format!("{}/v1/competitions?referral_id={referral_id}", self.comp),
            &self.sefton,
            None,
        )
        .await?;
        Ok(list["items"][0]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no competition for referral {referral_id}: {list}"))?
            .to_owned())
    }

    /// Every provider bids; their ids.
    async fn bid(&self, id: &str, bid_post: &mut Histogram<u64>) -> anyhow::Result<Vec<String>> {
        let mut bid_ids = Vec::new();
        for (i, (provider, home)) in self
            .setup
            .providers
            .iter()
            .zip(&self.setup.homes)
            .enumerate()
        {
            let token =
                self.auth
                    .mint_default(&format!("bench@{provider}"), provider, &[Role::Provider]);
            let (price, _) = bid_terms(i);
            let t = Instant::now();
            let bid = send(
                self.client,
                reqwest::Method::POST,
                format!("{}/v1/competitions/{id}/bids", self.comp),
                &token,
                Some(json!({"weekly_price_pence": price, "start_date": "2026-12-01", "home_id": home,
                            "answers": {"quality": "Ofsted good; staff trained in therapeutic care"}})),
            )
            .await
            .with_context(|| format!("{provider}'s bid"))?;
            record(bid_post, t);
            bid_ids.push(
                bid["id"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("no id in {bid}"))?
                    .to_owned(),
            );
        }
        Ok(bid_ids)
    }

    /// Sefton decides every bid's gate and quality score.
    async fn score(
        &self,
        id: &str,
        bid_ids: &[String],
        score_put: &mut Histogram<u64>,
    ) -> anyhow::Result<()> {
        for (i, bid) in bid_ids.iter().enumerate() {
            let (_, quality) = bid_terms(i);
            for (criterion, mark) in [
                (
                    "compatibility",
                    json!({"passed": true, "reason": "suits the child's needs"}),
                ),
                (
                    "quality",
                    json!({"score": quality, "reason": "Ofsted and offer"}),
                ),
            ] {
                let t = Instant::now();
                send(
                    self.client,
                    reqwest::Method::PUT,
                    format!(
                        "{}/v1/competitions/{id}/bids/{bid}/scores/{criterion}",
                        self.comp
                    ),
                    &self.sefton,
                    Some(mark),
                )
                .await?;
                record(score_put, t);
            }
        }
        Ok(())
    }

    /// Calls the evaluation `times` times; each must rank every bid and name a winner.
    async fn evaluate(
        &self,
        id: &str,
        times: usize,
        evaluate: &mut Histogram<u64>,
    ) -> anyhow::Result<()> {
        let bids = self.setup.homes.len();
        for _ in 0..times {
            let t = Instant::now();
            let ev = send(
                self.client,
                reqwest::Method::POST,
                format!("{}/v1/competitions/{id}/evaluate", self.comp),
                &self.sefton,
                Some(json!({})),
            )
            .await?;
            record(evaluate, t);
            anyhow::ensure!(
                ev["complete"] == true
                    && ev["winner"].is_string()
                    && ev["ranking"].as_array().map(Vec::len) == Some(bids),
                "the evaluation ranks every bid and has a winner: {ev}"
            );
        }
        Ok(())
    }
}

impl CompetitionReport {
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "\nCompetition: {} providers invited, {} bids; {} competitions ({} fully notified), \
             evaluate called {} times each",
            self.providers,
            self.bids,
            self.competitions,
            self.fully_notified,
            self.evaluations_per_competition
        );
        self.timing_lines(&mut o);
        if let Some(f) = &self.evaluate_fn_us {
            let _ = writeln!(
                o,
                "  evaluate() of {} bids, µs          p50 {:>7.1}  p99 {:>7.1}  min {:>7.1}  mean {:>7.1}  \
                 ({} samples × {} calls, in the bench's process)",
                self.bids, f.p50, f.p99, f.min, f.mean, f.samples, f.iterations_per_sample
            );
        }
        if let Some(e) = &self.first_http_error {
            let _ = writeln!(o, "  {} errors; the first: {e}", self.http_errors);
        }
        let cpu: Vec<String> = self
            .cpu
            .iter()
            .map(|c| format!("{} {:.0}%", c.name, c.pct_of_core))
            .collect();
        let _ = writeln!(
            o,
            "  CPU meanwhile (% of one core): machine {:.0}% busy; {}",
            self.machine_cpu_busy_pct,
            cpu.join(", ")
        );
        if !self.statements_per_competition.is_empty() {
            let parts: Vec<String> = self
                .statements_per_competition
                .iter()
                .map(|s| format!("{} {:.0}/{:.0}", s.service, s.statements, s.round_trips))
                .collect();
            let _ = writeln!(
                o,
                "  PostgreSQL statements/round trips per competition: {}",
                parts.join(", ")
            );
        }
        o
    }

    /// The HTTP steps' latencies, one line each.
    fn timing_lines(&self, o: &mut String) {
        use std::fmt::Write as _;
        let p = |x: &Percentiles| {
            format!(
                "p50 {:>7.1}  p99 {:>7.1}  max {:>7.1}  mean {:>7.1}",
                x.p50, x.p99, x.max, x.mean
            )
        };
        let _ = writeln!(
            o,
            "  opened → all {} notified, ms     {}",
            self.providers,
            p(&self.opened_to_all_notified_ms)
        );
        let _ = writeln!(
            o,
            "  opened → first notified, ms       {}",
            p(&self.opened_to_first_notified_ms)
        );
        let _ = writeln!(
            o,
            "  referral POST → all notified, ms  {}",
            p(&self.post_to_all_notified_ms)
        );
        let _ = writeln!(
            o,
            "  bid POST, ms                      {}",
            p(&self.bid_post_ms)
        );
        let _ = writeln!(
            o,
            "  score PUT, ms                     {}",
            p(&self.score_put_ms)
        );
        let _ = writeln!(
            o,
            "  POST …/evaluate, ms               {}",
            p(&self.evaluate_endpoint_ms)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_in_process_evaluation_ranks_every_bid() {
        let (criteria, inputs, marks) = evaluation_inputs(20);
        let ev = evaluation::evaluate(&criteria, 20.0, &inputs, &marks);
        assert_eq!(ev.ranking.len(), 20);
        assert!(ev.complete && ev.gates_decided, "{ev:?}");
        let ranks: Vec<u32> = ev.ranking.iter().filter_map(|b| b.rank).collect();
        assert_eq!(ranks, (1..=20).collect::<Vec<u32>>());
        // Homes further away score less on location.
        let location = |i: usize| ev.bid(&format!("bid-{i:02}")).unwrap().scores[1].score;
        assert!(location(0) > location(19));
    }

    #[test]
    fn timing_reports_per_iteration_microseconds() {
        let t = time_fn(
            || std::thread::sleep(Duration::from_micros(200)),
            Duration::from_millis(5),
            Duration::from_millis(2),
            5,
        );
        assert!(t.min >= 200.0 && t.p50 < 5_000.0, "{t:?}");
        assert!(t.iterations_per_sample >= 1 && t.samples == 5);
    }
}
