//! The messages of competitions, referrals and vacancies: `{"type", "timestamp", "data"}`
//! with ids, codes, scores and links only, never a child's personal data.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use hub_events::{
    BiddingClosed, CompetitionAwarded, CompetitionClosed, CompetitionOpened, ReferralUpdated,
    Urgency, VacancyPublished,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CompetitionInfo, event_types::*};

/// A webhook message as the receiver gets it (the Standard Webhooks payload shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message<T> {
    /// The webhook event type, e.g. `competition.invited`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened (RFC 3339, UTC).
    pub timestamp: String,
    pub data: T,
}

/// `competition.invited`: the provider may bid. Ids, codes and a link only; the referral
/// itself (redacted) is read with the provider's token at `referral_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = InvitedHook)]
pub struct Invited {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub referral_version: u32,
    /// GSS code of the council.
    pub council: String,
    pub lot_id: Uuid,
    pub lot_name: String,
    pub urgency: Urgency,
    pub deadline: DateTime<Utc>,
    /// Non-identifying summary (placement type, age band, need codes).
    pub summary: String,
    pub referral_url: String,
}

/// `competition.awarded`: the provider won (or was directly awarded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = AwardedHook)]
pub struct Awarded {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub framework_id: Uuid,
    pub lot_id: Uuid,
    pub bid_id: Option<Uuid>,
    /// The awarded weekly rate in pence.
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    /// A direct award (an emergency), not a mini-competition's.
    pub direct: bool,
    /// The full referral, readable now the provider is awarded.
    pub referral_url: String,
}

/// One criterion of an unsuccessful bid, beside the winner's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = CriterionResultHook)]
pub struct CriterionResult {
    /// `location`, `best_match`, `compatibility`, `quality`, `price`, `service_offer`, …
    pub criterion: String,
    /// Weight out of 100 (0 for a pass/fail gate).
    pub weight: u32,
    /// A pass/fail gate: whether this bid passed.
    pub passed: Option<bool>,
    /// A scored criterion: this bid's weighted score in hundredths of a point (0 to weight × 100).
    pub score: Option<u32>,
    /// The winning bid's weighted score on the same criterion.
    pub winner_score: Option<u32>,
}

/// `competition.unsuccessful`: the provider bid but did not win, and why: its own price, its
/// scores beside the winner's per criterion, the totals, who won, and the reasons in words
/// (where the winning bid was better). Nothing of any other unsuccessful bid (its price or
/// its provider), nor the winner's price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = UnsuccessfulHook)]
pub struct Unsuccessful {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub lot_id: Uuid,
    /// This provider's own weekly price in pence, if it bid.
    pub weekly_price_pence: Option<i64>,
    /// The winner: its provider id and its name (as admitted to the lot).
    pub winner_provider_id: String,
    pub winner_name: Option<String>,
    /// This bid's weighted total in hundredths of a point (out of 10,000), if it passed the gates.
    pub total: Option<u32>,
    /// The winning bid's weighted total.
    pub winner_total: Option<u32>,
    pub scores: Vec<CriterionResult>,
    /// Why it was not successful, in words.
    pub reasons: Vec<String>,
}

/// `referral.updated`: a referral the provider was invited on has a new version. Codes and a
/// link only; the provider reads the version (redacted until awarded) with its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = ReferralUpdatedHook)]
pub struct ReferralUpdate {
    pub referral_id: Uuid,
    /// The new version.
    pub version: u32,
    /// The version the competition opened on (unknown for a direct award).
    pub invited_version: Option<u32>,
    pub council: String,
    /// The competition (or direct award) the provider is in.
    pub competition_id: Uuid,
    pub lot_id: Option<Uuid>,
    pub lot_name: Option<String>,
    pub urgency: Urgency,
    /// Where to read the new version: `…/v1/referrals/{id}?version={version}`.
    pub referral_url: String,
}

/// `competition.closed`: a competition the provider was invited to closed without an award.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = ClosedHook)]
pub struct Closed {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    /// The lot, when the competition's opening was seen.
    pub lot_id: Option<Uuid>,
    pub lot_name: Option<String>,
    /// Why it closed, as a code (`no_acceptable_bid`, `no_bids`, `need_changed`,
    /// `placed_elsewhere`, `referral_withdrawn`, `other`): the council's own words are never
    /// sent.
    pub reason: hub_events::CompetitionCloseReason,
    /// Words the commissioner wrote for the invited providers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message: Option<String>,
}

/// `vacancy.offered`: a partner council offers a vacancy (a bed in a home it holds a block
/// contract with) to the other councils of the partnerships they share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = VacancyOfferedHook)]
pub struct VacancyOffered {
    pub vacancy_id: Uuid,
    /// The provider whose home it is.
    pub provider_id: String,
    pub lot_id: Uuid,
    pub home_id: Option<Uuid>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    /// GSS code of the council offering the bed, and its name.
    pub offered_by: String,
    pub offered_by_name: String,
    /// Codes of the partnerships the offering council shares with the receiver.
    pub partnerships: Vec<String>,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn message<T: Serialize>(event_type: &str, at: DateTime<Utc>, data: T) -> String {
    serde_json::to_string(&Message {
        event_type: event_type.to_owned(),
        timestamp: rfc3339(at),
        data,
    })
    .expect("webhook messages always serialise")
}

/// The `competition.invited` body for a provider invited by `e`. `base_url` is the
/// platform's public base URL (no trailing slash).
pub fn invited_body(e: &CompetitionOpened, occurred_at: DateTime<Utc>, base_url: &str) -> String {
    message(
        INVITED,
        occurred_at,
        Invited {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            referral_version: e.referral_version,
            council: e.council.clone(),
            lot_id: e.lot_id,
            lot_name: e.lot_name.clone(),
            urgency: e.urgency,
            deadline: e.deadline,
            summary: e.summary.clone(),
            referral_url: join_url(base_url, &e.referral_path),
        },
    )
}

/// The `competition.awarded` body for the winner of `e`.
pub fn awarded_body(e: &CompetitionAwarded, occurred_at: DateTime<Utc>, base_url: &str) -> String {
    message(
        AWARDED,
        occurred_at,
        Awarded {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            framework_id: e.framework_id,
            lot_id: e.lot_id,
            bid_id: e.bid_id,
            weekly_rate_pence: e.weekly_rate_pence,
            start_date: e.start_date,
            direct: e.direct,
            referral_url: join_url(base_url, &format!("/v1/referrals/{}", e.referral_id)),
        },
    )
}

/// Who is told they were unsuccessful: every provider the award names as unsuccessful or
/// gives an outcome for, but the winner; each once, in order.
pub fn unsuccessful_providers(e: &CompetitionAwarded) -> Vec<&str> {
    let mut out: Vec<&str> = e
        .unsuccessful
        .iter()
        .map(String::as_str)
        .chain(e.outcomes.iter().map(|o| o.provider_id.as_str()))
        .filter(|p| *p != e.provider_id)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The `competition.unsuccessful` body for `provider`, which lost `e`: its own outcome (its
/// scores beside the winner's, and the reasons) and nothing about any other bid.
pub fn unsuccessful_body(
    e: &CompetitionAwarded,
    provider: &str,
    occurred_at: DateTime<Utc>,
) -> String {
    let outcome = e.outcomes.iter().find(|o| o.provider_id == provider);
    message(
        UNSUCCESSFUL,
        occurred_at,
        Unsuccessful {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            lot_id: e.lot_id,
            weekly_price_pence: outcome.and_then(|o| o.weekly_price_pence),
            winner_provider_id: e.provider_id.clone(),
            winner_name: outcome.and_then(|o| o.winner_name.clone()),
            total: outcome.and_then(|o| o.total),
            winner_total: outcome.and_then(|o| o.winner_total),
            scores: outcome
                .map(|o| {
                    o.scores
                        .iter()
                        .map(|s| CriterionResult {
                            criterion: s.criterion.clone(),
                            weight: s.weight,
                            passed: s.passed,
                            score: s.score,
                            winner_score: s.winner_score,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            reasons: outcome.map(|o| o.reasons.clone()).unwrap_or_default(),
        },
    )
}

/// The `referral.updated` body for a provider invited to `c`.
pub fn referral_updated_body(
    e: &ReferralUpdated,
    c: &CompetitionInfo,
    occurred_at: DateTime<Utc>,
    base_url: &str,
) -> String {
    message(
        REFERRAL_UPDATED,
        occurred_at,
        ReferralUpdate {
            referral_id: e.referral_id,
            version: e.version,
            invited_version: c.referral_version,
            council: e.council.clone(),
            competition_id: c.competition_id,
            lot_id: c.lot_id,
            lot_name: c.lot_name.clone(),
            urgency: e.urgency,
            referral_url: join_url(
                base_url,
                &format!("/v1/referrals/{}?version={}", e.referral_id, e.version),
            ),
        },
    )
}

/// The `competition.closed` body for a provider invited to the competition `e` closed.
pub fn closed_body(
    e: &CompetitionClosed,
    lot: Option<(Uuid, String)>,
    occurred_at: DateTime<Utc>,
) -> String {
    let (lot_id, lot_name) = lot.unzip();
    message(
        CLOSED,
        occurred_at,
        Closed {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            lot_id,
            lot_name,
            reason: e.reason,
            provider_message: e.provider_message.clone(),
        },
    )
}

/// `competition.bidding_closed`: the commissioner closed bidding before the deadline in a
/// competition the provider was invited to. The reason is a code; no bid or decline is
/// taken any more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BiddingClosedHook {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    /// `placement_needed_sooner`, `court_timescale` or `other`.
    pub reason: String,
    /// The deadline the providers had been given.
    pub deadline: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
}

/// The `competition.bidding_closed` body for a provider invited to `e`'s competition.
pub fn bidding_closed_body(e: &BiddingClosed, occurred_at: DateTime<Utc>) -> String {
    message(
        BIDDING_CLOSED,
        occurred_at,
        BiddingClosedHook {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            reason: e.reason.clone(),
            deadline: e.deadline,
            closed_at: e.closed_at,
        },
    )
}

/// The councils told of a vacancy `offered_by` offers: every other member of the partnerships
/// it belongs to, each with the codes of the partnerships they share, in order.
pub fn vacancy_recipients(offered_by: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for p in hub_platform::directory::partnerships_of(offered_by) {
        for member in p.members.iter().filter(|m| **m != offered_by) {
            match out.iter_mut().find(|(c, _)| c == member) {
                Some((_, shared)) => shared.push(p.code),
                None => out.push((member, vec![p.code])),
            }
        }
    }
    out.sort_by_key(|(c, _)| *c);
    out
}

/// The `vacancy.offered` body for `council`, which shares `partnerships` with the offerer.
pub fn vacancy_offered_body(
    e: &VacancyPublished,
    offered_by: &str,
    partnerships: &[&str],
    occurred_at: DateTime<Utc>,
) -> String {
    message(
        VACANCY_OFFERED,
        occurred_at,
        VacancyOffered {
            vacancy_id: e.vacancy_id,
            provider_id: e.provider_id.clone(),
            lot_id: e.lot_id,
            home_id: e.home_id,
            postcode_district: e.postcode_district.clone(),
            available_from: e.available_from,
            expires_on: e.expires_on,
            offered_by: offered_by.to_owned(),
            offered_by_name: council_name(offered_by),
            partnerships: partnerships.iter().map(|p| (*p).to_owned()).collect(),
        },
    )
}

/// A council's name by its GSS code (empty if the directory does not know it).
pub(super) fn council_name(code: &str) -> String {
    hub_platform::directory::council(code)
        .map(|c| c.name.to_owned())
        .unwrap_or_default()
}

pub(super) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// A webhook to send: (receiving organisation, webhook type, body).
pub type Webhook = (String, &'static str, String);

/// An event whose webhooks follow from the event alone (nothing stored is needed): who hears
/// of it, under which webhook type, with which body, in order.
pub trait Webhooks {
    fn webhooks(&self, at: DateTime<Utc>, base_url: &str) -> Vec<Webhook>;
}

/// The webhook `kind` with `data`, for an event that happened `at`, to each of `orgs`.
pub(super) fn webhooks_to<T: Serialize>(
    orgs: &[&str],
    kind: &'static str,
    at: DateTime<Utc>,
    data: T,
) -> Vec<Webhook> {
    let body = message(kind, at, data);
    orgs.iter()
        .map(|o| ((*o).to_owned(), kind, body.clone()))
        .collect()
}

/// Every invited provider, each once.
impl Webhooks for BiddingClosed {
    fn webhooks(&self, at: DateTime<Utc>, _: &str) -> Vec<Webhook> {
        let body = bidding_closed_body(self, at);
        self.invited
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|p| (p.clone(), BIDDING_CLOSED, body.clone()))
            .collect()
    }
}

/// Every other member council of the offering council's partnerships (nobody for a vacancy
/// no council offers).
impl Webhooks for VacancyPublished {
    fn webhooks(&self, at: DateTime<Utc>, _: &str) -> Vec<Webhook> {
        let Some(by) = &self.offered_by else {
            return Vec::new();
        };
        vacancy_recipients(by)
            .into_iter()
            .map(|(council, shared)| {
                let body = vacancy_offered_body(self, by, &shared, at);
                (council.to_owned(), VACANCY_OFFERED, body)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invited_message_carries_ids_codes_and_a_link() {
        let e = CompetitionOpened {
            competition_id: Uuid::now_v7(),
            referral_id: Uuid::now_v7(),
            referral_version: 2,
            council: "E08000014".into(),
            framework_id: Uuid::now_v7(),
            lot_id: Uuid::now_v7(),
            lot_name: "Residential".into(),
            urgency: Urgency::Urgent,
            deadline: "2026-03-01T12:00:00Z".parse().unwrap(),
            invited: vec!["prov-a".into()],
            summary: "residential, 11-15, emotional_behavioural".into(),
            referral_path: "/v1/referrals/abc".into(),
        };
        let at: DateTime<Utc> = "2026-02-27T09:30:00.25Z".parse().unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&invited_body(&e, at, "https://hub.example/")).unwrap();
        assert_eq!(body["type"], INVITED);
        assert_eq!(body["timestamp"], "2026-02-27T09:30:00.250Z");
        assert_eq!(
            body["data"]["referral_url"],
            "https://hub.example/v1/referrals/abc"
        );
        assert_eq!(body["data"]["urgency"], "urgent");
        assert_eq!(body["data"]["deadline"], "2026-03-01T12:00:00Z");
        let keys: Vec<&String> = body["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 10, "{keys:?}");
    }

    fn award() -> CompetitionAwarded {
        use hub_events::{BidOutcome, CriterionScore};
        let score = |criterion: &str, weight, score, winner| CriterionScore {
            criterion: criterion.into(),
            weight,
            passed: None,
            score: Some(score),
            winner_score: Some(winner),
        };
        CompetitionAwarded {
            competition_id: Uuid::now_v7(),
            referral_id: Uuid::now_v7(),
            council: "E08000014".into(),
            framework_id: Uuid::now_v7(),
            lot_id: Uuid::now_v7(),
            provider_id: "prov-win".into(),
            bid_id: Some(Uuid::now_v7()),
            weekly_rate_pence: 450_000,
            start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            unsuccessful: vec!["prov-b".into(), "prov-win".into(), "prov-a".into()],
            awarded_by: "jo".into(),
            direct: false,
            outcomes: vec![
                BidOutcome {
                    provider_id: "prov-a".into(),
                    total: Some(7_150),
                    winner_total: Some(8_400),
                    scores: vec![
                        CriterionScore {
                            criterion: "quality".into(),
                            weight: 0,
                            passed: Some(true),
                            score: None,
                            winner_score: None,
                        },
                        score("price", 60, 4_650, 6_000),
                        score("location", 40, 2_500, 2_400),
                    ],
                    reasons: vec!["a higher price than the winning bid".into()],
                    weekly_price_pence: Some(380_000),
                    winner_name: Some("Winning Homes".into()),
                },
                BidOutcome {
                    provider_id: "prov-c".into(),
                    total: None,
                    winner_total: Some(8_400),
                    scores: vec![],
                    reasons: vec!["failed the quality gate".into()],
                    weekly_price_pence: Some(310_000),
                    winner_name: Some("Winning Homes".into()),
                },
            ],
        }
    }

    #[test]
    fn the_unsuccessful_are_told_their_own_scores_beside_the_winners() {
        let e = award();
        assert_eq!(unsuccessful_providers(&e), ["prov-a", "prov-b", "prov-c"]);
        let at: DateTime<Utc> = "2026-11-01T10:00:00Z".parse().unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&unsuccessful_body(&e, "prov-a", at)).unwrap();
        assert_eq!(body["type"], UNSUCCESSFUL);
        let d = &body["data"];
        assert_eq!(
            (d["total"].as_u64(), d["winner_total"].as_u64()),
            (Some(7_150), Some(8_400))
        );
        assert_eq!(d["scores"][0]["passed"], true);
        assert_eq!(d["scores"][1]["criterion"], "price");
        assert_eq!(
            (
                d["scores"][1]["score"].as_u64(),
                d["scores"][1]["winner_score"].as_u64()
            ),
            (Some(4_650), Some(6_000))
        );
        assert_eq!(d["reasons"][0], "a higher price than the winning bid");
        // Its own price, and who won; not the winner's price, nor anything of another loser.
        assert_eq!(d["weekly_price_pence"], 380_000);
        assert_eq!(
            (d["winner_provider_id"].as_str(), d["winner_name"].as_str()),
            (Some("prov-win"), Some("Winning Homes"))
        );
        let text = body.to_string();
        assert!(
            !text.contains("450000") && !text.contains("prov-c") && !text.contains("310000"),
            "nothing about the winner's price, nor another loser: {text}"
        );
        // A provider named unsuccessful without an outcome is still told, without scores.
        let b: serde_json::Value =
            serde_json::from_str(&unsuccessful_body(&e, "prov-b", at)).unwrap();
        assert_eq!(b["data"]["scores"], serde_json::json!([]));
        assert_eq!(b["data"]["total"], serde_json::Value::Null);
    }

    #[test]
    fn the_referral_updated_message_links_the_new_version() {
        let e = ReferralUpdated {
            referral_id: Uuid::now_v7(),
            version: 3,
            council: "E08000014".into(),
            urgency: Urgency::Emergency,
            needs: vec!["risk_missing".into()],
        };
        let c = CompetitionInfo {
            competition_id: Uuid::now_v7(),
            lot_id: Some(Uuid::now_v7()),
            lot_name: Some("Residential".into()),
            referral_version: Some(1),
        };
        assert!(c.is_news(2) && !c.is_news(1));
        let at: DateTime<Utc> = "2026-11-01T10:00:00Z".parse().unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&referral_updated_body(&e, &c, at, "https://hub.example/"))
                .unwrap();
        assert_eq!(body["type"], REFERRAL_UPDATED);
        let d = &body["data"];
        assert_eq!(
            d["referral_url"],
            format!(
                "https://hub.example/v1/referrals/{}?version=3",
                e.referral_id
            )
        );
        assert_eq!(
            (d["version"].as_u64(), d["invited_version"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(
            (d["lot_name"].as_str(), d["urgency"].as_str()),
            (Some("Residential"), Some("emergency"))
        );
    }

    #[test]
    fn vacancies_go_to_the_other_councils_of_every_shared_partnership() {
        use hub_platform::directory::*;
        let got = vacancy_recipients(SEFTON);
        // Sefton is in AIM (Liverpool, Knowsley, Wirral) and the LCR PPA (Halton, Knowsley,
        // Liverpool, St Helens, Wirral).
        assert_eq!(
            got,
            vec![
                (HALTON, vec!["LCR-PPA"]),
                (KNOWSLEY, vec!["AIM", "LCR-PPA"]),
                (LIVERPOOL, vec!["AIM", "LCR-PPA"]),
                (ST_HELENS, vec!["LCR-PPA"]),
                (WIRRAL, vec!["AIM", "LCR-PPA"]),
            ]
        );
        assert!(vacancy_recipients("prov-a").is_empty());
        assert_eq!(vacancy_recipients(DERBY).len(), 3);
    }
}
